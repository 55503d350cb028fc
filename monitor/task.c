// SPDX-License-Identifier: MIT
/*
 * Hardware task switches (SDM Vol. 3, 7.3): a far JMP or CALL to a TSS
 * descriptor or a task gate, an interrupt or exception through a task
 * gate in the IDT, and IRET with EFLAGS.NT back to the previous task.
 *
 * Everything that can fault in the old task's context is checked before
 * anything changes; once the old task's state is saved and TR names the
 * new task, a fault loading the new task's segments is raised in the new
 * task's context, as on hardware. 32-bit TSSs only: a 16-bit TSS is
 * reported and the machine stops.
 */
#include "monitor/desc.h"
#include "monitor/monitor.h"

#include <stddef.h>
#include <stdio.h>

/* The 32-bit TSS (SDM Figure 7-2): the fields a switch reads or writes. */
#define TSS_LINK      0x00
#define TSS_CR3       0x1c
#define TSS_EIP       0x20
#define TSS_EFLAGS    0x24
#define TSS_REGS      0x28 /* EAX..EDI, 4 bytes each, in encoding order */
#define TSS_SEGS      0x48 /* ES, CS, SS, DS, FS, GS, 4 bytes each */
#define TSS_LDT       0x60
#define TSS_STATE_END 0x68 /* the minimum limit is 0x67 */

/* The TSS of selector sel, from the GDT: its descriptor and address.
 * A TSS must be in the GDT, so a selector with TI set names none. */
static bool tss_desc(struct vcpu *v, uint16_t sel, uint64_t *d, uint32_t *addr)
{
    return !(sel & 4) && (sel & ~3) && read_desc(v, sel, d, addr);
}

static void set_busy(struct vcpu *v, uint32_t addr, uint64_t d, bool busy)
{
    uint8_t b = (uint8_t)(d >> 40);
    b = busy ? (b | TSS_BUSY) : (b & ~TSS_BUSY);
    sys_write(v, addr + 5, &b, 1);
}

/* Raise vec with the selector's error code; always -1. */
static int fault(struct vcpu *v, int vec, uint16_t sel)
{
    cpu_exception(v, vec, sel & ~3);
    return -1;
}

/* The new task's LDT (SDM Table 7-1: #TS if invalid or not present). */
static int load_ldt(struct vcpu *v, uint16_t sel)
{
    uint64_t d;
    uint32_t addr;
    if ((sel & ~3) == 0) {
        v->ldtr = (struct segment){sel, 0, 0, 0};
        return 0;
    }
    if ((sel & 4) || !read_desc(v, sel, &d, &addr) || DESC_S(d) ||
        DESC_TYPE(d) != SYS_LDT || !DESC_P(d))
        return fault(v, EXC_TS, sel);
    seg_from_desc(&v->ldtr, sel, d);
    return 0;
}

/* CS of the new task: a present code segment whose DPL fits its RPL. */
static int load_code(struct vcpu *v, uint16_t sel)
{
    uint64_t d;
    uint32_t addr;
    if ((sel & ~3) == 0 || !read_desc(v, sel, &d, &addr) || !DESC_S(d) ||
        !(DESC_TYPE(d) & TYPE_CODE))
        return fault(v, EXC_TS, sel);
    int rpl = sel & 3, dpl = DESC_DPL(d);
    if ((DESC_TYPE(d) & TYPE_CONFORMING) ? dpl > rpl : dpl != rpl)
        return fault(v, EXC_TS, sel);
    if (!DESC_P(d))
        return fault(v, EXC_NP, sel);
    struct segment s;
    set_accessed(v, addr, d);
    seg_from_desc(&s, sel, d);
    set_seg(v, SEG_CS, &s); /* the CPL is now the RPL of sel */
    return 0;
}

/* The new task's CR3: with paging on, a load like MOV CR3 does. */
static void load_cr3(struct vcpu *v, uint32_t cr3)
{
    if (!(v->cr0 & CR0_PG)) {
        v->cr3 = cr3;
        return;
    }
    v->cr3 = cr3;
    if (v->cr4 & CR4_PGE)
        cpu_cr3_loaded(v);
    else
        cpu_paging_changed(v, true);
}

int cpu_task_switch(struct vcpu *v, uint16_t sel, enum task_reason why,
                    uint32_t ret_eip, int32_t err)
{
    uint64_t nd, od;
    uint32_t naddr, oaddr;
    bool nested = why == TASK_CALL || why == TASK_INT;
    /* The new TSS: in the GDT, a TSS of the right busy state (busy only
     * when going back by IRET), present, large enough. */
    int bad = why == TASK_IRET ? EXC_TS : EXC_GP;
    if (!tss_desc(v, sel, &nd, &naddr) || DESC_S(nd))
        return fault(v, bad, sel);
    unsigned type = DESC_TYPE(nd);
    if ((type & ~TSS_BUSY) != SYS_TSS32 && (type & ~TSS_BUSY) != SYS_TSS16)
        return fault(v, bad, sel);
    if (((type & TSS_BUSY) != 0) != (why == TASK_IRET))
        return fault(v, bad, sel);
    if (!DESC_P(nd))
        return fault(v, EXC_NP, sel);
    struct segment nt;
    seg_from_desc(&nt, sel, nd);
    if (nt.limit < TSS_STATE_END - 1)
        return fault(v, EXC_TS, sel);
    unsigned otype = v->tr.attr & 0xf;
    if ((type & ~TSS_BUSY) == SYS_TSS16 || otype == SYS_TSS16_BUSY ||
        otype == SYS_TSS16) {
        cpu_shutdown(v, 1, "task switch with a 16-bit TSS is not implemented");
        return -1;
    }
    if (!(v->tr.attr & 0x80) || v->tr.limit < TSS_STATE_END - 1 ||
        !tss_desc(v, v->tr.sel, &od, &oaddr))
        return fault(v, EXC_TS, v->tr.sel);

    /* Read the new task's state, then save the old one: a page fault in
     * either leaves the old task as it was. */
    uint32_t state[TSS_STATE_END / 4];
    if (sys_read(v, nt.base, state, sizeof(state)) != 0)
        return -1;
    uint32_t saved[(TSS_LDT - TSS_EIP) / 4];
    saved[0] = ret_eip;
    saved[1] = v->eflags & ~(why == TASK_IRET ? EFL_NT : 0);
    for (int r = 0; r < 8; r++)
        saved[2 + r] = v->regs[r];
    for (int s = 0; s < SEG_COUNT; s++)
        saved[10 + s] = v->seg[s].sel;
    if (sys_write(v, v->tr.base + TSS_EIP, saved, sizeof(saved)) != 0)
        return -1;

    /* Commit: busy bits, the back link, TR, CR0.TS. */
    if (why == TASK_JMP || why == TASK_IRET)
        set_busy(v, oaddr, od, false);
    if (nested) {
        uint16_t link = v->tr.sel;
        sys_write(v, nt.base + TSS_LINK, &link, 2);
    }
    if (why != TASK_IRET) {
        set_busy(v, naddr, nd, true);
        nd |= (uint64_t)TSS_BUSY << 40;
    }
    seg_from_desc(&v->tr, sel, nd);
    cpu_set_cr0(v, v->cr0 | CR0_TS);
    v->stats.task_switches++;

    /* The new task's registers, then its segments; a fault from here on
     * belongs to the new task. */
    uint32_t eflags = state[TSS_EFLAGS / 4] | EFL_FIXED;
    if (nested)
        eflags |= EFL_NT;
    if (eflags & EFL_VM) {
        cpu_shutdown(v, 1,
                     "task switch to a virtual-8086 task is not "
                     "implemented");
        return -1;
    }
    load_cr3(v, state[TSS_CR3 / 4]);
    v->eip = state[TSS_EIP / 4];
    v->eflags = eflags;
    for (int r = 0; r < 8; r++)
        v->regs[r] = state[TSS_REGS / 4 + r];
    /* Selectors first, each with an unusable cache, so that what a fault
     * handler sees is the new task's (SDM 7.3, step 13). */
    for (int s = 0; s < SEG_COUNT; s++) {
        struct segment blank = {(uint16_t)state[TSS_SEGS / 4 + s], 0, 0, 0};
        if (s != SEG_CS)
            set_seg(v, s, &blank);
    }
    static const int order[] = {SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};
    if (load_ldt(v, (uint16_t)state[TSS_LDT / 4]) != 0 ||
        load_code(v, (uint16_t)state[TSS_SEGS / 4 + SEG_CS]) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (cpu_load_seg_as(v, order[i],
                            (uint16_t)state[TSS_SEGS / 4 + order[i]],
                            EXC_TS) != 0)
            return -1;
    if (err >= 0 && !cpu_push(v, (uint32_t)err, 4))
        return -1;
    return 0;
}

int cpu_task_gate(struct vcpu *v, uint16_t gate_sel, uint64_t g,
                  enum task_reason why, uint32_t ret_eip, int32_t err)
{
    if (why != TASK_INT &&
        (DESC_DPL(g) < v->cpl || DESC_DPL(g) < (gate_sel & 3)))
        return fault(v, EXC_GP, gate_sel);
    if (!DESC_P(g))
        return fault(v, EXC_NP, gate_sel);
    return cpu_task_switch(v, (uint16_t)(g >> 16), why, ret_eip, err);
}

bool cpu_far_task(struct vcpu *v, uint16_t sel, bool call, uint32_t next_eip,
                  int *r)
{
    uint64_t d;
    uint32_t addr;
    if (!cpu_protected_mode(v) || (sel & ~3) == 0 ||
        !read_desc(v, sel, &d, &addr) || DESC_S(d))
        return false;
    enum task_reason why = call ? TASK_CALL : TASK_JMP;
    unsigned type = DESC_TYPE(d) & ~TSS_BUSY;
    if (DESC_TYPE(d) == GATE_TASK) {
        *r = cpu_task_gate(v, sel, d, why, next_eip, -1);
        return true;
    }
    if (type != SYS_TSS16 && type != SYS_TSS32)
        return false;
    if (DESC_DPL(d) < v->cpl || DESC_DPL(d) < (sel & 3))
        *r = fault(v, EXC_GP, sel);
    else
        *r = cpu_task_switch(v, sel, why, next_eip, -1);
    return true;
}

int cpu_task_return(struct vcpu *v, uint32_t ret_eip)
{
    uint16_t link = 0;
    if (sys_read(v, v->tr.base + TSS_LINK, &link, 2) != 0)
        return -1;
    return cpu_task_switch(v, link, TASK_IRET, ret_eip, -1);
}
