/* SPDX-License-Identifier: MIT */
/* memloops: memset/memcpy/strlen/memcmp-style loops written in plain C. */
#include <stddef.h>

#include "kernels.h"

/*
 * This file is built with -fno-tree-loop-distribute-patterns (and
 * -ffreestanding), so GCC keeps these loops as loops instead of turning
 * them into calls to the C library: the loops themselves are measured.
 */
#define MEM_BYTES  (64 * 1024) /* two buffers, both in L2 */
#define MEM_PASSES 640

static uint32_t mem_a[MEM_BYTES / 4];
static uint32_t mem_b[MEM_BYTES / 4];

static void set32(uint32_t *d, uint32_t v, size_t n)
{
    while (n--)
        *d++ = v;
}

static void copy32(uint32_t *d, const uint32_t *s, size_t n)
{
    while (n--)
        *d++ = *s++;
}

static void copy8(uint8_t *d, const uint8_t *s, size_t n)
{
    while (n--)
        *d++ = *s++;
}

static size_t len8(const char *s)
{
    const char *p = s;

    while (*p)
        p++;
    return (size_t)(p - s);
}

static int cmp8(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (; n; n--, a++, b++)
        if (*a != *b)
            return *a - *b;
    return 0;
}

/* Fill the buffer with printable bytes and a NUL every 50-305 bytes, so
 * the strlen walk is a mix of short and long strings. */
static void fill_text(uint8_t *p, size_t n, uint32_t seed)
{
    size_t next_nul = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t r = bench_lcg(&seed);
        if (i == next_nul) {
            p[i] = 0;
            next_nul = i + 50 + ((r >> 16) & 0xff);
        } else {
            p[i] = (uint8_t)('a' + (r >> 24) % 26);
        }
    }
    p[n - 1] = 0;
}

/* Sum the lengths of the NUL-terminated strings that fill p[0..n). */
static uint32_t strings_length(const uint8_t *p, size_t n)
{
    uint32_t total = 0;

    for (size_t i = 0; i < n;) {
        size_t len = len8((const char *)p + i);
        total = bench_mix(total, (uint32_t)len);
        i += len + 1;
    }
    return total;
}

/* One pass: every loop over the whole buffer once. */
static uint32_t mem_pass(uint32_t pass)
{
    uint8_t *a = (uint8_t *)mem_a, *b = (uint8_t *)mem_b;
    uint32_t sum = 0;

    set32(mem_b, 0x01010101u * pass, MEM_BYTES / 4);
    sum = bench_mix(sum, mem_b[pass]);
    fill_text(a, MEM_BYTES, pass + 1);
    copy8(b, a, MEM_BYTES);
    sum = bench_mix(sum, strings_length(b, MEM_BYTES));
    b[MEM_BYTES - 1 - pass] ^= 1; /* differ near the end */
    sum = bench_mix(sum, (uint32_t)cmp8(a, b, MEM_BYTES));
    copy32(mem_a, mem_b, MEM_BYTES / 4);
    sum = bench_mix(sum, mem_a[(pass * 97) % (MEM_BYTES / 4)]);
    return sum;
}

uint32_t bench_memloops(void)
{
    uint32_t sum = 0;

    for (uint32_t pass = 0; pass < MEM_PASSES; pass++)
        sum = bench_mix(sum, mem_pass(pass));
    return sum;
}
