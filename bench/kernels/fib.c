/* SPDX-License-Identifier: MIT */
/* fib: naive recursive Fibonacci, almost nothing but calls and returns. */
#include "kernels.h"

/* Read through a volatile so GCC cannot evaluate the recursion itself. */
static volatile int fib_n = 37;

/* noinline and noipa keep every level a real call, as written. */
__attribute__((noipa)) static uint32_t fib(int n)
{
    return n < 2 ? (uint32_t)n : fib(n - 1) + fib(n - 2);
}

uint32_t bench_fib(void)
{
    return fib(fib_n);
}
