// SPDX-License-Identifier: MIT
/* Exceptions and interrupts: IVT and IDT delivery, segment loads, double
 * and triple faults, shutdown. */
#include "monitor/monitor.h"
#include "monitor/desc.h"
#include "dbt/dbt.h"
#include "mmu/access.h"
#include "mmu/shadow.h"

#include <stdio.h>
#include <string.h>

#define ERR_IDT 0x2 /* error-code bit: the index refers to the IDT */

/* Fill a segment cache from a descriptor. */
void seg_from_desc(struct segment *s, uint16_t sel, uint64_t d)
{
    s->sel = sel;
    s->base = (uint32_t)((d >> 16) & 0xffffff) | (uint32_t)((d >> 56) << 24);
    s->limit = (uint32_t)(d & 0xffff) | (uint32_t)(((d >> 48) & 0xf) << 16);
    if (d & (1ull << 55))
        s->limit = (s->limit << 12) | 0xfff;
    s->attr = (uint16_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 8));
}

/* The CPU's own reads and writes of descriptor tables and the TSS:
 * supervisor accesses whatever the CPL. */
int sys_read(struct vcpu *v, uint32_t la, void *buf, unsigned size)
{
    v->sys_access++;
    int r = mmu_read(v, la, buf, size);
    v->sys_access--;
    return r;
}

int sys_write(struct vcpu *v, uint32_t la, const void *buf, unsigned size)
{
    v->sys_access++;
    int r = mmu_write(v, la, buf, size);
    v->sys_access--;
    return r;
}

/* Read the descriptor for selector sel; false if outside its table. */
bool read_desc(struct vcpu *v, uint16_t sel, uint64_t *d, uint32_t *addr)
{
    uint32_t base = (sel & 4) ? v->ldtr.base : v->gdtr.base;
    uint32_t limit = (sel & 4) ? v->ldtr.limit : v->gdtr.limit;
    uint32_t index = sel & ~7u;
    if ((sel & 4) && !(v->ldtr.attr & 0x80))
        return false; /* no LDT loaded */
    if (index + 7 > limit)
        return false;
    *addr = base + index;
    return sys_read(v, *addr, d, 8) == 0;
}

void set_seg(struct vcpu *v, int seg, const struct segment *s)
{
    uint32_t old_mode = dbt_mode(v);
    v->seg[seg] = *s;
    v->seg_base[seg] = s->base;
    if (seg == SEG_CS) {
        int cpl = cpu_protected_mode(v) ? (s->sel & 3) : (v->eflags & EFL_VM) ? 3 : 0;
        if (cpl != v->cpl) {
            v->cpl = cpl;
            cpu_paging_changed(v, false);
        }
    }
    if (dbt_mode(v) != old_mode)
        vcpu_jc_clear(v);
}

/* Mark the descriptor accessed, as the CPU does on a load. */
void set_accessed(struct vcpu *v, uint32_t addr, uint64_t d)
{
    if (!(d & (1ull << 40))) {
        uint8_t b = (uint8_t)(d >> 40) | 1;
        sys_write(v, addr + 5, &b, 1);
    }
}

/* Protected-mode data/stack segment load checks; 0 or a fault raised:
 * vec (#GP for MOV Sreg, #TS in a task switch) for the type and privilege
 * rules, #SS or #NP when the segment is not present. */
static int check_data_seg(struct vcpu *v, int seg, uint16_t sel, uint64_t d,
                          int vec)
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
    cpu_exception(v, vec, sel & ~3);
    return -1;
}

int cpu_load_seg(struct vcpu *v, int seg, uint16_t sel)
{
    return cpu_load_seg_as(v, seg, sel, EXC_GP);
}

int cpu_load_seg_as(struct vcpu *v, int seg, uint16_t sel, int vec)
{
    struct segment s = v->seg[seg];
    if (!cpu_protected_mode(v)) {
        s.sel = sel;
        s.base = (uint32_t)sel << 4;
        set_seg(v, seg, &s);
        return 0;
    }
    if ((sel & ~3) == 0) {
        if (seg == SEG_SS) {
            cpu_exception(v, vec, 0);
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
        cpu_exception(v, vec, sel & ~3);
        return -1;
    }
    if (check_data_seg(v, seg, sel, d, vec) != 0)
        return -1;
    set_accessed(v, addr, d);
    seg_from_desc(&s, sel, d);
    set_seg(v, seg, &s);
    return 0;
}

/* Load CS for a control transfer to a code segment at CPL (no privilege
 * change) and offset eip; 0 or -1 with the fault raised. Protected mode
 * checks the privilege rules of a far JMP/CALL (conforming: DPL <= CPL;
 * otherwise RPL <= CPL and DPL == CPL) and the new CS's limit. */
static int load_cs_same_level(struct vcpu *v, uint16_t sel, uint32_t eip)
{
    struct segment s = v->seg[SEG_CS];
    if (!cpu_protected_mode(v)) {
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
    bool conforming = DESC_TYPE(d) & TYPE_CONFORMING;
    if (conforming ? DESC_DPL(d) > v->cpl
                   : (sel & 3) > v->cpl || DESC_DPL(d) != v->cpl) {
        cpu_exception(v, EXC_GP, sel & ~3);
        return -1;
    }
    if (!DESC_P(d)) {
        cpu_exception(v, EXC_NP, sel & ~3);
        return -1;
    }
    seg_from_desc(&s, (uint16_t)((sel & ~3) | v->cpl), d);
    if (eip > s.limit) {
        cpu_exception(v, EXC_GP, 0);
        return -1;
    }
    set_accessed(v, addr, d);
    set_seg(v, SEG_CS, &s);
    return 0;
}

int cpu_far_jump(struct vcpu *v, uint16_t sel, uint32_t eip)
{
    if (load_cs_same_level(v, sel, eip) != 0)
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
    sys_read(v, v->idtr.base + (uint32_t)vector * 4, &entry, 4);
    cpu_push(v, v->eflags & 0xffff, 2);
    cpu_push(v, v->seg[SEG_CS].sel, 2);
    cpu_push(v, ret_eip & 0xffff, 2);
    v->eflags &= ~(EFL_IF | EFL_TF | EFL_AC | EFL_RF);
    load_cs_same_level(v, (uint16_t)(entry >> 16), entry & 0xffff);
    v->eip = entry & 0xffff;
    return true;
}

/* The stack for privilege level dpl, from the current TSS. */
static int tss_stack(struct vcpu *v, int dpl, uint16_t *ss, uint32_t *esp)
{
    unsigned type = v->tr.attr & 0xf;
    bool tss32 = type == 0x9 || type == 0xb;
    uint32_t off = tss32 ? 4 + (uint32_t)dpl * 8 : 2 + (uint32_t)dpl * 4;
    uint32_t sp = 0;
    *ss = 0;
    if (!(v->tr.attr & 0x80) || off + (tss32 ? 5u : 3u) > v->tr.limit) {
        cpu_exception(v, EXC_TS, v->tr.sel & ~3);
        return -1;
    }
    if (sys_read(v, v->tr.base + off, &sp, tss32 ? 4 : 2) != 0 ||
        sys_read(v, v->tr.base + off + (tss32 ? 4 : 2), ss, 2) != 0)
        return -1;
    *esp = sp;
    return 0;
}

/* Check and read SS for privilege level cpl; `vec` is the fault to raise
 * (#TS for a stack switch, #GP for a return). */
static int load_stack_seg(struct vcpu *v, uint16_t sel, int cpl,
                          struct segment *s, int vec)
{
    uint64_t d;
    uint32_t addr;
    if ((sel & ~3) == 0 || !read_desc(v, sel, &d, &addr) ||
        (sel & 3) != cpl || DESC_DPL(d) != cpl || !DESC_S(d) ||
        (DESC_TYPE(d) & TYPE_CODE) || !(DESC_TYPE(d) & TYPE_READABLE)) {
        cpu_exception(v, vec, sel & ~3);
        return -1;
    }
    if (!DESC_P(d)) {
        cpu_exception(v, EXC_SS, sel & ~3);
        return -1;
    }
    set_accessed(v, addr, d);
    seg_from_desc(s, sel, d);
    return 0;
}

/* Read a code segment descriptor for a control transfer. */
static int code_desc(struct vcpu *v, uint16_t sel, uint64_t *d, uint32_t *addr)
{
    if ((sel & ~3) == 0 || !read_desc(v, sel, d, addr) || !DESC_S(*d) ||
        !(DESC_TYPE(*d) & TYPE_CODE)) {
        cpu_exception(v, EXC_GP, sel & ~3);
        return -1;
    }
    if (!DESC_P(*d)) {
        cpu_exception(v, EXC_NP, sel & ~3);
        return -1;
    }
    return 0;
}

/* Switch to the ring-`dpl` stack from the TSS and push the old SS:ESP
 * there (an inter-privilege interrupt or call). From virtual-8086 mode
 * (v86) the old GS, FS, DS and ES go first, VM is cleared and the data
 * segments become null, as the handler must not use V86 selectors. */
static int switch_stack_inward(struct vcpu *v, int dpl, int size,
                               const struct segment *new_cs, bool v86)
{
    uint16_t ss_sel, old_ss = v->seg[SEG_SS].sel;
    uint32_t esp, old_esp = v->regs[R_ESP];
    uint16_t old_data[4] = {v->seg[SEG_GS].sel, v->seg[SEG_FS].sel,
                            v->seg[SEG_DS].sel, v->seg[SEG_ES].sel};
    struct segment ss;
    if (tss_stack(v, dpl, &ss_sel, &esp) != 0 ||
        load_stack_seg(v, ss_sel, dpl, &ss, EXC_TS) != 0)
        return -1;
    if (v86) {
        static const int data[4] = {SEG_GS, SEG_FS, SEG_DS, SEG_ES};
        struct segment null = {0, 0, 0, 0};
        v->eflags &= ~EFL_VM; /* CS is a protected-mode selector again */
        for (int i = 0; i < 4; i++)
            set_seg(v, data[i], &null);
    }
    set_seg(v, SEG_CS, new_cs);
    set_seg(v, SEG_SS, &ss);
    v->regs[R_ESP] = esp;
    for (int i = 0; v86 && i < 4; i++)
        if (!cpu_push(v, old_data[i], size))
            return -1;
    if (!cpu_push(v, old_ss, size) || !cpu_push(v, old_esp, size))
        return -1;
    return 0;
}

/*
 * Protected mode through an interrupt or trap gate: to the same privilege
 * level, or inward with the stack switch through the TSS. Returns 0, or
 * the error code of the #GP that the gate itself raises plus one, or -1
 * when a fault was already raised.
 */
static int deliver_protected(struct vcpu *v, int vector, int32_t err,
                             uint32_t ret_eip, bool soft, bool fault)
{
    uint32_t idt_err = (uint32_t)vector * 8 + ERR_IDT, caddr;
    uint64_t g, cd;
    if ((uint32_t)vector * 8 + 7 > v->idtr.limit ||
        sys_read(v, v->idtr.base + (uint32_t)vector * 8, &g, 8) != 0)
        return (int)idt_err + 1;
    unsigned type = (unsigned)(g >> 40) & 0x1f;
    if (type != GATE_INT16 && type != GATE_TRAP16 && type != GATE_INT32 &&
        type != GATE_TRAP32 && type != GATE_TASK)
        return (int)idt_err + 1;
    if (soft && DESC_DPL(g) < v->cpl)
        return (int)idt_err + 1;
    if (!DESC_P(g)) {
        cpu_exception(v, EXC_NP, (int32_t)idt_err);
        return -1;
    }
    if (type == GATE_TASK) /* Linux's #DF handler is a task */
        return cpu_task_gate(v, (uint16_t)idt_err, g, TASK_INT, ret_eip, err)
                   ? -1
                   : 0;
    bool gate32 = type & 8;
    int size = gate32 ? 4 : 2;
    uint16_t sel = (uint16_t)(g >> 16), old_cs = v->seg[SEG_CS].sel;
    uint32_t off = (uint32_t)(g & 0xffff) | (uint32_t)((g >> 32) & 0xffff0000u);
    /* A fault pushes RF set, so that the IRET that restarts the
     * instruction does not stop at an instruction breakpoint on it. */
    uint32_t flags = v->eflags | (fault ? EFL_RF : 0);
    if (code_desc(v, sel, &cd, &caddr) != 0)
        return -1;
    int dpl = (DESC_TYPE(cd) & TYPE_CONFORMING) ? v->cpl : DESC_DPL(cd);
    bool v86 = v->eflags & EFL_VM;
    if (dpl > v->cpl || (v86 && dpl != 0)) { /* V86: only to ring 0 */
        cpu_exception(v, EXC_GP, sel & ~3);
        return -1;
    }
    struct segment cs;
    set_accessed(v, caddr, cd);
    seg_from_desc(&cs, (uint16_t)((sel & ~3) | dpl), cd);
    if (dpl < v->cpl) {
        if (switch_stack_inward(v, dpl, size, &cs, v86) != 0)
            return -1;
    } else {
        set_seg(v, SEG_CS, &cs);
    }
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

/*
 * A far CALL or JMP whose selector names a call gate (type 4: 16-bit,
 * 12: 32-bit). CALL may go inward: the new stack comes from the TSS and
 * the gate's parameter count of words or dwords is copied across. Returns
 * 0, or -1 with the fault raised.
 */
int cpu_call_gate(struct vcpu *v, uint16_t sel, uint64_t g, uint32_t next_eip,
                  bool call)
{
    uint32_t caddr;
    uint64_t cd;
    unsigned type = DESC_TYPE(g);
    int size = type == 0xc ? 4 : 2, nparams = (int)((g >> 32) & 0x1f);
    if (DESC_DPL(g) < v->cpl || DESC_DPL(g) < (sel & 3)) {
        cpu_exception(v, EXC_GP, sel & ~3);
        return -1;
    }
    if (!DESC_P(g)) {
        cpu_exception(v, EXC_NP, sel & ~3);
        return -1;
    }
    uint16_t tsel = (uint16_t)(g >> 16);
    uint32_t off = (uint32_t)(g & 0xffff) | (uint32_t)((g >> 32) & 0xffff0000u);
    if (code_desc(v, tsel, &cd, &caddr) != 0)
        return -1;
    bool conforming = DESC_TYPE(cd) & TYPE_CONFORMING;
    int dpl = conforming ? v->cpl : DESC_DPL(cd);
    if (dpl > v->cpl || (!call && dpl != v->cpl)) {
        cpu_exception(v, EXC_GP, tsel & ~3);
        return -1;
    }
    struct segment cs;
    uint16_t old_cs = v->seg[SEG_CS].sel;
    uint32_t old_base = v->seg[SEG_SS].base, old_esp = v->regs[R_ESP];
    uint32_t params[32];
    for (int i = 0; i < nparams; i++) {
        params[i] = 0;
        if (mmu_read(v, old_base + old_esp + (uint32_t)(i * size), &params[i],
                     (unsigned)size) != 0)
            return -1;
    }
    set_accessed(v, caddr, cd);
    seg_from_desc(&cs, (uint16_t)((tsel & ~3) | dpl), cd);
    if (call && dpl < v->cpl) {
        if (switch_stack_inward(v, dpl, size, &cs, false) != 0)
            return -1;
        for (int i = nparams - 1; i >= 0; i--)
            cpu_push(v, params[i], size);
    } else {
        set_seg(v, SEG_CS, &cs);
    }
    if (call) {
        cpu_push(v, old_cs, size);
        cpu_push(v, next_eip, size);
    }
    v->eip = size == 2 ? (off & 0xffff) : off;
    return 0;
}

/* After a return to an outer level: data segments the new level may not
 * use are made null, as the CPU does. */
static void null_inaccessible_segments(struct vcpu *v)
{
    static const int segs[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    for (size_t i = 0; i < 4; i++) {
        struct segment *s = &v->seg[segs[i]];
        bool conforming_code = (s->attr & 0x18) == 0x18 && (s->attr & 0x4);
        if ((s->attr & 0x80) && !conforming_code &&
            (int)((s->attr >> 5) & 3) < v->cpl) {
            struct segment null = {0, 0, 0, 0};
            set_seg(v, segs[i], &null);
        }
    }
}

/* Return to sel:eip from the stack frame just popped: same level, or an
 * outer one (then the outer SS:ESP follows on the stack, after `release`
 * bytes of parameters). */
static int return_to(struct vcpu *v, uint16_t sel, uint32_t eip, int osize,
                     uint16_t release)
{
    uint64_t d;
    uint32_t addr, esp, ss_sel;
    int rpl = sel & 3;
    if (rpl < v->cpl) {
        cpu_exception(v, EXC_GP, sel & ~3);
        return -1;
    }
    if (code_desc(v, sel, &d, &addr) != 0)
        return -1;
    bool conforming = DESC_TYPE(d) & TYPE_CONFORMING;
    if (conforming ? DESC_DPL(d) > rpl : DESC_DPL(d) != rpl) {
        cpu_exception(v, EXC_GP, sel & ~3);
        return -1;
    }
    struct segment cs, ss;
    seg_from_desc(&cs, sel, d);
    if (rpl == v->cpl) {
        set_seg(v, SEG_CS, &cs);
        v->regs[R_ESP] += release;
    } else {
        v->regs[R_ESP] += release;
        if (!cpu_pop(v, &esp, osize) || !cpu_pop(v, &ss_sel, osize) ||
            load_stack_seg(v, (uint16_t)ss_sel, rpl, &ss, EXC_GP) != 0)
            return -1;
        set_seg(v, SEG_CS, &cs);
        set_seg(v, SEG_SS, &ss);
        v->regs[R_ESP] = (osize == 2 ? (esp & 0xffff) : esp) + release;
        null_inaccessible_segments(v);
    }
    set_accessed(v, addr, d);
    v->eip = osize == 2 ? (eip & 0xffff) : eip;
    return 0;
}

int cpu_far_return(struct vcpu *v, int osize, uint16_t release)
{
    uint32_t eip, cs, esp0 = v->regs[R_ESP];
    if (!cpu_pop(v, &eip, osize) || !cpu_pop(v, &cs, osize) ||
        return_to(v, (uint16_t)cs, eip, osize, release) != 0) {
        v->regs[R_ESP] = esp0;
        return -1;
    }
    return 0;
}

uint32_t cpu_flags_writable(const struct vcpu *v, int osize)
{
    int iopl = (int)((v->eflags & EFL_IOPL) >> 12);
    uint32_t m = EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_TF |
                 EFL_DF | EFL_OF | EFL_NT | EFL_AC | EFL_ID;
    if (v->cpl <= iopl) /* CPL is 0 in real mode, 3 in virtual-8086 mode */
        m |= EFL_IF;
    if (v->cpl == 0)
        m |= EFL_IOPL;
    return osize == 2 ? (m & 0xffff) : m;
}

/* A segment register as virtual-8086 mode has it: base sel * 16, 64 KiB,
 * a present, writable (CS: readable code) 16-bit segment at DPL 3. */
static void set_v86_seg(struct vcpu *v, int seg, uint16_t sel)
{
    struct segment s = {sel, (uint32_t)sel << 4, 0xffff,
                        (uint16_t)(seg == SEG_CS ? 0xfb : 0xf3)};
    set_seg(v, seg, &s);
}

/* IRET at CPL 0 with VM in the popped EFLAGS: ESP, SS, ES, DS, FS and GS
 * follow on the stack, and the guest enters virtual-8086 mode at CPL 3. */
static int iret_to_v86(struct vcpu *v, uint32_t eip, uint32_t cs,
                       uint32_t flags, uint32_t esp0)
{
    uint32_t esp, seg[5]; /* SS, ES, DS, FS, GS */
    if (!cpu_pop(v, &esp, 4)) {
        v->regs[R_ESP] = esp0;
        return -1;
    }
    for (int i = 0; i < 5; i++)
        if (!cpu_pop(v, &seg[i], 4)) {
            v->regs[R_ESP] = esp0;
            return -1;
        }
    v->eflags = (flags & ~EFL_RF) | EFL_FIXED; /* VM first: CPL becomes 3 */
    static const int order[5] = {SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    for (int i = 0; i < 5; i++)
        set_v86_seg(v, order[i], (uint16_t)seg[i]);
    set_v86_seg(v, SEG_CS, (uint16_t)cs);
    v->regs[R_ESP] = esp;
    v->eip = eip & 0xffff;
    return 0;
}

int cpu_iret(struct vcpu *v, int osize)
{
    uint32_t eip, cs, flags, esp0 = v->regs[R_ESP];
    if (!cpu_pop(v, &eip, osize) || !cpu_pop(v, &cs, osize) ||
        !cpu_pop(v, &flags, osize)) {
        v->regs[R_ESP] = esp0;
        return -1;
    }
    if ((flags & EFL_VM) && v->cpl == 0 && osize == 4)
        return iret_to_v86(v, eip, cs, flags, esp0);
    uint32_t mask = cpu_flags_writable(v, osize) | (osize == 4 ? EFL_RF : 0);
    if (return_to(v, (uint16_t)cs, eip, osize, 0) != 0) {
        v->regs[R_ESP] = esp0;
        return -1;
    }
    /* No interrupt shadow: IRET opens the window at once. */
    v->eflags = (v->eflags & ~mask) | (flags & mask) | EFL_FIXED;
    return 0;
}

const char *const cpu_vector_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",
    "#TS", "#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM"};

static void triple_fault(struct vcpu *v, int vector)
{
    char why[96];
    snprintf(why, sizeof(why), "guest triple fault (%s at %04x:%08x)",
             vector < 32 && cpu_vector_names[vector] ? cpu_vector_names[vector]
                                                     : "?",
             v->seg[SEG_CS].sel, v->eip);
    if (v->no_reboot) {
        cpu_shutdown(v, 2, why);
    } else {
        fprintf(stderr, "bt386: %s; resetting\n", why);
        v->reset_requested = true;
    }
}

void cpu_begin_insn(struct vcpu *v)
{
    v->defer_faults = true;
    v->deferred_vector = -1;
}

void cpu_end_insn(struct vcpu *v)
{
    v->defer_faults = false;
    if (v->deferred_vector >= 0) {
        int vector = v->deferred_vector;
        v->deferred_vector = -1;
        cpu_exception(v, vector, v->deferred_error);
    }
}

/* Contributory exceptions (SDM "Interrupt 8 - Double Fault"). */
static bool contributory(int vector)
{
    return vector == EXC_DE || vector == EXC_TS || vector == EXC_NP ||
           vector == EXC_SS || vector == EXC_GP;
}

/*
 * Does a fault `second`, raised while delivering event `first`, make a
 * double fault? Only contributory-after-contributory, and #PF or
 * contributory after #PF; everything else (benign first events, software
 * INT n) is handled serially: the second fault is simply delivered.
 */
static bool double_fault(int first, bool first_soft, int second)
{
    if (first_soft || first < 0)
        return false;
    if (contributory(first))
        return contributory(second);
    if (first == EXC_PF)
        return contributory(second) || second == EXC_PF;
    return false;
}

/* Fault-class exceptions (SDM Table 6-1); #DB is a fault only for an
 * instruction breakpoint, which pushes RF clear, so it is not one here. */
static bool fault_class(int vector)
{
    return vector == EXC_DE || vector == EXC_BR || vector == EXC_UD ||
           vector == EXC_NM || contributory(vector) || vector == EXC_PF ||
           vector == EXC_MF || vector == EXC_AC || vector == EXC_XM;
}

/* Deliver an event; a fault during delivery is delivered instead, or
 * escalates to #DF, and a fault while delivering #DF shuts the processor
 * down (triple fault). `fault`: an exception of the fault class. */
static void raise_event(struct vcpu *v, int vector, int32_t err,
                        uint32_t ret_eip, bool soft, bool fault)
{
    if (v->test_stop_on_event) {
        v->test_event_vector = vector;
        v->test_event_error = err;
        if (soft)
            v->eip = ret_eip;
        cpu_shutdown(v, 0, NULL);
        return;
    }
    if (v->delivering) {
        int first = v->delivering - 1;
        if (first == EXC_DF) {
            v->delivering = 0;
            triple_fault(v, vector);
            return;
        }
        if (double_fault(first, v->delivering_soft, vector)) {
            vector = EXC_DF;
            err = 0;
            ret_eip = v->eip;
            soft = fault = false;
        }
    }
    if (vector < 32)
        v->stats.exceptions[vector]++;
    v->events++;
    int saved = v->delivering;
    bool saved_soft = v->delivering_soft;
    v->delivering = vector + 1;
    v->delivering_soft = soft;
    v->halted = false;
    if (!(v->cr0 & CR0_PE)) { /* real mode; V86 delivers through the IDT */
        if (!deliver_real(v, vector, ret_eip))
            raise_event(v, EXC_GP, ERR_IDT, v->eip, false, true);
    } else {
        int r = deliver_protected(v, vector, err, ret_eip, soft, fault);
        if (r > 0)
            raise_event(v, EXC_GP, r - 1, v->eip, false, true);
    }
    v->delivering = saved;
    v->delivering_soft = saved_soft;
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
    if (v->defer_faults) {
        if (v->deferred_vector < 0) {
            v->deferred_vector = vector;
            v->deferred_error = err;
        }
        return;
    }
    bool trap = vector == EXC_BP || vector == EXC_OF;
    if (!(v->cr0 & CR0_PE) || !has_error_code(vector))
        err = -1;
    raise_event(v, vector, err, v->eip, trap, fault_class(vector));
}

void cpu_interrupt(struct vcpu *v, int vector)
{
    v->stats.interrupts++;
    v->stats.irq_vectors[vector & 0xff]++;
    raise_event(v, vector, -1, v->eip, false, false);
}

void cpu_soft_interrupt(struct vcpu *v, int vector, uint32_t next_eip)
{
    raise_event(v, vector, -1, next_eip, true, false);
}

void cpu_shutdown(struct vcpu *v, int status, const char *why)
{
    v->shutdown = true;
    v->exit_status = status;
    snprintf(v->shutdown_why, sizeof(v->shutdown_why), "%s", why ? why : "");
}

void cpu_cr3_loaded(struct vcpu *v)
{
    if (v->shadow) {
        shadow_flush_nonglobal(v->shadow);
        v->stats.shadow_flushes_nonglobal++;
        vcpu_jc_clear_nonglobal(v);
    }
    cpu_paging_changed(v, false);
}

void cpu_paging_changed(struct vcpu *v, bool flush)
{
    if (flush && v->shadow) {
        shadow_flush(v->shadow);
        v->stats.shadow_flushes++;
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
    if ((old ^ v->cr0) & (CR0_PE | CR0_PG | CR0_TS | CR0_EM | CR0_MP))
        vcpu_jc_clear(v); /* translation mode bits changed */
    if ((old ^ v->cr0) & (CR0_PG | CR0_WP))
        cpu_paging_changed(v, true);
    if (((old ^ v->cr0) & CR0_PG) && v->watch.n)
        watch_update(v); /* window pages or shadow misses: see watch.c */
}
