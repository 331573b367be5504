#ifndef GATELAB_STEPPRODUCT_H
#define GATELAB_STEPPRODUCT_H
// C = A·B (accumulate: C += A·B) in float, row-major, A m × k, B k × n, read in place
// (no packing); each element an fma chain over p ascending from 0 (see stepproduct.c).

/// The AVX-512 tiles where the CPU has them, else the scalar loop (same bits).
void gatelab_sgemm_kn(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                      float *c, long ldc, int accumulate);
/// The scalar reference loop (for tests).
void gatelab_sgemm_kn_scalar(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                             float *c, long ldc, int accumulate);
/// 1 when the AVX-512 tiles run (the engine then uses this product for its float32 steps).
int gatelab_sgemm_kn_available(void);
/// Forbids (0) or allows (1) the AVX-512 tiles: for tests.
void gatelab_sgemm_kn_allow(int allow);
#endif
