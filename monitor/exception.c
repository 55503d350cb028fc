// SPDX-License-Identifier: MIT
/* Exceptions and interrupts: IVT and IDT delivery, segment loads, double
 * and triple faults, shutdown. */
#include "monitor/monitor.h"
#include "dbt/dbt.h"
#include "mmu/access.h"
#include "mmu/shadow.h"

#include <stdio.h>
#include <string.h>

/* Descriptor fields. */
#define DESC_TYPE(d) ((unsigned)((d) >> 40) & 0xf)
#define DESC_S(d) ((unsigned)((d) >> 44) & 1)
#define DESC_DPL(d) ((int)((d) >> 45) & 3)
#define DESC_P(d) ((unsigned)((d) >> 47) & 1)
#define TYPE_CODE 0x8 /* code (vs data) segment */
#define TYPE_CONFORMING 0x4
#define TYPE_READABLE 0x2 /* code: readable; data: writable */
#define GATE_TASK 0x5
#define GATE_INT16 0x6
#define GATE_TRAP16 0x7
#define GATE_INT32 0xe
#define GATE_TRAP32 0xf
#define ERR_IDT 0x2 /* error-code bit: the index refers to the IDT */

static bool protected_mode(const struct vcpu *v)
{
    return (v->cr0 & CR0_PE) && !(v->eflags & EFL_VM);
}

/* Fill a segment cache from a descriptor. */
static void seg_from_desc(struct segment *s, uint16_t sel, uint64_t d)
{
    s->sel = sel;
    s->base = (uint32_t)((d >> 16) & 0xffffff) | (uint32_t)((d >> 56) << 24);
    s->limit = (uint32_t)(d & 0xffff) | (uint32_t)(((d >> 48) & 0xf) << 16);
    if (d & (1ull << 55))
        s->limit = (s->limit << 12) | 0xfff;
    s->attr = (uint16_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 8));
}

/* Read the descriptor for selector sel; false if outside its table. */
static bool read_desc(struct vcpu *v, uint16_t sel, uint64_t *d,
                      uint32_t *addr)
{
    uint32_t base = (sel & 4) ? v->ldtr.base : v->gdtr.base;
    uint32_t limit = (sel & 4) ? v->ldtr.limit : v->gdtr.limit;
    uint32_t index = sel & ~7u;
    if (index + 7 > limit)
        return false;
    *addr = base + index;
    return mmu_read(v, *addr, d, 8) == 0;
}

static void set_seg(struct vcpu *v, int seg, const struct segment *s)
{
    uint32_t old_mode = dbt_mode(v);
    v->seg[seg] = *s;
    v->seg_base[seg] = s->base;
    if (seg == SEG_CS) {
        int cpl = protected_mode(v) ? (s->sel & 3) : (v->eflags & EFL_VM) ? 3 : 0;
        if (cpl != v->cpl) {
            v->cpl = cpl;
            cpu_paging_changed(v, false);
        }
    }
    if (dbt_mode(v) != old_mode)
        vcpu_jc_clear(v);
}

/* Mark the descriptor accessed, as the CPU does on a load. */
static void set_accessed(struct vcpu *v, uint32_t addr, uint64_t d)
{
    if (!(d & (1ull << 40))) {
        uint8_t b = (uint8_t)(d >> 40) | 1;
        mmu_write(v, addr + 5, &b, 1);
    }
}

/* Protected-mode data/stack segment load checks; 0 or a fault raised. */
static int check_data_seg(struct vcpu *v, int seg, uint16_t sel, uint64_t d)
{
    int rpl = sel & 3, dpl = DESC_DPL(d);
    unsigned type = DESC_TYPE(d);
    if (!DESC_S(d))
        goto gp;
    if (seg == SEG_SS) {
        if ((type & TYPE_CODE) || !(type & TYPE_READABLE) || rpl != v->cpl ||
            dpl != v->cpl)
            goto gp;
        if (!DESC_P(d)) {
            cpu_exception(v, EXC_SS, sel & ~3);
            return -1;
        }
        return 0;
    }
    if ((type & TYPE_CODE) && !(type & TYPE_READABLE))
        goto gp;
    if (!((type & TYPE_CODE) && (type & TYPE_CONFORMING)) &&
        (dpl < v->cpl || dpl < rpl))
        goto gp;
    if (!DESC_P(d)) {
        cpu_exception(v, EXC_NP, sel & ~3);
        return -1;
    }
    return 0;
gp:
    cpu_exception(v, EXC_GP, sel & ~3);
    return -1;
}

int cpu_load_seg(struct vcpu *v, int seg, uint16_t sel)
{
    struct segment s = v->seg[seg];
    if (!protected_mode(v)) {
        s.sel = sel;
        s.base = (uint32_t)sel << 4;
        set_seg(v, seg, &s);
        return 0;
    }
    if ((sel & ~3) == 0) {
        if (seg == SEG_SS) {
            cpu_exception(v, EXC_GP, 0);
            return -1;
        }
        memset(&s, 0, sizeof(s));
        s.sel = sel;
        set_seg(v, seg, &s);
        return 0;
    }
    uint64_t d;
    uint32_t addr;
    if (!read_desc(v, sel, &d, &addr)) {
        cpu_exception(v, EXC_GP, sel & ~3);
        return -1;
    }
    if (check_data_seg(v, seg, sel, d) != 0)
        return -1;
    set_accessed(v, addr, d);
    seg_from_desc(&s, sel, d);
    set_seg(v, seg, &s);
    return 0;
}

/* Load CS for a control transfer to a code segment at CPL (no privilege
 * change); 0 or -1 with the fault raised. */
static int load_cs_same_level(struct vcpu *v, uint16_t sel)
{
    struct segment s = v->seg[SEG_CS];
    if (!protected_mode(v)) {
        s.sel = sel;
        s.base = (uint32_t)sel << 4;
        set_seg(v, SEG_CS, &s);
        return 0;
    }
    uint64_t d;
    uint32_t addr;
    if ((sel & ~3) == 0 || !read_desc(v, sel, &d, &addr) || !DESC_S(d) ||
        !(DESC_TYPE(d) & TYPE_CODE)) {
        cpu_exception(v, EXC_GP, sel & ~3);
        return -1;
    }
    if (!DESC_P(d)) {
        cpu_exception(v, EXC_NP, sel & ~3);
        return -1;
    }
    set_accessed(v, addr, d);
    seg_from_desc(&s, (uint16_t)((sel & ~3) | v->cpl), d);
    set_seg(v, SEG_CS, &s);
    return 0;
}

int cpu_far_jump(struct vcpu *v, uint16_t sel, uint32_t eip)
{
    if (load_cs_same_level(v, sel) != 0)
        return -1;
    v->eip = eip;
    return 0;
}

/* Push a value on the guest stack (size 2 or 4); false if it faulted. */
bool cpu_push(struct vcpu *v, uint32_t val, int size)
{
    bool s32 = v->seg[SEG_SS].attr & SEG_ATTR_DB;
    uint32_t esp = v->regs[R_ESP] - (uint32_t)size;
    if (!s32)
        esp = (v->regs[R_ESP] & 0xffff0000u) | (esp & 0xffff);
    uint32_t off = s32 ? esp : (esp & 0xffff);
    if (mmu_write(v, v->seg[SEG_SS].base + off, &val, (unsigned)size) != 0)
        return false;
    v->regs[R_ESP] = esp;
    return true;
}

/* Pop a value (size 2 or 4); false if it faulted. */
bool cpu_pop(struct vcpu *v, uint32_t *val, int size)
{
    bool s32 = v->seg[SEG_SS].attr & SEG_ATTR_DB;
    uint32_t off = s32 ? v->regs[R_ESP] : (v->regs[R_ESP] & 0xffff);
    *val = 0;
    if (mmu_read(v, v->seg[SEG_SS].base + off, val, (unsigned)size) != 0)
        return false;
    uint32_t esp = v->regs[R_ESP] + (uint32_t)size;
    v->regs[R_ESP] = s32 ? esp : ((v->regs[R_ESP] & 0xffff0000u) | (esp & 0xffff));
    return true;
}

/* Real mode: the IVT entry gives CS:IP; FLAGS, CS, IP are pushed. */
static bool deliver_real(struct vcpu *v, int vector, uint32_t ret_eip)
{
    uint32_t entry;
    if ((uint32_t)vector * 4 + 3 > v->idtr.limit)
        return false;
    mmu_read(v, v->idtr.base + (uint32_t)vector * 4, &entry, 4);
    cpu_push(v, v->eflags & 0xffff, 2);
    cpu_push(v, v->seg[SEG_CS].sel, 2);
    cpu_push(v, ret_eip & 0xffff, 2);
    v->eflags &= ~(EFL_IF | EFL_TF | EFL_AC | EFL_RF);
    load_cs_same_level(v, (uint16_t)(entry >> 16));
    v->eip = entry & 0xffff;
    return true;
}

/*
 * Protected mode through an interrupt or trap gate at the same privilege
 * level. Returns 0, or the error code of the #GP/#NP that delivery itself
 * raises (as a positive value + 1, so 0 stays "delivered").
 */
static int deliver_protected(struct vcpu *v, int vector, int32_t err,
                             uint32_t ret_eip, bool soft)
{
    uint32_t idt_err = (uint32_t)vector * 8 + ERR_IDT;
    uint64_t g;
    if ((uint32_t)vector * 8 + 7 > v->idtr.limit ||
        mmu_read(v, v->idtr.base + (uint32_t)vector * 8, &g, 8) != 0)
        return (int)idt_err + 1;
    unsigned type = (unsigned)(g >> 40) & 0x1f;
    if (type != GATE_INT16 && type != GATE_TRAP16 && type != GATE_INT32 &&
        type != GATE_TRAP32)
        return (int)idt_err + 1;
    if ((soft && DESC_DPL(g) < v->cpl) || !DESC_P(g))
        return (int)idt_err + 1;
    bool gate32 = type & 8;
    uint16_t sel = (uint16_t)(g >> 16);
    uint32_t off = (uint32_t)(g & 0xffff) | (uint32_t)((g >> 32) & 0xffff0000u);
    uint32_t flags = v->eflags;
    uint16_t old_cs = v->seg[SEG_CS].sel;
    if (load_cs_same_level(v, sel) != 0)
        return -1;
    int size = gate32 ? 4 : 2;
    cpu_push(v, flags, size);
    cpu_push(v, old_cs, size);
    cpu_push(v, ret_eip, size);
    if (err >= 0)
        cpu_push(v, (uint32_t)err, size);
    v->eflags &= ~(EFL_TF | EFL_NT | EFL_RF | EFL_VM);
    if (!(type & 1))
        v->eflags &= ~EFL_IF;
    v->eip = gate32 ? off : (off & 0xffff);
    return 0;
}

static const char *const vector_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",
    "#TS", "#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM"};

static void triple_fault(struct vcpu *v, int vector)
{
    char why[96];
    snprintf(why, sizeof(why), "guest triple fault (%s at %04x:%08x)",
             vector < 32 && vector_names[vector] ? vector_names[vector] : "?",
             v->seg[SEG_CS].sel, v->eip);
    if (v->no_reboot) {
        cpu_shutdown(v, 2, why);
    } else {
        fprintf(stderr, "bt386: %s; resetting\n", why);
        v->reset_requested = true;
    }
}

/* Deliver an event; exceptions during delivery escalate to #DF, and a
 * fault while delivering #DF shuts the processor down. */
static void raise_event(struct vcpu *v, int vector, int32_t err,
                        uint32_t ret_eip, bool soft)
{
    if (v->test_stop_on_event) {
        v->test_event_vector = vector;
        v->test_event_error = err;
        if (soft)
            v->eip = ret_eip;
        cpu_shutdown(v, 0, NULL);
        return;
    }
    if (v->delivering == EXC_DF + 1) {
        v->delivering = 0;
        triple_fault(v, vector);
        return;
    }
    if (v->delivering) {
        vector = EXC_DF;
        err = 0;
        ret_eip = v->eip;
        soft = false;
    }
    if (vector < 32)
        v->stats.exceptions[vector]++;
    v->delivering = vector + 1;
    v->halted = false;
    if (!protected_mode(v)) {
        if (!deliver_real(v, vector, ret_eip))
            raise_event(v, EXC_GP, ERR_IDT, v->eip, false);
    } else {
        int r = deliver_protected(v, vector, err, ret_eip, soft);
        if (r > 0)
            raise_event(v, EXC_GP, r - 1, v->eip, false);
    }
    v->delivering = 0;
}

/* Exceptions with an error code (the others ignore err). */
static bool has_error_code(int vector)
{
    return vector == EXC_DF || vector == EXC_TS || vector == EXC_NP ||
           vector == EXC_SS || vector == EXC_GP || vector == EXC_PF ||
           vector == EXC_AC;
}

void cpu_exception(struct vcpu *v, int vector, int32_t err)
{
    bool trap = vector == EXC_BP || vector == EXC_OF;
    if (!protected_mode(v) || !has_error_code(vector))
        err = -1;
    raise_event(v, vector, err, v->eip, trap);
}

void cpu_soft_interrupt(struct vcpu *v, int vector, uint32_t next_eip)
{
    raise_event(v, vector, -1, next_eip, true);
}

void cpu_shutdown(struct vcpu *v, int status, const char *why)
{
    v->shutdown = true;
    v->exit_status = status;
    snprintf(v->shutdown_why, sizeof(v->shutdown_why), "%s", why ? why : "");
}

void cpu_paging_changed(struct vcpu *v, bool flush)
{
    if (flush && v->shadow) {
        shadow_flush(v->shadow);
        vcpu_jc_clear(v);
    }
    v->shadow_table = (v->cr0 & CR0_PG) && v->shadow
                          ? shadow_current(v->shadow, v->cpl)
                          : NULL;
}

void cpu_set_cr0(struct vcpu *v, uint32_t val)
{
    uint32_t old = v->cr0;
    v->cr0 = val | CR0_ET;
    if ((old ^ v->cr0) & (CR0_PE | CR0_PG))
        vcpu_jc_clear(v);
    if ((old ^ v->cr0) & (CR0_PG | CR0_WP))
        cpu_paging_changed(v, true);
}
