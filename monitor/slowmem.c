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
    if (!in.has_mem) {
        /* Implicit operands: string instructions go to the C path; a
         * stack outside memory is not something the bounce can serve. */
        uint8_t op = insn_op(&in, 0);
        if ((op >= 0xa4 && op <= 0xaf) || (op >= 0x6c && op <= 0x6f)) {
            emulate_insn(v);
            return;
        }
        snprintf(why, sizeof(why), "stack or implicit access at %04x:%08x "
                 "reaches memory that is not RAM; not emulated",
                 v->seg[SEG_CS].sel, v->eip);
        cpu_shutdown(v, 1, why);
        return;
    }
    uint32_t la = insn_linear(v, &in), size = in.mem_size;
    if (size == 0 || size > sizeof(v->bounce)) {
        snprintf(why, sizeof(why), "slow access of unknown size at "
                 "%04x:%08x (%s)", v->seg[SEG_CS].sel, v->eip, in.text);
        cpu_shutdown(v, 1, why);
        return;
    }
    if (probe(v, la, size, in.mem_write) != 0 ||
        mmu_read(v, la, v->bounce, size) != 0)
        return;
    v->slow.pending = true;
    v->slow.write = in.mem_write;
    v->slow.la = la;
    v->slow.size = size;
    v->stats.slow_accesses++;
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
