// SPDX-License-Identifier: MIT
/* The CPUID model: a P6-class processor advertising what bt386 implements,
 * and nothing more (a guest that sees a feature will use it). */
#include "monitor/cpuid.h"

#include <string.h>

/* Leaf 1 EDX feature bits. */
#define FEAT_FPU  (1u << 0)
#define FEAT_PSE  (1u << 3)
#define FEAT_TSC  (1u << 4)
#define FEAT_MSR  (1u << 5)
#define FEAT_CX8  (1u << 8)
#define FEAT_SEP  (1u << 11)
#define FEAT_PGE  (1u << 13)
#define FEAT_CMOV (1u << 15)
#define FEAT_MMX  (1u << 23)
#define FEAT_FXSR (1u << 24)
#define FEAT_SSE  (1u << 25)
#define FEAT_SSE2 (1u << 26)

/* Leaf 1 ECX: "running under a hypervisor", which bt386 is. Linux then
 * says its PMU is not available due to virtualization (the P6 counters
 * are not modelled) instead of reporting broken hardware. */
#define FEAT_ECX_HYPERVISOR (1u << 31)

/* Family 6, model 13, stepping 6: a Pentium M-class P6 core, the last of
 * the family with SSE2 and without 64-bit or PAE-only assumptions. */
#define CPUID_SIGNATURE 0x000006d6u
#define CPUID_MAX_BASIC 2u
#define CPUID_MAX_EXT   0x80000004u

/* Features the translator and monitor implement today. VME, DE, MTRR,
 * PAT and the local APIC are added as they are built. */
#define CPUID_FEATURES_EDX (FEAT_FPU | FEAT_PSE | FEAT_TSC | FEAT_MSR | \
                            FEAT_CX8 | FEAT_SEP | FEAT_PGE | FEAT_CMOV | \
                            FEAT_MMX | FEAT_FXSR | FEAT_SSE | FEAT_SSE2)

static const char vendor[13] = "GenuineIntel";
static const char brand[49] = "bt386 virtual P6-class CPU";

static void put_str(uint32_t *dst, const char *s)
{
    memcpy(dst, s, 4);
}

static void basic_leaf(uint32_t leaf, uint32_t out[4])
{
    switch (leaf) {
    case 0: /* max leaf; vendor in EBX, EDX, ECX order */
        out[0] = CPUID_MAX_BASIC;
        put_str(&out[1], vendor);
        put_str(&out[3], vendor + 4);
        put_str(&out[2], vendor + 8);
        break;
    case 1:
        out[0] = CPUID_SIGNATURE;
        out[2] = FEAT_ECX_HYPERVISOR;
        out[3] = CPUID_FEATURES_EDX;
        break;
    case 2: /* one iteration, no cache descriptors */
        out[0] = 0x00000001u;
        break;
    }
}

void cpuid_query(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    (void)subleaf;
    memset(out, 0, 4 * sizeof(out[0]));
    if (leaf == 0x80000000u) {
        out[0] = CPUID_MAX_EXT;
    } else if (leaf >= 0x80000002u && leaf <= CPUID_MAX_EXT) {
        memcpy(out, brand + 16 * (leaf - 0x80000002u), 16);
    } else if (leaf == 0x80000001u) {
        /* no extended features */
    } else {
        /* Intel answers leaves past the maximum with the highest basic
         * leaf's data. */
        basic_leaf(leaf <= CPUID_MAX_BASIC ? leaf : CPUID_MAX_BASIC, out);
    }
}
