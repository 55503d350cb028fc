// SPDX-License-Identifier: MIT
/*
 * Containment fuzzing: random bytes run as guest code with random
 * registers, in all four starts (ring 0 or 3, paging off or on) and, for
 * half the seeds, with exception delivery through whatever descriptor
 * tables the random code sets up. bt386 must never
 * crash or hang, and must never write outside the guest's memory: every
 * run ends in HLT, a guest exception, a machine stop with a message, or
 * the time budget. A host canary buffer is checked after every seed.
 *
 * Usage: fuzz [--seeds N] [--first S] [--budget-us U] [--verbose]
 */
#include "tests/harness/harness.h"
#include "monitor/vcpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE 0x00100000u
#define CODE_BYTES 8192
#define LOW_BYTES 0x10000 /* IVT, and where random LGDT/LIDT may point */
#define CANARY_BYTES (1u << 20)

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t x = rng_state; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t x = rng();
        memcpy(p + i, &x, 8);
    }
}

/* Outcome tally. */
enum { OUT_HLT, OUT_EXCEPTION, OUT_BUDGET, OUT_STOPPED, OUT_COUNT };
static const char *const out_names[OUT_COUNT] = {
    "HLT", "guest exception", "time budget", "machine stopped (message)"};

static int run_seed(struct harness *h, uint64_t seed, unsigned budget_us)
{
    struct harness_state st;
    struct harness_result res;
    uint8_t *ram = harness_ram(h);

    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    memset(&st, 0, sizeof(st));
    fill_random(ram + CODE, CODE_BYTES);
    if (seed & 1)
        fill_random(ram, LOW_BYTES);
    for (int r = 0; r < 8; r++)
        st.regs[r] = (uint32_t)rng();
    if (seed & 2) /* a usable stack for half of the seeds */
        st.regs[R_ESP] = 0x00300000u + (uint32_t)(rng() & 0xfffc);
    st.eip = CODE + (uint32_t)(rng() % 64);
    st.eflags = (uint32_t)rng() & (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF |
                                   EFL_OF | EFL_DF);
    harness_default_fpu(h, st.fpu);
    harness_deliver_exceptions(h, (int)(seed & 1));
    harness_set_start(h, (unsigned)(seed >> 2) & (HARNESS_PAGING | HARNESS_RING3));
    harness_run_budget(h, &st, &res, budget_us);
    if (res.status == VCPU_STOPPED)
        return OUT_BUDGET;
    if (res.status != 0)
        return OUT_STOPPED;
    return res.vector < 0 ? OUT_HLT : OUT_EXCEPTION;
}

/* The canary and its reference copy, filled with the same pattern. */
static void canary_fill(uint8_t *c)
{
    for (uint32_t i = 0; i < CANARY_BYTES; i++)
        c[i] = (uint8_t)(i * 131u + 7u);
}

static int canary_check(const uint8_t *c, const uint8_t *ref)
{
    return memcmp(c, ref, CANARY_BYTES) ? -1 : 0;
}

int main(int argc, char **argv)
{
    uint64_t seeds = 2000, first = 1;
    unsigned budget_us = 2000;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
            seeds = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--first") && i + 1 < argc)
            first = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--budget-us") && i + 1 < argc)
            budget_us = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--verbose"))
            verbose = 1;
        else {
            fprintf(stderr, "usage: fuzz [--seeds N] [--first S] "
                            "[--budget-us U] [--verbose]\n");
            return 2;
        }
    }
    uint8_t *canary = malloc(CANARY_BYTES), *ref = malloc(CANARY_BYTES);
    struct harness *h = harness_create(8);
    if (!canary || !ref || !h) {
        fprintf(stderr, "fuzz: cannot create the harness\n");
        return 1;
    }
    canary_fill(canary);
    canary_fill(ref);
    uint64_t tally[OUT_COUNT] = {0}, failed = 0;
    for (uint64_t s = first; s < first + seeds; s++) {
        if (verbose)
            fprintf(stderr, "seed %llu\n", (unsigned long long)s);
        tally[run_seed(h, s, budget_us)]++;
        if (canary_check(canary, ref) != 0) {
            fprintf(stderr, "fuzz: seed %llu changed host memory\n",
                    (unsigned long long)s);
            failed++;
            canary_fill(canary);
        }
    }
    for (int i = 0; i < OUT_COUNT; i++)
        printf("  %-28s %llu\n", out_names[i], (unsigned long long)tally[i]);
    printf("fuzz: %llu passed, %llu failed\n",
           (unsigned long long)(seeds - failed), (unsigned long long)failed);
    harness_destroy(h);
    free(canary);
    free(ref);
    return failed ? 1 : 0;
}
