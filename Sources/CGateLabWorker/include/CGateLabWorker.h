// The helper thread of the split step: one thread that polls for work between the short
// parallel sections of a step, and the sizes below which work is not split.
#include "gatelab_worker.h"
#include "gatelab_split.h"
