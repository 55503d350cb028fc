// SPDX-License-Identifier: MIT
/*
 * Segment limit and type checks for translated code. Translated code adds
 * segment bases but checks nothing, which is right for the usable 4 GiB
 * expand-up writable segments real guests run with. A data segment that
 * is not (and, in protected mode, any CS override) sets its MODE_SEGCHK
 * bit, and an instruction that accesses memory through it leaves with
 * EXIT_SEGCHECK. Here its accesses are checked as the SDM says (null
 * selector, write to code or read-only data, read of execute-only code,
 * limit, expand-down bounds), raising #GP(0), or #SS(0) for SS; if they
 * pass, the instruction runs once in a block that does not stop for it.
 */
#include "monitor/monitor.h"
#include "dbt/dbt.h"
#include "dbt/decode.h"

#include <stdint.h>

#define TYPE_CODE        0x8
#define TYPE_EXPAND_DOWN 0x4 /* data */
#define TYPE_RW          0x2 /* data: writable; code: readable */

/* Bytes [off, off + size) through segment seg; 0, or -1 after raising
 * the fault. size is at most 2^32 (a long REP string). */
static int check(struct vcpu *v, int seg, uint32_t off, uint64_t size,
                 bool write)
{
    const struct segment *s = &v->seg[seg];
    unsigned type = s->attr & 0xf;
    bool ok = s->attr & 0x80; /* a null selector leaves it not present */
    if (ok && (type & TYPE_CODE))
        ok = !write && (type & TYPE_RW);
    else if (ok && write)
        ok = type & TYPE_RW;
    if (ok && size) {
        uint64_t last = (uint64_t)off + size - 1;
        if (!(type & TYPE_CODE) && (type & TYPE_EXPAND_DOWN))
            ok = off > s->limit &&
                 last <= ((s->attr & SEG_ATTR_DB) ? 0xffffffffu : 0xffffu);
        else
            ok = last <= s->limit;
    }
    if (ok)
        return 0;
    cpu_exception(v, seg == SEG_SS ? EXC_SS : EXC_GP, 0);
    return -1;
}

static uint32_t index_reg(const struct vcpu *v, int r, bool a16)
{
    return a16 ? (v->regs[r] & 0xffff) : v->regs[r];
}

/* A string instruction's operands over the elements REP will run. */
static int check_string(struct vcpu *v, const struct insn *in, bool si, bool di,
                        bool di_write)
{
    uint8_t op = insn_op(in, 0);
    uint32_t size = (op & 1) ? (in->op16 ? 2u : 4u) : 1u;
    uint64_t count = 1;
    if (in->rep || in->repne)
        count = in->addr16 ? (v->regs[R_ECX] & 0xffff) : v->regs[R_ECX];
    if (count == 0)
        return 0;
    int src = in->seg_override >= 0 ? in->seg_override : SEG_DS;
    uint64_t span = count * size;
    bool down = v->eflags & EFL_DF;
    uint32_t back = down ? (uint32_t)(span - size) : 0;
    if (si &&
        check(v, src, index_reg(v, R_ESI, in->addr16) - back, span, false))
        return -1;
    if (di && check(v, SEG_ES, index_reg(v, R_EDI, in->addr16) - back, span,
                    di_write))
        return -1;
    return 0;
}

/* The stack slot a PUSH/POP-like instruction touches. */
static int check_stack(struct vcpu *v, const struct insn *in)
{
    uint32_t off, size;
    bool write;
    uint8_t op = insn_op(in, 0);
    if (op == 0x60 || op == 0x61) { /* PUSHA, POPA: eight registers */
        size = (in->op16 ? 2 : 4) * 8;
        write = op == 0x60;
        off = write ? v->regs[R_ESP] - size : v->regs[R_ESP];
        if (!(v->seg[SEG_SS].attr & SEG_ATTR_DB))
            off &= 0xffff;
    } else if (!insn_stack_slot(v, in, &off, &size, &write)) {
        return 0; /* ENTER, LEAVE, IRET ...: not checked (see the docs) */
    }
    return check(v, SEG_SS, off, size, write);
}

void cpu_segcheck(struct vcpu *v)
{
    struct insn in;
    if (!dbt_decode_at(v->dbt, v, v->eip, &in)) {
        cpu_exception(v, EXC_UD, -1);
        return;
    }
    uint8_t op = insn_op(&in, 0);
    bool si, di, di_write;
    int r = 0;
    if (insn_string(&in, &si, &di, &di_write)) {
        r = check_string(v, &in, si, di, di_write);
    } else if (op == 0xd7) { /* XLAT: [EBX + AL] */
        int seg = in.seg_override >= 0 ? in.seg_override : SEG_DS;
        uint32_t off = index_reg(v, R_EBX, in.addr16) + (v->regs[R_EAX] & 0xff);
        r = check(v, seg, in.addr16 ? (off & 0xffff) : off, 1, false);
    } else if (in.has_mem) {
        uint32_t off = insn_linear(v, &in) - v->seg[in.mem_seg].base;
        r = check(v, in.mem_seg, off, in.mem_size ? in.mem_size : 1,
                  in.mem_write);
    }
    if (r == 0 && in.implicit_esp)
        r = check_stack(v, &in);
    if (r == 0)
        dbt_step_unchecked(v->dbt);
}
