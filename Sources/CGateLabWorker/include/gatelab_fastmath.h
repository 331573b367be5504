#ifndef GATELAB_FASTMATH_H
#define GATELAB_FASTMATH_H
// exp, expm1, the logistic sigmoid and tanh, branch-free and vectorized (see fastmath.c).

double gatelab_exp(double x);
double gatelab_expm1(double x);
double gatelab_sigmoid(double x);
double gatelab_tanh(double x);

/// y[i] = f(x[i]) for n elements; x and y must not overlap.
void gatelab_sigmoid_array(const double *x, double *y, long n);
void gatelab_tanh_array(const double *x, double *y, long n);
/// y[i] = f(y[i]).
void gatelab_sigmoid_inplace(double *y, long n);
void gatelab_tanh_inplace(double *y, long n);

/// The same in single precision (x clamped to [−87, 88] inside exp: see fastmath.c).
float gatelab_expf(float x);
float gatelab_expm1f(float x);
float gatelab_sigmoidf(float x);
float gatelab_tanhf(float x);
void gatelab_sigmoidf_array(const float *x, float *y, long n);
void gatelab_tanhf_array(const float *x, float *y, long n);
void gatelab_sigmoidf_inplace(float *y, long n);
void gatelab_tanhf_inplace(float *y, long n);

/// Which loops run: 1 = AVX2 (4 doubles a step), 0 = baseline SSE2 (2 a step). Both give the
/// same bits: every operation is the same IEEE operation, no contraction into FMA.
int gatelab_fastmath_wide(void);
/// Forces the baseline loops (0) or allows the AVX2 ones where the CPU has them (1): for tests.
void gatelab_fastmath_allow_wide(int allow);
#endif
