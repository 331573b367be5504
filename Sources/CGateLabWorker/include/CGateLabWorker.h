// The helper thread of the split step: one thread that polls for work between the short
// parallel sections of a step.
#include "gatelab_worker.h"
