// The float32 recurrent step's matrix products without per-call packing (see stepproduct.c).
#include "gatelab_stepproduct.h"
