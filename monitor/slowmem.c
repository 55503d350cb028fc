// SPDX-License-Identifier: MIT
/* The slow access path: an instruction whose memory operand the fast path
 * cannot reach (it crosses a page, or no RAM is behind it) runs once,
 * translated with its operand in the vCPU's bounce buffer; the monitor
 * reads the operand before and writes it back after, in C. */
#include "monitor/monitor.h"
#include "dbt/dbt.h"
#include "dbt/decode.h"
#include "mmu/access.h"
#include "mmu/walk.h"

#include <stdio.h>

/* Linear address of an instruction's memory operand. */
uint32_t insn_linear(const struct vcpu *v, const struct insn *in)
{
    uint32_t a = (uint32_t)in->mem_disp;
    if (in->mem_base >= 0)
        a += v->regs[in->mem_base];
    if (in->mem_index >= 0)
        a += v->regs[in->mem_index] * (uint32_t)in->mem_scale;
    if (in->bit_offset) { /* BT* m, r: the bit offset's dword */
        int32_t bits = in->op16 ? (int16_t)v->regs[in->reg]
                                : (int32_t)v->regs[in->reg];
        a += (uint32_t)((bits >> (in->op16 ? 4 : 5)) * (in->op16 ? 2 : 4));
    }
    if (in->addr16)
        a &= 0xffff;
    return v->seg[in->mem_seg].base + a;
}

/* 1 for a push of one operand-size item (PUSH, CALL), -1 for a pop (POP,
 * RET), 0 for the other instructions using ESP implicitly (PUSHA, ENTER,
 * IRET, ...). */
static int insn_stack_access(const struct insn *in)
{
    uint8_t op = insn_op(in, 0), reg = in->has_modrm ? in->reg : 0;
    if ((op >= 0x50 && op <= 0x57) || op == 0x68 || op == 0x6a || op == 0x9c ||
        op == 0xe8 || op == 0x06 || op == 0x0e || op == 0x16 || op == 0x1e ||
        (op == 0xff && (reg == 2 || reg == 6)))
        return 1;
    if ((op >= 0x58 && op <= 0x5f) || op == 0x9d || op == 0xc3 || op == 0xc2 ||
        op == 0x07 || op == 0x17 || op == 0x1f || (op == 0x8f && reg == 0))
        return -1;
    if (op == 0x0f) {
        uint8_t op2 = insn_op(in, 1);
        return op2 == 0xa0 || op2 == 0xa8   ? 1
               : op2 == 0xa1 || op2 == 0xa9 ? -1
                                            : 0;
    }
    return 0;
}

bool insn_stack_slot(const struct vcpu *v, const struct insn *in,
                     uint32_t *off, uint32_t *size, bool *write)
{
    int dir = in->implicit_esp ? insn_stack_access(in) : 0;
    if (!dir)
        return false;
    *size = in->op16 ? 2 : 4;
    *off = dir > 0 ? v->regs[R_ESP] - *size : v->regs[R_ESP];
    if (!(v->seg[SEG_SS].attr & SEG_ATTR_DB))
        *off &= 0xffff;
    *write = dir > 0;
    return true;
}

/* Check every page of [la, la + size) for the access; raise #PF (with CR2
 * at the first byte of the failing page) and return -1 if one fails. */
static int probe(struct vcpu *v, uint32_t la, uint32_t size, bool write)
{
    unsigned acc = (write ? ACC_WRITE : 0) | (v->cpl == 3 ? ACC_USER : 0);
    uint32_t at = la, end = la + size;
    for (;;) {
        struct walk w;
        uint32_t err;
        if (mmu_walk(v, at, acc, &w, &err) != 0) {
            v->cr2 = at;
            cpu_exception(v, EXC_PF, (int32_t)err);
            return -1;
        }
        uint32_t next = (at & ~0xfffu) + 4096;
        if (next - la >= size || next == 0 || end <= next)
            return 0;
        at = next;
    }
}

void slowmem_begin(struct vcpu *v)
{
    struct insn in;
    char why[128];
    if (!dbt_decode_at(v->dbt, v, v->eip, &in)) {
        cpu_exception(v, EXC_UD, -1);
        return;
    }
    uint32_t la = 0, size = 0;
    bool write = false;
    if (!in.has_mem && insn_string(&in, NULL, NULL, NULL)) {
        emulate_insn(v); /* implicit string operands: the C path */
        return;
    }
    /* The one access to bounce: the stack slot of a PUSH/POP-like
     * instruction (CALL, RET, PUSH r), or the memory operand. PUSH m,
     * POP m and CALL m have both, either of which may be the one that
     * crosses a page or has no RAM; the C path does them whole. So it
     * does LEAVE, whose slot is at EBP. */
    bool stack = insn_stack_slot(v, &in, &la, &size, &write);
    if ((stack && in.has_mem) || insn_op(&in, 0) == 0xc9) {
        emulate_insn(v); /* and LEAVE, whose pop is at EBP */
        return;
    }
    if (stack) {
        la += v->seg[SEG_SS].base;
    } else if (in.has_mem) {
        la = insn_linear(v, &in);
        size = in.mem_size;
        write = in.mem_write;
    } else {
        snprintf(why, sizeof(why), "stack or implicit access at %04x:%08x "
                 "reaches memory that is not RAM; not emulated",
                 v->seg[SEG_CS].sel, v->eip);
        cpu_shutdown(v, 1, why);
        return;
    }
    if (size == 0 || size > sizeof(v->bounce)) {
        snprintf(why, sizeof(why), "slow access of unknown size at "
                 "%04x:%08x (%s)", v->seg[SEG_CS].sel, v->eip, in.text);
        cpu_shutdown(v, 1, why);
        return;
    }
    if (probe(v, la, size, write) != 0 || mmu_read(v, la, v->bounce, size) != 0)
        return;
    v->slow.pending = true;
    v->slow.write = write;
    v->slow.la = la;
    v->slow.size = size;
    v->stats.slow_accesses++;
    if (stack)
        dbt_bounce_stack_next(v->dbt);
    else
        dbt_bounce_next(v->dbt);
}

void slowmem_finish(struct vcpu *v, bool completed)
{
    if (!v->slow.pending)
        return;
    v->slow.pending = false;
    if (completed && v->slow.write)
        mmu_write(v, v->slow.la, v->bounce, v->slow.size);
}
