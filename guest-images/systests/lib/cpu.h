/* SPDX-License-Identifier: MIT */
/* System tests: x86 system registers and instructions as inline functions. */
#ifndef SYSTESTS_CPU_H
#define SYSTESTS_CPU_H

#include <stdbool.h>
#include <stdint.h>

/* EFLAGS */
#define EFL_CF    (1u << 0)
#define EFL_FIXED (1u << 1) /* always reads 1 */
#define EFL_PF    (1u << 2)
#define EFL_ZF    (1u << 6)
#define EFL_TF    (1u << 8)
#define EFL_IF    (1u << 9)
#define EFL_DF    (1u << 10)
#define EFL_OF    (1u << 11)
#define EFL_IOPL  (3u << 12)
#define EFL_IOPL3 (3u << 12)
#define EFL_NT    (1u << 14)
#define EFL_RF    (1u << 16)
#define EFL_VM    (1u << 17)
#define EFL_AC    (1u << 18)

/* CR0 */
#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_PG (1u << 31)

/* CR4 */
#define CR4_VME        (1u << 0)
#define CR4_PVI        (1u << 1)
#define CR4_DE         (1u << 3)
#define CR4_PSE        (1u << 4)
#define CR4_PGE        (1u << 7)
#define CR4_OSFXSR     (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)

/* CPUID leaf 1 EDX */
#define CPUID_FPU  (1u << 0)
#define CPUID_VME  (1u << 1)
#define CPUID_DE   (1u << 2)
#define CPUID_PSE  (1u << 3)
#define CPUID_TSC  (1u << 4)
#define CPUID_MSR  (1u << 5)
#define CPUID_SEP  (1u << 11)
#define CPUID_PGE  (1u << 13)
#define CPUID_FXSR (1u << 24)
#define CPUID_SSE  (1u << 25)

/* Exception vectors */
#define VEC_DE 0
#define VEC_DB 1
#define VEC_BP 3
#define VEC_OF 4
#define VEC_BR 5
#define VEC_UD 6
#define VEC_NM 7
#define VEC_DF 8
#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14
#define VEC_MF 16
#define VEC_AC 17
#define VEC_XM 19

/* DR6 */
#define DR6_B(n) (1u << (n))
#define DR6_BD   (1u << 13)
#define DR6_BS   (1u << 14)
#define DR6_BT   (1u << 15)

/* DR7: Ln/Gn enables, and per breakpoint RW (bits 16+4n) and LEN (18+4n) */
#define DR7_L(n)              (1u << (2 * (n)))
#define DR7_G(n)              (1u << (2 * (n) + 1))
#define DR7_GD                (1u << 13)
#define DR7_RW_EXEC           0u
#define DR7_RW_WRITE          1u
#define DR7_RW_RDWR           3u
#define DR7_LEN1              0u
#define DR7_LEN2              1u
#define DR7_LEN4              3u
#define DR7_RWLEN(n, rw, len) ((((len) << 2) | (rw)) << (16 + 4 * (n)))

#define CPU_READ(insn, type)                                                   \
    static inline type insn##_read(void)                                       \
    {                                                                          \
        type v;                                                                \
        __asm__ volatile("mov %%" #insn ", %0" : "=r"(v));                     \
        return v;                                                              \
    }
#define CPU_WRITE(insn, type)                                                  \
    static inline void insn##_write(type v)                                    \
    {                                                                          \
        __asm__ volatile("mov %0, %%" #insn : : "r"(v) : "memory");            \
    }
CPU_READ(cr0, uint32_t)
CPU_WRITE(cr0, uint32_t)
CPU_READ(cr2, uint32_t)
CPU_WRITE(cr2, uint32_t)
CPU_READ(cr3, uint32_t)
CPU_WRITE(cr3, uint32_t)
CPU_READ(cr4, uint32_t)
CPU_WRITE(cr4, uint32_t)
CPU_READ(dr0, uint32_t)
CPU_WRITE(dr0, uint32_t)
CPU_READ(dr1, uint32_t)
CPU_WRITE(dr1, uint32_t)
CPU_READ(dr2, uint32_t)
CPU_WRITE(dr2, uint32_t)
CPU_READ(dr3, uint32_t)
CPU_WRITE(dr3, uint32_t)
CPU_READ(dr6, uint32_t)
CPU_WRITE(dr6, uint32_t)
CPU_READ(dr7, uint32_t)
CPU_WRITE(dr7, uint32_t)
#undef CPU_READ
#undef CPU_WRITE

static inline uint16_t cs_read(void)
{
    uint16_t v;
    __asm__ volatile("mov %%cs, %0" : "=r"(v));
    return v;
}

static inline uint16_t ss_read(void)
{
    uint16_t v;
    __asm__ volatile("mov %%ss, %0" : "=r"(v));
    return v;
}

static inline uint16_t ds_read(void)
{
    uint16_t v;
    __asm__ volatile("mov %%ds, %0" : "=r"(v));
    return v;
}

static inline uint32_t eflags_read(void)
{
    uint32_t v;
    __asm__ volatile("pushfl; popl %0" : "=r"(v));
    return v;
}

static inline void eflags_write(uint32_t v)
{
    __asm__ volatile("pushl %0; popfl" : : "r"(v) : "memory", "cc");
}

static inline void cpuid(uint32_t leaf, uint32_t out[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
                     : "a"(leaf), "c"(0));
}

/* CPUID leaf 1 EDX: the feature flags the tests look at. */
static inline uint32_t cpuid_features(void)
{
    uint32_t r[4];
    cpuid(1, r);
    return r[3];
}

static inline uint64_t rdtsc(void)
{
    uint64_t v;
    __asm__ volatile("rdtsc" : "=A"(v));
    return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint64_t v;
    __asm__ volatile("rdmsr" : "=A"(v) : "c"(msr));
    return v;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "A"(v) : "memory");
}

static inline void invlpg(uint32_t linear)
{
    __asm__ volatile("invlpg (%0)" : : "r"(linear) : "memory");
}

static inline void clts(void)
{
    __asm__ volatile("clts");
}

/* The descriptor-table registers as SGDT/SIDT store them. */
struct dtr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

static inline void sgdt(struct dtr *d)
{
    __asm__ volatile("sgdt %0" : "=m"(*d));
}

static inline void sidt(struct dtr *d)
{
    __asm__ volatile("sidt %0" : "=m"(*d));
}

static inline uint16_t str_read(void)
{
    uint16_t v;
    __asm__ volatile("str %0" : "=r"(v));
    return v;
}

static inline void ltr(uint16_t sel)
{
    __asm__ volatile("ltr %0" : : "r"(sel) : "memory");
}

static inline void lldt(uint16_t sel)
{
    __asm__ volatile("lldt %0" : : "r"(sel) : "memory");
}

#endif
