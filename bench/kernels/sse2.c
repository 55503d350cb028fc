/* SPDX-License-Identifier: MIT */
/* sse2: daxpy and dot product on doubles with SSE2 packed instructions. */
#include <emmintrin.h>

#include "kernels.h"

/*
 * Built with -msse2 -mfpmath=sse, so the scalar code around the loops is
 * SSE2 too. The guest enables SSE (CR0.MP, CR4.OSFXSR) before any kernel.
 */
#define VEC_N      4096 /* doubles per vector: 32 KiB, in L1/L2 */
#define VEC_PASSES 40000

static double vec_x[VEC_N] __attribute__((aligned(16)));
static double vec_y[VEC_N] __attribute__((aligned(16)));

static void vec_fill(double *v, uint32_t seed)
{
    for (int i = 0; i < VEC_N; i++)
        v[i] = (double)(int32_t)(bench_lcg(&seed) >> 16) / 32768.0 - 1.0;
}

/* y += alpha * x, two doubles at a time. */
static void daxpy(double alpha, const double *x, double *y)
{
    __m128d a = _mm_set1_pd(alpha);

    for (int i = 0; i < VEC_N; i += 2) {
        __m128d p = _mm_mul_pd(a, _mm_load_pd(x + i));
        _mm_store_pd(y + i, _mm_add_pd(_mm_load_pd(y + i), p));
    }
}

/* x . y with two packed accumulators, to overlap the add latency. */
static double ddot(const double *x, const double *y)
{
    __m128d s0 = _mm_setzero_pd(), s1 = _mm_setzero_pd();

    for (int i = 0; i < VEC_N; i += 4) {
        s0 = _mm_add_pd(s0, _mm_mul_pd(_mm_load_pd(x + i), _mm_load_pd(y + i)));
        s1 = _mm_add_pd(s1, _mm_mul_pd(_mm_load_pd(x + i + 2),
                                       _mm_load_pd(y + i + 2)));
    }
    s0 = _mm_add_pd(s0, s1);
    return _mm_cvtsd_f64(_mm_add_sd(s0, _mm_unpackhi_pd(s0, s0)));
}

/* The bits of a double folded to 32, through the integer SSE2 unit. */
static uint32_t double_bits(double d)
{
    __m128i v = _mm_castpd_si128(_mm_set_sd(d));
    return (uint32_t)_mm_cvtsi128_si32(
        _mm_xor_si128(v, _mm_srli_epi64(v, 32)));
}

uint32_t bench_sse2(void)
{
    uint32_t sum = 0;

    vec_fill(vec_x, 3);
    vec_fill(vec_y, 5);
    for (int pass = 0; pass < VEC_PASSES; pass++) {
        /* +0.5 then -0.5: y stays bounded; rounding still changes it. */
        daxpy(pass & 1 ? -0.5 : 0.5, vec_x, vec_y);
        sum = bench_mix(sum, double_bits(ddot(vec_x, vec_y)));
    }
    return sum;
}
