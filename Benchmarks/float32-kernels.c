// Kernel-level float32 against float64 (issue #18): OpenBLAS sgemm against dgemm at the step
// shapes of Benchmarks/configs.json, and fastmath.c's σ loop in float against double. One BLAS
// thread, best of 5 rounds, the two precisions timed alternately in each round. Not a
// `gatelab bench` number: no float32 engine runs end to end yet (Notes/float32.md).
//
//   clang -O2 -ISources/CGateLabFastMath/include Benchmarks/float32-kernels.c Sources/CGateLabFastMath/fastmath.c \
//         -lopenblas -lm -o /tmp/float32-kernels && /tmp/float32-kernels
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <gsl/gsl_cblas.h>
#include "gatelab_fastmath.h"
void openblas_set_num_threads(int);
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(void){
  openblas_set_num_threads(1);
  // m × n × k of C = A·Bᵀ: adding-lstm's fused recurrent product, wide-lstm's, long-lstm's, probe-gru's.
  int shapes[][3]={{32,512,128},{64,1024,256},{8,256,64},{1,96,32}};
  for(int s=0;s<4;s++){int m=shapes[s][0],n=shapes[s][1],k=shapes[s][2];
    double *ad=malloc(8*m*k),*bd=malloc(8*n*k),*cd=malloc(8*m*n); float *af=malloc(4*m*k),*bf=malloc(4*n*k),*cf=malloc(4*m*n);
    for(int i=0;i<m*k;i++){ad[i]=af[i]=(i%17)/17.0-.5;} for(int i=0;i<n*k;i++){bd[i]=bf[i]=(i%13)/13.0-.5;}
    int reps=(int)(2e8/(2.0*m*n*k+1)); if(reps<20)reps=20; if(reps>200000)reps=200000;
    double best_d=1e9,best_f=1e9;
    for(int round=0;round<5;round++){
      double t0=now(); for(int r=0;r<reps;r++) cblas_dgemm(CblasRowMajor,CblasNoTrans,CblasTrans,m,n,k,1,ad,k,bd,k,0,cd,n); double td=(now()-t0)/reps;
      t0=now(); for(int r=0;r<reps;r++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,m,n,k,1,af,k,bf,k,0,cf,n); double tf=(now()-t0)/reps;
      if(td<best_d)best_d=td; if(tf<best_f)best_f=tf;}
    printf("gemm m=%d n=%d k=%d: dgemm %.2f us, sgemm %.2f us, ratio %.2f\n",m,n,k,best_d*1e6,best_f*1e6,best_d/best_f);
  }
  int n=32*512; double *xd=malloc(8*n),*yd=malloc(8*n); float *xf=malloc(4*n),*yf=malloc(4*n);
  for(int i=0;i<n;i++){xd[i]=xf[i]=(i%101)/20.0-2.5;}
  double bd_=1e9,bf_=1e9;
  for(int round=0;round<5;round++){
    double t0=now(); for(int r=0;r<2000;r++) gatelab_sigmoid_array(xd,yd,n,1); double td=(now()-t0)/2000;
    t0=now(); for(int r=0;r<2000;r++) gatelab_sigmoidf_array(xf,yf,n,1); double tf=(now()-t0)/2000;
    if(td<bd_)bd_=td; if(tf<bf_)bf_=tf;}
  printf("sigmoid over %d: double %.2f us, float %.2f us, ratio %.2f (wide=%d)\n",n,bd_*1e6,bf_*1e6,bd_/bf_,gatelab_fastmath_wide());
}
