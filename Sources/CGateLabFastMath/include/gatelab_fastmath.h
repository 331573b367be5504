#ifndef GATELAB_FASTMATH_H
#define GATELAB_FASTMATH_H
// exp, expm1, the logistic sigmoid and tanh, branch-free and vectorized (see fastmath.c).

double gatelab_exp(double x);
double gatelab_expm1(double x);
double gatelab_sigmoid(double x);
double gatelab_tanh(double x);

/// y[i] = f(x[i]) for n elements; x and y must not overlap. allowWide: 1 runs the AVX2 loops
/// where the CPU has them, 0 the baseline ones (the same bits either way).
void gatelab_sigmoid_array(const double *x, double *y, long n, int allowWide);
void gatelab_tanh_array(const double *x, double *y, long n, int allowWide);
/// y[i] = f(y[i]).
void gatelab_sigmoid_inplace(double *y, long n, int allowWide);
void gatelab_tanh_inplace(double *y, long n, int allowWide);

/// The same in single precision (x clamped to [−87, 88] inside exp: see fastmath.c).
float gatelab_expf(float x);
float gatelab_expm1f(float x);
float gatelab_sigmoidf(float x);
float gatelab_tanhf(float x);
void gatelab_sigmoidf_array(const float *x, float *y, long n, int allowWide);
void gatelab_tanhf_array(const float *x, float *y, long n, int allowWide);
void gatelab_sigmoidf_inplace(float *y, long n, int allowWide);
void gatelab_tanhf_inplace(float *y, long n, int allowWide);

/// Whether the CPU has the AVX2 loops (4 doubles a step; the baseline SSE2 ones take 2). Both
/// give the same bits: every operation is the same IEEE operation, no contraction into FMA.
int gatelab_fastmath_wide(void);
#endif
