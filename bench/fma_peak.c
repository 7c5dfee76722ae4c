/* This CPU's single-precision FMA peak, the ceiling docs/bench/speed.md compares GEMM rates with.
   gcc -O2 -mavx2 -mfma -pthread bench/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak 2
   Each thread runs 10 independent chains of 8-lane FMAs (enough to cover the FMA latency on two pipes). */
#include <immintrin.h>
#include <stdio.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#define ITERS 200000000L
static double secs(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void* run(void* arg){
  __m256 a[10]; __m256 b=_mm256_set1_ps(0.999999f), c=_mm256_set1_ps(1e-7f);
  for(int i=0;i<10;i++) a[i]=_mm256_set1_ps((float)i);
  for(long k=0;k<ITERS;k++){
    #pragma GCC unroll 10
    for(int i=0;i<10;i++) a[i]=_mm256_fmadd_ps(a[i],b,c);
  }
  float s=0; for(int i=0;i<10;i++){float o[8];_mm256_storeu_ps(o,a[i]);s+=o[0];}
  *(float*)arg=s; return 0;
}
int main(int argc,char**argv){
  int nt=argc>1?atoi(argv[1]):1; pthread_t th[8]; float r[8];
  double t0=secs(); for(int i=0;i<nt;i++) pthread_create(&th[i],0,run,&r[i]);
  for(int i=0;i<nt;i++) pthread_join(th[i],0); double t=secs()-t0;
  double flops=(double)nt*ITERS*10*8*2; printf("%d threads: %.1f GFLOP/s (%.3f s) %f\n",nt,flops/t/1e9,t,r[0]);
}
