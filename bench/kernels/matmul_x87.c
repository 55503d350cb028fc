/* SPDX-License-Identifier: MIT */
/* matmul_x87: double-precision matrix multiply on the x87 FPU. */
#include "kernels.h"

/*
 * Built with -mfpmath=387 (and no SSE): every flop is an x87 instruction
 * on the register stack (fld, fmul, faddp, fstp), with int-to-double
 * conversions through fild.
 */
#define MAT_N 320

static double mat_a[MAT_N][MAT_N];
static double mat_bt[MAT_N][MAT_N]; /* B transposed: rows are B's columns */
static double mat_c[MAT_N][MAT_N];

static void mat_fill(double m[MAT_N][MAT_N], uint32_t seed)
{
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++)
            m[i][j] = (double)(int32_t)(bench_lcg(&seed) >> 16) / 32768.0 - 1.0;
}

/* The bits of a double folded to 32, so the checksum sees every bit. */
static uint32_t double_bits(double d)
{
    union {
        double d;
        uint32_t w[2];
    } u = {.d = d};
    return u.w[0] ^ u.w[1];
}

uint32_t bench_matmul_x87(void)
{
    uint32_t sum = 0;

    mat_fill(mat_a, 7);
    mat_fill(mat_bt, 11);
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            double s = 0.0;
            for (int k = 0; k < MAT_N; k++)
                s += mat_a[i][k] * mat_bt[j][k];
            mat_c[i][j] = s;
        }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++)
            sum = bench_mix(sum, double_bits(mat_c[i][j]));
    return sum;
}
