// The float32 recurrent step's matrix products without per-call packing (issue #18).
//
// A recurrent step multiplies a small batch (B rows) by the same weight matrix at every step:
// [i f g o] = h · Wᵀ forward, ∂h += G · W backward. OpenBLAS's sgemm repacks the weight
// operand into its panel layout at every call — a quarter of the product's time at B = 32,
// H = 128 (perf: sgemm_incopy/itcopy 8.5 % of a float32 training's samples against 34 % in
// the step products' kernel). Here the weight is read in place, row-major k × n (forward: the
// transposed copy FusedProducts keeps; backward: W itself), by an AVX-512 tile of 8 rows × 32
// columns held in 16 registers, each column block of B streamed once per 8 rows of A.
//
// Arithmetic of every element, whichever path computes it:
//     s = 0;  for p in 0 ..< k:  s = fma(a[i][p], b[p][j], s);   c[i][j] = s  (or c[i][j] + s)
// The vector tile, its masked edge and the scalar loop do exactly this (one rounding per fma,
// p ascending), so the result does not depend on the path, the tile position or a split of
// the columns over threads. Used only for float; float64 keeps OpenBLAS (its bits unchanged).
#include "gatelab_stepproduct.h"
#include <math.h>
#include <stddef.h>

#pragma STDC FP_CONTRACT OFF
#ifdef __clang__
#pragma clang fp contract(off)
#endif

/// The reference loop: every element as the header comment says (fmaf is one rounding).
void gatelab_sgemm_kn_scalar(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                             float *c, long ldc, int accumulate) {
    for (long i = 0; i < m; i++) {
        for (long j = 0; j < n; j++) {
            float s = 0;
            for (long p = 0; p < k; p++) s = fmaf(a[i * lda + p], b[p * ldb + j], s);
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

/// Rows `rows` ≤ 8 of A times columns `cols` ≤ 32 of B (masked loads and stores beyond them).
__attribute__((target("avx512f")))
static void tile(int rows, int cols, long k, const float *a, long lda, const float *b, long ldb,
                 float *c, long ldc, int accumulate) {
    __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    __m512 r0[8], r1[8];
    const float *ap[8];
    for (int i = 0; i < 8; i++) {
        r0[i] = _mm512_setzero_ps(); r1[i] = _mm512_setzero_ps();
        ap[i] = a + (i < rows ? i : 0) * lda;   // rows beyond A repeat row 0 and are not stored
    }
    for (long p = 0; p < k; p++) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, b + p * ldb), b1 = _mm512_maskz_loadu_ps(m1, b + p * ldb + 16);
        for (int i = 0; i < 8; i++) {
            __m512 x = _mm512_set1_ps(ap[i][p]);
            r0[i] = _mm512_fmadd_ps(x, b0, r0[i]);
            r1[i] = _mm512_fmadd_ps(x, b1, r1[i]);
        }
    }
    for (int i = 0; i < rows; i++) {
        float *d = c + i * ldc;
        if (accumulate) {
            r0[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, d), r0[i]);
            r1[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, d + 16), r1[i]);
        }
        _mm512_mask_storeu_ps(d, m0, r0[i]);
        _mm512_mask_storeu_ps(d + 16, m1, r1[i]);
    }
}

__attribute__((target("avx512f")))
static void sgemm_kn_avx512(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                            float *c, long ldc, int accumulate) {
    // Column blocks outside, row blocks inside: a block of B (k × 32) stays in L1 while the
    // rows of A pass over it.
    for (long j = 0; j < n; j += 32) {
        int cols = n - j < 32 ? (int)(n - j) : 32;
        for (long i = 0; i < m; i += 8) {
            int rows = m - i < 8 ? (int)(m - i) : 8;
            tile(rows, cols, k, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, accumulate);
        }
    }
}

static int available = -1;   // -1: not decided yet
static int allowed = 1;
int gatelab_sgemm_kn_available(void) {
    if (available < 0) {
        __builtin_cpu_init();
        available = allowed && __builtin_cpu_supports("avx512f");
    }
    return available;
}
void gatelab_sgemm_kn_allow(int allow) { allowed = allow; available = -1; }

void gatelab_sgemm_kn(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                      float *c, long ldc, int accumulate) {
    if (gatelab_sgemm_kn_available()) sgemm_kn_avx512(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    else gatelab_sgemm_kn_scalar(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}
#else
int gatelab_sgemm_kn_available(void) { return 0; }
void gatelab_sgemm_kn_allow(int allow) { (void)allow; }
void gatelab_sgemm_kn(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                      float *c, long ldc, int accumulate) {
    gatelab_sgemm_kn_scalar(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}
#endif
