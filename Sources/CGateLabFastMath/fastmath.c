// exp, expm1, the logistic sigmoid and tanh for whole arrays, branch-free so that the
// compiler vectorizes the loops, which libm's scalar calls do not (see Notes/performance.md).
//
// Method (Cody & Waite range reduction, as in every libm): x = k·ln2 + r with |r| ≤ ln2/2,
// e^r − 1 by its Taylor series to r¹³ (truncation below 1e-17 relative; Estrin's scheme),
// then 2^k built from the exponent bits. Within a few units in the last place of libm over
// the whole range (tested); results below 2^-1022 are flushed towards e^-708 (σ and tanh
// never need them).
//
// The loops are compiled twice: for baseline x86-64 (SSE2, two doubles at a time) and for
// AVX2 (four), chosen once at run time. No multiply-add is contracted into an FMA (the pragma
// below), so both give the same bits, and the same as the scalar functions.
#include "gatelab_fastmath.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF
#ifdef __clang__
#pragma clang fp contract(off)
#endif

static const double log2e = 1.4426950408889634;
static const double ln2Hi = 6.93147180369123816490e-01;
static const double ln2Lo = 1.90821492927058770002e-10;
static const double shifter = 6755399441055744.0;   // 1.5 · 2^52

// Swift's min and max (NaN in x passes through), spelled out so the loops keep that meaning.
static inline double maxd(double x, double y) { return y >= x ? y : x; }
static inline double mind(double x, double y) { return y < x ? y : x; }

/// (2^k, e^r − 1) for x = k·ln2 + r, x clamped to [−708, 709].
static inline double reduce(double x, double *scale) {
    double xc = mind(maxd(x, -708.0), 709.0);
    // Round to the nearest integer by adding and subtracting 1.5·2^52 (exact for |x·log2e| <
    // 2^51), instead of a call to rint that would stop vectorization.
    double shifted = xc * log2e + shifter;
    double k = shifted - shifter;
    double r = (xc - k * ln2Hi) - k * ln2Lo;
    // e^r − 1 = r + r²·P(r), P(r) = 1/2! + r/3! + … + r¹¹/13!, by Estrin's scheme.
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double a0 = 1.0 / 2 + r * (1.0 / 6), a1 = 1.0 / 24 + r * (1.0 / 120);
    double a2 = 1.0 / 720 + r * (1.0 / 5040), a3 = 1.0 / 40320 + r * (1.0 / 362880);
    double a4 = 1.0 / 3628800 + r * (1.0 / 39916800), a5 = 1.0 / 479001600 + r * (1.0 / 6227020800);
    double b0 = a0 + r2 * a1, b1 = a2 + r2 * a3, b2 = a4 + r2 * a5;
    double p = r + r2 * ((b0 + r4 * b1) + r8 * b2);
    // 2^k from the exponent bits: `shifted` holds k in its low mantissa bits.
    uint64_t bits;
    memcpy(&bits, &shifted, 8);
    bits = (bits + 1023) << 52;
    memcpy(scale, &bits, 8);
    return p;
}

static inline double exp_(double x) { double s, q = reduce(x, &s); return s + s * q; }
static inline double expm1_(double x) { double s, q = reduce(x, &s); return s * q + (s - 1); }
/// σ(x) = 1 / (1 + e^−x), from e^−|x| so nothing overflows.
static inline double sigmoid_(double x) { double e = exp_(-fabs(x)), s = 1 / (1 + e); return x >= 0 ? s : e * s; }
/// tanh(x) = −expm1(−2|x|) / (2 + expm1(−2|x|)), with the sign of x.
static inline double tanh_(double x) { double y = expm1_(-2 * fabs(x)), t = -y / (2 + y); return x < 0 ? -t : t; }

double gatelab_exp(double x) { return exp_(x); }
double gatelab_expm1(double x) { return expm1_(x); }
double gatelab_sigmoid(double x) { return sigmoid_(x); }
double gatelab_tanh(double x) { return tanh_(x); }

#define LOOPS(suffix, attributes)                                                                      \
    attributes static void sigmoid_array_##suffix(const double *restrict x, double *restrict y, long n) { \
        for (long i = 0; i < n; i++) y[i] = sigmoid_(x[i]);                                             \
    }                                                                                                  \
    attributes static void tanh_array_##suffix(const double *restrict x, double *restrict y, long n) {    \
        for (long i = 0; i < n; i++) y[i] = tanh_(x[i]);                                                \
    }                                                                                                  \
    attributes static void sigmoid_inplace_##suffix(double *y, long n) {                               \
        for (long i = 0; i < n; i++) y[i] = sigmoid_(y[i]);                                             \
    }                                                                                                  \
    attributes static void tanh_inplace_##suffix(double *y, long n) {                                  \
        for (long i = 0; i < n; i++) y[i] = tanh_(y[i]);                                                \
    }

LOOPS(base, )
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
LOOPS(avx2, __attribute__((target("avx2"))))
static int wide = -1;   // -1: not decided yet
int gatelab_fastmath_wide(void) {
    if (wide < 0) {
        __builtin_cpu_init();
        wide = __builtin_cpu_supports("avx2");
    }
    return wide;
}
// The AVX2 loops when asked for (`allowWide`) and the CPU has them, else the baseline ones.
#define DISPATCH(name, ...) (allowWide && gatelab_fastmath_wide() ? name##_avx2(__VA_ARGS__) : name##_base(__VA_ARGS__))
#else
int gatelab_fastmath_wide(void) { return 0; }
#define DISPATCH(name, ...) ((void)allowWide, name##_base(__VA_ARGS__))
#endif

void gatelab_sigmoid_array(const double *x, double *y, long n, int allowWide) { DISPATCH(sigmoid_array, x, y, n); }
void gatelab_tanh_array(const double *x, double *y, long n, int allowWide) { DISPATCH(tanh_array, x, y, n); }
void gatelab_sigmoid_inplace(double *y, long n, int allowWide) { DISPATCH(sigmoid_inplace, y, n); }
void gatelab_tanh_inplace(double *y, long n, int allowWide) { DISPATCH(tanh_inplace, y, n); }

// ---------------------------------------------------------------------------------------------
// Single precision: the same method in float, for a float32 engine (issue #18). x = k·ln2 + r
// with ln2 split in two floats (Cody & Waite), e^r − 1 by its Taylor series to r⁸ (truncation
// below 2e-9 relative, under float's 6e-8 rounding), 2^k from the exponent bits. x is clamped
// to [−87, 88] so that 2^k stays a normal float; σ and tanh never need more. The AVX2 loops run
// eight floats a step, the baseline ones four; no contraction into FMA, so both give the same
// bits, and the same as the scalar functions.

static const float log2ef = 1.44269502f;
static const float ln2Hif = 0.693145751953125f;        // 0x3f317200: k·ln2Hi is exact for |k| < 2^9
static const float ln2Lof = 1.428606765330187e-06f;
static const float shifterf = 12582912.0f;               // 1.5 · 2^23

static inline float maxf_(float x, float y) { return y >= x ? y : x; }
static inline float minf_(float x, float y) { return y < x ? y : x; }

/// (2^k, e^r − 1) for x = k·ln2 + r, x clamped to [−87, 88].
static inline float reducef(float x, float *scale) {
    float xc = minf_(maxf_(x, -87.0f), 88.0f);
    float shifted = xc * log2ef + shifterf;
    float k = shifted - shifterf;
    float r = (xc - k * ln2Hif) - k * ln2Lof;
    // e^r − 1 = r + r²·P(r), P(r) = 1/2! + r/3! + … + r⁶/8!, by Estrin's scheme.
    float r2 = r * r, r4 = r2 * r2;
    float a0 = 1.0f / 2 + r * (1.0f / 6), a1 = 1.0f / 24 + r * (1.0f / 120);
    float a2 = 1.0f / 720 + r * (1.0f / 5040), a3 = 1.0f / 40320;
    float p = r + r2 * ((a0 + r2 * a1) + r4 * (a2 + r2 * a3));
    uint32_t bits;
    memcpy(&bits, &shifted, 4);
    bits = (bits + 127) << 23;
    memcpy(scale, &bits, 4);
    return p;
}

static inline float expf_(float x) { float s, q = reducef(x, &s); return s + s * q; }
static inline float expm1f_(float x) { float s, q = reducef(x, &s); return s * q + (s - 1); }
static inline float sigmoidf_(float x) { float e = expf_(-fabsf(x)), s = 1 / (1 + e); return x >= 0 ? s : e * s; }
static inline float tanhf_(float x) { float y = expm1f_(-2 * fabsf(x)), t = -y / (2 + y); return x < 0 ? -t : t; }

float gatelab_expf(float x) { return expf_(x); }
float gatelab_expm1f(float x) { return expm1f_(x); }
float gatelab_sigmoidf(float x) { return sigmoidf_(x); }
float gatelab_tanhf(float x) { return tanhf_(x); }

#define LOOPSF(suffix, attributes)                                                                     \
    attributes static void sigmoidf_array_##suffix(const float *restrict x, float *restrict y, long n) { \
        for (long i = 0; i < n; i++) y[i] = sigmoidf_(x[i]);                                            \
    }                                                                                                  \
    attributes static void tanhf_array_##suffix(const float *restrict x, float *restrict y, long n) {    \
        for (long i = 0; i < n; i++) y[i] = tanhf_(x[i]);                                               \
    }                                                                                                  \
    attributes static void sigmoidf_inplace_##suffix(float *y, long n) {                               \
        for (long i = 0; i < n; i++) y[i] = sigmoidf_(y[i]);                                            \
    }                                                                                                  \
    attributes static void tanhf_inplace_##suffix(float *y, long n) {                                  \
        for (long i = 0; i < n; i++) y[i] = tanhf_(y[i]);                                               \
    }

LOOPSF(base, )
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
LOOPSF(avx2, __attribute__((target("avx2"))))
#endif

void gatelab_sigmoidf_array(const float *x, float *y, long n, int allowWide) { DISPATCH(sigmoidf_array, x, y, n); }
void gatelab_tanhf_array(const float *x, float *y, long n, int allowWide) { DISPATCH(tanhf_array, x, y, n); }
void gatelab_sigmoidf_inplace(float *y, long n, int allowWide) { DISPATCH(sigmoidf_inplace, y, n); }
void gatelab_tanhf_inplace(float *y, long n, int allowWide) { DISPATCH(tanhf_inplace, y, n); }
