/* SPDX-License-Identifier: MIT */
/* Compute kernels: each does a fixed amount of work and returns a checksum. */
#ifndef BENCH_KERNELS_H
#define BENCH_KERNELS_H

#include <stdint.h>

/*
 * A kernel runs its whole workload from scratch on every call (it fills its
 * own inputs) and returns a checksum of what it computed, so repeated calls
 * return the same value and the work cannot be optimised away. The same
 * object files are linked into the guest kernel and the native program.
 */
struct bench_kernel {
    const char *name;
    uint32_t (*run)(void);
};

extern const struct bench_kernel bench_kernels[];
extern const unsigned bench_kernel_count;

uint32_t bench_crc32(void);    /* table-driven CRC-32 over a buffer */
uint32_t bench_sieve(void);    /* Eratosthenes' sieve, byte per number */
uint32_t bench_qsort(void);    /* quicksort of pseudo-random ints */
uint32_t bench_fib(void);      /* naive recursive Fibonacci: calls, returns */
uint32_t bench_memloops(void); /* memcpy/memset/strlen/memcmp as C loops */
uint32_t bench_repstr(void);   /* rep movsd / rep stosd */
uint32_t bench_matmul_x87(void); /* double matrix multiply on the x87 */
uint32_t bench_sse2(void);       /* daxpy and dot product, SSE2 packed */

/* A pseudo-random sequence shared by the kernels (Numerical Recipes LCG). */
static inline uint32_t bench_lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state;
}

/* Fold a 32-bit value into a running checksum: one FNV-style xor-multiply
 * step, cheap next to the work it summarises. */
static inline uint32_t bench_mix(uint32_t sum, uint32_t v)
{
    return (sum ^ v) * 0x01000193u;
}

#endif
