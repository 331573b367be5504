// The split thresholds of each thread (see gatelab_split.h): 4 096 elements and 2^16
// multiply-adds by default, measured as where a hand-off to the helper starts to pay.
#include "gatelab_split.h"

_Thread_local gatelab_split_thresholds gatelab_split_current = {4096, 1L << 16};
