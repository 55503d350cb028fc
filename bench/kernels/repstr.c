/* SPDX-License-Identifier: MIT */
/* repstr: block fills and copies with rep stosd and rep movsd. */
#include <stddef.h>

#include "kernels.h"

#define REP_DWORDS (64 * 1024 / 4) /* 64 KiB buffers */
#define REP_PASSES 60000

static uint32_t rep_src[REP_DWORDS];
static uint32_t rep_dst[REP_DWORDS];

/* The C ABI guarantees EFLAGS.DF = 0, so both go upwards. */
static void rep_stosd(uint32_t *dst, uint32_t v, size_t n)
{
    __asm__ volatile("rep stosl" : "+D"(dst), "+c"(n) : "a"(v) : "memory");
}

static void rep_movsd(uint32_t *dst, const uint32_t *src, size_t n)
{
    __asm__ volatile("rep movsl"
                     : "+D"(dst), "+S"(src), "+c"(n)
                     :
                     : "memory");
}

uint32_t bench_repstr(void)
{
    uint32_t sum = 0;

    for (uint32_t pass = 0; pass < REP_PASSES; pass++) {
        uint32_t off = pass % 64; /* vary the length and alignment a bit */
        rep_stosd(rep_src, pass * 0x9E3779B9u, REP_DWORDS);
        rep_src[off] = pass;
        rep_movsd(rep_dst + off, rep_src, REP_DWORDS - off);
        sum = bench_mix(sum, rep_dst[off] + rep_dst[REP_DWORDS - 1]);
        sum = bench_mix(sum, rep_dst[(pass * 389) % REP_DWORDS]);
    }
    return sum;
}
