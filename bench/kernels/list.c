/* SPDX-License-Identifier: MIT */
/* The kernels in the order they run and print. */
#include "kernels.h"

const struct bench_kernel bench_kernels[] = {
    {"crc32", bench_crc32},
    {"sieve", bench_sieve},
    {"qsort", bench_qsort},
    {"fib", bench_fib},
    {"memloops", bench_memloops},
    {"repstr", bench_repstr},
    {"matmul_x87", bench_matmul_x87},
    {"sse2", bench_sse2},
};

const unsigned bench_kernel_count =
    sizeof(bench_kernels) / sizeof(bench_kernels[0]);
