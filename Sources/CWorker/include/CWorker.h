// The C side of the engine: the helper thread and the vectorized activations.
#include "gatelab_worker.h"
#include "gatelab_fastmath.h"
