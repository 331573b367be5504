// The C side of the engine: the helper thread, the vectorized activations and the float32
// step products.
#include "gatelab_worker.h"
#include "gatelab_fastmath.h"
#include "gatelab_stepproduct.h"
