#ifndef GATELAB_CGSLBLAS_SHIM_H
#define GATELAB_CGSLBLAS_SHIM_H
// GSL's headers for what GateLab uses, and CBLAS through GSL's declarations
// (gsl_cblas.h). The symbols are resolved to OpenBLAS at link time: see module.modulemap.
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_bspline.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_complex.h>
#include <gsl/gsl_complex_math.h>
#include <gsl/gsl_cblas.h>

// OpenBLAS's own controls (declared here rather than including OpenBLAS's cblas.h,
// whose CBLAS enums clash with gsl_cblas.h's).
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);
char *openblas_get_config(void);
#endif
