// exp, expm1, the logistic sigmoid and tanh for whole arrays, vectorized (see fastmath.c).
#include "gatelab_fastmath.h"
