// SPDX-License-Identifier: MIT
/* System instructions: task and LDT registers, descriptor queries, MSRs,
 * SYSENTER/SYSEXIT, and the TSS I/O permission bitmap. */
#include "monitor/system.h"
#include "monitor/monitor.h"
#include "monitor/desc.h"
#include "mmu/access.h"

#include <x86intrin.h>

/* MSRs. */
#define MSR_TSC 0x10
#define MSR_BIOS_SIGN_ID 0x8b /* microcode revision in the high half */
#define MICROCODE_REV 0x1ull
#define MSR_MISC_ENABLE 0x1a0
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

/*
 * I/O permission: CPL <= IOPL, or every bit for [port, port + size) clear
 * in the TSS bitmap (a 32-bit TSS; bits past its limit count as set).
 */
bool cpu_io_allowed(struct vcpu *v, uint16_t port, int size)
{
    int iopl = (int)((v->eflags & EFL_IOPL) >> 12);
    if (!(v->cr0 & CR0_PE) || (!(v->eflags & EFL_VM) && v->cpl <= iopl))
        return true;
    unsigned type = v->tr.attr & 0xf;
    uint16_t base = 0;
    uint16_t bits = 0;
    if ((type != SYS_TSS32 && type != SYS_TSS32_BUSY) || v->tr.limit < 103 ||
        sys_read(v, v->tr.base + 102, &base, 2) != 0)
        return false;
    uint32_t byte = (uint32_t)base + port / 8;
    if (byte + 1 > v->tr.limit || sys_read(v, v->tr.base + byte, &bits, 2))
        return false;
    uint16_t mask = (uint16_t)(((1u << size) - 1) << (port & 7));
    return (bits & mask) == 0;
}

/* Load a system segment register (LDTR or TR) from the GDT. */
static int load_system_seg(struct vcpu *v, uint16_t sel, bool tr)
{
    uint64_t d;
    uint32_t addr;
    if ((sel & ~3) == 0 && !tr) {
        v->ldtr = (struct segment){sel, 0, 0, 0};
        return 0;
    }
    if ((sel & 4) || (sel & ~3) == 0 || !read_desc(v, sel, &d, &addr) ||
        DESC_S(d) ||
        (tr ? (DESC_TYPE(d) != SYS_TSS32 && DESC_TYPE(d) != SYS_TSS16)
            : DESC_TYPE(d) != SYS_LDT)) {
        cpu_exception(v, EXC_GP, sel & ~3);
        return -1;
    }
    if (!DESC_P(d)) {
        cpu_exception(v, EXC_NP, sel & ~3);
        return -1;
    }
    if (tr) { /* mark the TSS busy in the GDT */
        uint8_t type_byte = (uint8_t)((d >> 40) | 2);
        sys_write(v, addr + 5, &type_byte, 1);
        d |= 2ull << 40;
    }
    seg_from_desc(tr ? &v->tr : &v->ldtr, sel, d);
    return 0;
}

int sys_lldt(struct vcpu *v, uint16_t sel)
{
    return load_system_seg(v, sel, false);
}

int sys_ltr(struct vcpu *v, uint16_t sel)
{
    return load_system_seg(v, sel, true);
}

/* Can a selector be seen at CPL and its RPL (LAR, LSL, VERR, VERW)? */
static bool visible(const struct vcpu *v, uint16_t sel, uint64_t d)
{
    bool conforming = DESC_S(d) &&
                      (DESC_TYPE(d) & (TYPE_CODE | TYPE_CONFORMING)) ==
                          (TYPE_CODE | TYPE_CONFORMING);
    return conforming || (DESC_DPL(d) >= v->cpl && DESC_DPL(d) >= (sel & 3));
}

/* System descriptor types that LAR (lar=true) or LSL accept. */
static bool system_type_ok(unsigned type, bool lar)
{
    switch (type) {
    case SYS_TSS16: case SYS_LDT: case SYS_TSS16_BUSY: case SYS_TSS32:
    case SYS_TSS32_BUSY:
        return true;
    case 0x4: case 0x5: case 0xc: /* call gates, task gate */
        return lar;
    }
    return false;
}

/* LAR (lar=true) or LSL: ZF and the result for selector sel. */
bool sys_lar_lsl(struct vcpu *v, uint16_t sel, bool lar, uint32_t *out)
{
    uint64_t d;
    uint32_t addr;
    if ((sel & ~3) == 0 || !read_desc(v, sel, &d, &addr) || !visible(v, sel, d))
        return false;
    if (!DESC_S(d) && !system_type_ok(DESC_TYPE(d), lar))
        return false;
    if (lar) {
        *out = (uint32_t)(d >> 32) & 0x00f0ff00u;
    } else {
        struct segment s;
        seg_from_desc(&s, sel, d);
        *out = s.limit;
    }
    return true;
}

/* VERR (write=false) or VERW: is the segment readable/writable here? */
bool sys_verify(struct vcpu *v, uint16_t sel, bool write)
{
    uint64_t d;
    uint32_t addr;
    if ((sel & ~3) == 0 || !read_desc(v, sel, &d, &addr) || !DESC_S(d) ||
        !visible(v, sel, d))
        return false;
    bool code = DESC_TYPE(d) & TYPE_CODE;
    if (write)
        return !code && (DESC_TYPE(d) & TYPE_READABLE);
    return !code || (DESC_TYPE(d) & TYPE_READABLE);
}

/* RDMSR: 0 with *val set, or -1 for an MSR the model does not have. */
int sys_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    switch (msr) {
    case MSR_TSC: *val = __rdtsc() + v->tsc_offset; return 0;
    case MSR_BIOS_SIGN_ID: *val = MICROCODE_REV << 32; return 0;
    case MSR_MISC_ENABLE: *val = v->misc_enable; return 0;
    case MSR_SYSENTER_CS: *val = v->sysenter_cs; return 0;
    case MSR_SYSENTER_ESP: *val = v->sysenter_esp; return 0;
    case MSR_SYSENTER_EIP: *val = v->sysenter_eip; return 0;
    }
    return -1;
}

int sys_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
    switch (msr) {
    case MSR_TSC: v->tsc_offset = val - __rdtsc(); return 0;
    case MSR_BIOS_SIGN_ID: return 0; /* no microcode update to load */
    case MSR_MISC_ENABLE: /* stored; the status bits stay as they are */
        v->misc_enable = (val & ~MISC_ENABLE_READONLY) |
                         (v->misc_enable & MISC_ENABLE_READONLY);
        return 0;
    case MSR_SYSENTER_CS: v->sysenter_cs = (uint32_t)val & 0xffff; return 0;
    case MSR_SYSENTER_ESP: v->sysenter_esp = (uint32_t)val; return 0;
    case MSR_SYSENTER_EIP: v->sysenter_eip = (uint32_t)val; return 0;
    }
    return -1;
}

/* The flat segments SYSENTER/SYSEXIT load: exec/read code and read/write
 * data, accessed. */
#define FLAT_CODE 0xb
#define FLAT_DATA 0x3

int sys_sysenter(struct vcpu *v)
{
    if (!(v->cr0 & CR0_PE) || (v->sysenter_cs & ~3u) == 0) {
        cpu_exception(v, EXC_GP, 0);
        return -1;
    }
    uint16_t cs = (uint16_t)(v->sysenter_cs & ~3u);
    struct segment c = seg_flat(cs, FLAT_CODE, 0);
    struct segment s = seg_flat((uint16_t)(cs + 8), FLAT_DATA, 0);
    v->eflags &= ~(EFL_VM | EFL_IF | EFL_RF);
    set_seg(v, SEG_CS, &c);
    set_seg(v, SEG_SS, &s);
    v->regs[R_ESP] = v->sysenter_esp;
    v->eip = v->sysenter_eip;
    return 0;
}

int sys_sysexit(struct vcpu *v)
{
    if (!(v->cr0 & CR0_PE) || v->cpl != 0 || (v->sysenter_cs & ~3u) == 0) {
        cpu_exception(v, EXC_GP, 0);
        return -1;
    }
    uint16_t cs = (uint16_t)((v->sysenter_cs + 16) | 3);
    struct segment c = seg_flat(cs, FLAT_CODE, 3);
    struct segment s = seg_flat((uint16_t)(cs + 8), FLAT_DATA, 3);
    set_seg(v, SEG_CS, &c);
    set_seg(v, SEG_SS, &s);
    v->regs[R_ESP] = v->regs[R_ECX];
    v->eip = v->regs[R_EDX];
    return 0;
}
