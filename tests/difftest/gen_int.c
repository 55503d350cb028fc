// SPDX-License-Identifier: MIT
/* Difftest templates: integer arithmetic, logic, shifts, bit operations,
 * data movement and the odd one-byte instructions. */
#include "tests/difftest/gen.h"

/* The flags condition code cc (0..15, Jcc order) reads. */
uint32_t cc_reads(int cc)
{
    static const uint32_t r[8] = {F_OF, F_CF, F_ZF, F_CF | F_ZF,
                                  F_SF, F_PF, F_SF | F_OF,
                                  F_ZF | F_SF | F_OF};
    return r[(cc >> 1) & 7];
}

/* ALU op (ADD OR ADC SBB AND SUB XOR CMP): flags read and written. */
static uint32_t alu_reads(int op)
{
    return op == 2 || op == 3 ? F_CF : 0;
}

static void alu_end(struct gen *g, int op)
{
    bool logic = op == 1 || op == 4 || op == 6;
    gen_end(g, logic ? FL_LOGIC : FL_ALL, logic ? F_AF : 0);
}

/* Emit [66] opcode, ModRM(regfield, m). */
static void emit_op_rm(struct gen *g, int size, uint8_t op, int regfield,
                       const struct mop *m)
{
    gen_opsize(g, size);
    gen_byte(g, op);
    gen_modrm(g, regfield, m);
}

static void emit_0f_rm(struct gen *g, int size, uint8_t op, int regfield,
                       const struct mop *m)
{
    gen_opsize(g, size);
    gen_byte(g, 0x0f);
    gen_byte(g, op);
    gen_modrm(g, regfield, m);
}

static int imm_size(int size)
{
    return size == 1 ? 1 : size;
}

/* ADD..CMP r/m, reg and reg, r/m. */
void t_alu(struct gen *g)
{
    int op = (int)gen_below(g, 8), size = gen_size(g);
    bool to_reg = gen_pct(g, 50);
    struct mop m;
    int reg;
    if (to_reg) {
        m = gen_rm(g, size);
        reg = op == 7 ? gen_src(g) : gen_dst_sized(g, size);
    } else {
        m = op == 7 ? gen_rm(g, size) : gen_rm_dst(g, size);
        reg = gen_src(g);
    }
    gen_reads(g, alu_reads(op));
    gen_begin(g);
    emit_op_rm(g, size, (uint8_t)(op * 8 + (to_reg ? 2 : 0) + (size != 1)),
               reg, &m);
    alu_end(g, op);
}

/* ADD..CMP r/m, imm: 80, 81, 83 (sign-extended imm8), 82 (32-bit only). */
void t_alu_imm(struct gen *g)
{
    int op = (int)gen_below(g, 8), size = gen_size(g);
    struct mop m = op == 7 ? gen_rm(g, size) : gen_rm_dst(g, size);
    uint8_t opc = size == 1 ? 0x80 : gen_pct(g, 50) ? 0x83 : 0x81;
    if (size == 1 && g->allow32 && gen_pct(g, 10)) {
        opc = 0x82;
        gen_need32(g);
    }
    gen_reads(g, alu_reads(op));
    gen_begin(g);
    emit_op_rm(g, size, opc, op, &m);
    uint32_t v = gen_value(g, 4);
    gen_imm(g, v, opc == 0x81 ? imm_size(size) : 1);
    alu_end(g, op);
}

/* ADD..CMP AL/AX/EAX, imm: the short accumulator forms. */
void t_alu_acc(struct gen *g)
{
    int op = (int)gen_below(g, 8), size = gen_size(g);
    if (op != 7 && !gen_writable(g, EAX))
        return;
    gen_reads(g, alu_reads(op));
    gen_begin(g);
    gen_opsize(g, size);
    gen_byte(g, (uint8_t)(op * 8 + 4 + (size != 1)));
    gen_imm(g, gen_value(g, size), imm_size(size));
    alu_end(g, op);
}

/* INC/DEC r/m: FE /0 /1, FF /0 /1. */
void t_incdec(struct gen *g)
{
    int size = gen_size(g);
    struct mop m = gen_rm_dst(g, size);
    gen_begin(g);
    emit_op_rm(g, size, size == 1 ? 0xfe : 0xff, (int)gen_below(g, 2), &m);
    gen_end(g, FL_INCDEC, 0);
}

/* INC/DEC r32/r16: the one-byte 40-4F forms (REX prefixes in 64-bit). */
void t_incdec_short(struct gen *g)
{
    int size = gen_pct(g, 25) ? 2 : 4, r = gen_dst(g);
    gen_need32(g);
    gen_begin(g);
    gen_opsize(g, size);
    gen_byte(g, (uint8_t)(0x40 + 8 * gen_below(g, 2) + r));
    gen_end(g, FL_INCDEC, 0);
}

/* NOT/NEG r/m: F6/F7 /2 /3. */
void t_negnot(struct gen *g)
{
    int size = gen_size(g), neg = (int)gen_below(g, 2);
    struct mop m = gen_rm_dst(g, size);
    gen_begin(g);
    emit_op_rm(g, size, size == 1 ? 0xf6 : 0xf7, 2 + neg, &m);
    gen_end(g, neg ? FL_ALL : 0, 0);
}

/* TEST r/m, reg (84/85), r/m, imm (F6/F7 /0), AL/EAX, imm (A8/A9). */
void t_test(struct gen *g)
{
    int size = gen_size(g), form = (int)gen_below(g, 3);
    struct mop m = gen_rm(g, size);
    int reg = gen_src(g);
    gen_begin(g);
    if (form == 0) {
        emit_op_rm(g, size, size == 1 ? 0x84 : 0x85, reg, &m);
    } else if (form == 1) {
        emit_op_rm(g, size, size == 1 ? 0xf6 : 0xf7, 0, &m);
        gen_imm(g, gen_value(g, size), imm_size(size));
    } else {
        gen_opsize(g, size);
        gen_byte(g, size == 1 ? 0xa8 : 0xa9);
        gen_imm(g, gen_value(g, size), imm_size(size));
    }
    gen_end(g, FL_LOGIC, F_AF);
}

/* A shift count worth testing. */
static uint32_t shift_count(struct gen *g)
{
    static const uint8_t counts[] = {0, 1, 1, 2, 3, 7, 8, 9, 15, 16, 17,
                                     31, 32, 33, 63, 255};
    return gen_pct(g, 80) ? counts[gen_below(g, sizeof(counts))]
                          : gen_below(g, 256);
}

/* Flags after shift/rotate op (0..7 = ROL ROR RCL RCR SHL SHR SAL SAR) by a
 * known count; count < 0: unknown (CL not set here). */
static void shift_flags(int op, int size, int count, uint32_t *defs,
                        uint32_t *undef)
{
    bool rot = op < 4;
    int c = count & 31;
    *defs = *undef = 0;
    if (count < 0) {
        *undef = rot ? F_OF : F_OF | F_AF | (size < 4 ? F_CF : 0);
        return;
    }
    if (c == 0)
        return;
    if (rot) {
        int m = op >= 2 ? c % (size * 8 + 1) : c;
        *defs = (m ? F_CF : 0) | (c == 1 ? F_OF : 0);
        *undef = c == 1 ? 0 : F_OF;
        return;
    }
    bool cf_undef = (op == 4 || op == 5) && c >= size * 8;
    *defs = F_SF | F_ZF | F_PF | (cf_undef ? 0 : F_CF) | (c == 1 ? F_OF : 0);
    *undef = F_AF | (c == 1 ? 0 : F_OF) | (cf_undef ? F_CF : 0);
}

/* ROL ROR RCL RCR SHL SHR SAR by 1 (D0/D1), CL (D2/D3) and imm8 (C0/C1). */
void t_shift(struct gen *g)
{
    static const int ops[] = {0, 1, 2, 3, 4, 5, 7};
    int op = ops[gen_below(g, 7)], size = gen_size(g), form = (int)gen_below(g, 3);
    int count = form == 0 ? 1 : (int)shift_count(g);
    struct mop m = gen_rm_dst(g, size);
    if (form == 1) {
        if (gen_writable(g, ECX) && gen_pct(g, 80) &&
            !(m.index == ECX && !m.is_reg) && !(m.is_reg && (m.reg & 3) == ECX))
            gen_mov_imm(g, ECX, (uint32_t)count | (gen_r32(g) & 0xffffff00));
        else
            count = -1;
    }
    uint32_t defs, undef;
    shift_flags(op, size, count, &defs, &undef);
    gen_reads(g, op == 2 || op == 3 ? F_CF : 0);
    gen_begin(g);
    uint8_t base = form == 0 ? 0xd0 : form == 1 ? 0xd2 : 0xc0;
    emit_op_rm(g, size, (uint8_t)(base + (size != 1)), op, &m);
    if (form == 2)
        gen_imm(g, (uint32_t)count, 1);
    gen_end(g, defs, undef);
}

/* SHLD/SHRD r/m, reg, imm8 (0F A4/AC) and CL (0F A5/AD). */
void t_shiftd(struct gen *g)
{
    int size = gen_pct(g, 30) ? 2 : 4, right = (int)gen_below(g, 2);
    bool cl = gen_pct(g, 50);
    struct mop m = gen_rm_dst(g, size);
    int reg = gen_src(g);
    int count = (int)gen_below(g, size == 2 ? 17 : 40);
    if (cl && (!gen_writable(g, ECX) || (m.is_reg && m.reg == ECX) ||
               m.index == ECX))
        cl = false;
    if (cl)
        gen_mov_imm(g, ECX, (uint32_t)count | (gen_r32(g) & 0xffffffe0));
    int c = count & 31;
    uint32_t defs = c == 0 ? 0 : (F_CF | F_SF | F_ZF | F_PF | (c == 1 ? F_OF : 0));
    uint32_t undef = c == 0 ? 0 : (F_AF | (c == 1 ? 0 : F_OF));
    gen_begin(g);
    emit_0f_rm(g, size, (uint8_t)(0xa4 + 8 * right + cl), reg, &m);
    if (!cl)
        gen_imm(g, (uint32_t)count, 1);
    gen_end(g, defs, undef);
}

/* Maybe load EAX and EDX with interesting values before MUL/DIV. */
static void setup_acc(struct gen *g, int size)
{
    if (gen_pct(g, 60))
        gen_mov_imm(g, EAX, gen_value(g, 4));
    if (gen_pct(g, 40))
        gen_mov_imm(g, EDX, gen_value(g, 4));
}

/* MUL/IMUL r/m: F6/F7 /4 /5. */
void t_mul(struct gen *g)
{
    if (!gen_writable(g, EAX) || !gen_writable(g, EDX))
        return;
    int size = gen_size(g);
    setup_acc(g, size);
    struct mop m = gen_rm(g, size);
    gen_begin(g);
    emit_op_rm(g, size, size == 1 ? 0xf6 : 0xf7, 4 + (int)gen_below(g, 2), &m);
    gen_end(g, F_CF | F_OF, F_SF | F_ZF | F_AF | F_PF);
}

/* IMUL reg, r/m (0F AF); reg, r/m, imm (69, 6B). */
void t_imul(struct gen *g)
{
    int size = gen_pct(g, 30) ? 2 : 4, form = (int)gen_below(g, 3);
    struct mop m = gen_rm(g, size);
    int reg = gen_dst(g);
    gen_begin(g);
    if (form == 0) {
        emit_0f_rm(g, size, 0xaf, reg, &m);
    } else {
        emit_op_rm(g, size, form == 1 ? 0x69 : 0x6b, reg, &m);
        gen_imm(g, gen_value(g, size), form == 1 ? size : 1);
    }
    gen_end(g, F_CF | F_OF, F_SF | F_ZF | F_AF | F_PF);
}

/* A divisor and dividend: usually no fault, sometimes #DE. */
static void div_values(struct gen *g, int size, bool sgn, uint32_t *d,
                       uint32_t *lo, uint32_t *hi)
{
    uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    *d = gen_pct(g, 8) ? 0 : gen_value(g, size);
    *lo = gen_value(g, 4);
    int kind = (int)gen_below(g, 4);
    if (kind == 0)       /* random: often overflows */
        *hi = gen_value(g, 4);
    else if (sgn)        /* sign extension of the low half */
        *hi = (*lo & (1u << (8 * size - 1))) ? 0xffffffffu : 0;
    else                 /* high half below the divisor */
        *hi = *d ? (gen_r32(g) & mask) % (*d & mask) : 0;
    if (sgn && kind == 3) { /* the one overflow of IDIV: MIN / -1 */
        *d = mask;
        *lo = 1u << (8 * size - 1);
        *hi = 0xffffffffu;
    }
    /* qemu-i386 (7.2) divides with the host's 64-bit IDIV and dies of
     * SIGFPE on 0x80000000:00000000 / -1 instead of raising #DE; avoid
     * that one dividend so QEMU can serve as the reference (the #DE for
     * IDIV overflow is still covered by MIN / -1 above). */
    if (sgn && size == 4 && *hi == 0x80000000u && *lo == 0 && *d == mask)
        *lo = 1;
}

/* DIV/IDIV r/m: F6/F7 /6 /7, with #DE by zero and by overflow. */
void t_div(struct gen *g)
{
    if (!gen_writable(g, EAX) || !gen_writable(g, EDX))
        return;
    int size = gen_size(g), sgn = (int)gen_below(g, 2);
    uint32_t d, lo, hi;
    div_values(g, size, sgn, &d, &lo, &hi);
    if (size == 1)
        lo = (lo & ~0xffffu) | (hi & 0xff) << 8 | (lo & 0xff);
    if (size == 2)
        hi = (gen_r32(g) & 0xffff0000u) | (hi & 0xffff);
    struct mop m;
    uint8_t fixed = g->fixed;
    g->fixed |= 1u << EAX | 1u << EDX;
    int r = size == 1 ? 1 + 2 * (int)gen_below(g, 4) /* CL BL CH BH */ : ECX;
    if (gen_pct(g, 50) && gen_writable(g, r & 3)) {
        gen_mov_imm(g, r & 3, d << (r >= 4 ? 8 : 0));
        m = gen_reg_op(r);
    } else {
        m = gen_mem(g, size);
        gen_begin(g); /* mov r/m, imm: store the divisor */
        emit_op_rm(g, size, size == 1 ? 0xc6 : 0xc7, 0, &m);
        gen_imm(g, d, imm_size(size));
        gen_end(g, 0, 0);
    }
    g->fixed = fixed;
    gen_mov_imm(g, EAX, lo);
    if (size != 1)
        gen_mov_imm(g, EDX, hi);
    gen_begin(g);
    emit_op_rm(g, size, size == 1 ? 0xf6 : 0xf7, 6 + sgn, &m);
    gen_end(g, FL_ALL, FL_ALL);
}

/* A bit offset register for BT* on memory: may reach beyond the dword,
 * but keeps the accessed word inside the operand's region. */
static void bt_offset(struct gen *g, const struct mop *m, int size, int reg)
{
    int64_t lo = (int64_t)m->rg_lo - m->ea_lo, hi = (int64_t)m->rg_hi - size - m->ea_hi;
    lo = lo < -0x100 ? -0x100 : lo;
    hi = hi > 0x100 ? 0x100 : hi;
    int32_t bytes = lo <= hi ? (int32_t)(lo + gen_below(g, (uint32_t)(hi - lo + 1))) : 0;
    int32_t bits = (bytes & ~(size - 1)) * 8 + (int32_t)gen_below(g, (uint32_t)size * 8);
    if (size == 2)
        bits = (int16_t)bits | (int32_t)(gen_r32(g) & 0xffff0000u);
    gen_mov_imm(g, reg, (uint32_t)bits);
}

/* BT/BTS/BTR/BTC r/m, reg (0F A3/AB/B3/BB) and r/m, imm8 (0F BA /4-7). */
void t_bt(struct gen *g)
{
    int size = gen_pct(g, 30) ? 2 : 4, op = (int)gen_below(g, 4);
    bool imm = gen_pct(g, 40);
    struct mop m = op == 0 ? gen_rm(g, size) : gen_rm_dst(g, size);
    int reg = gen_src(g);
    if (!imm && !m.is_reg) {
        reg = gen_dst(g);
        if (m.index == reg)
            imm = true;
        else
            bt_offset(g, &m, size, reg);
    }
    gen_begin(g);
    if (imm) {
        emit_0f_rm(g, size, 0xba, 4 + op, &m);
        gen_imm(g, gen_pct(g, 70) ? gen_below(g, 32) : gen_below(g, 256), 1);
    } else {
        emit_0f_rm(g, size, (uint8_t)(0xa3 + 8 * op), reg, &m);
    }
    gen_end(g, F_CF, F_OF | F_SF | F_AF | F_PF);
}

/* BSF/BSR reg, r/m (0F BC/BD), with zero sources. */
void t_bsf(struct gen *g)
{
    int size = gen_pct(g, 30) ? 2 : 4, dst = gen_dst(g);
    struct mop m = gen_rm(g, size);
    if (m.is_reg && gen_writable(g, m.reg) && gen_pct(g, 30))
        gen_mov_imm(g, m.reg, gen_pct(g, 50) ? 0 : gen_value(g, 4));
    gen_begin(g);
    emit_0f_rm(g, size, (uint8_t)(0xbc + gen_below(g, 2)), dst, &m);
    gen_end(g, F_ZF, F_CF | F_OF | F_SF | F_AF | F_PF);
}

/* BSWAP r32: 0F C8+r. */
void t_bswap(struct gen *g)
{
    gen_begin(g);
    gen_byte(g, 0x0f);
    gen_byte(g, (uint8_t)(0xc8 + gen_dst(g)));
    gen_end(g, 0, 0);
}

/* MOVZX/MOVSX reg, r/m8 or r/m16 (0F B6/B7/BE/BF). */
void t_movx(struct gen *g)
{
    int size = gen_pct(g, 30) ? 2 : 4, wide = (int)gen_below(g, 2);
    int sgn = (int)gen_below(g, 2);
    if (size == 2)
        wide = 0;
    struct mop m = gen_rm(g, wide ? 2 : 1);
    gen_begin(g);
    emit_0f_rm(g, size, (uint8_t)(0xb6 + 8 * sgn + wide), gen_dst(g), &m);
    gen_end(g, 0, 0);
}

/* CBW/CWDE (98) and CWD/CDQ (99). */
void t_cbw(struct gen *g)
{
    if (!gen_writable(g, EAX) || !gen_writable(g, EDX))
        return;
    if (gen_pct(g, 50))
        gen_mov_imm(g, EAX, gen_value(g, 4));
    gen_begin(g);
    gen_opsize(g, gen_pct(g, 40) ? 2 : 4);
    gen_byte(g, (uint8_t)(0x98 + gen_below(g, 2)));
    gen_end(g, 0, 0);
}

/* MOV in its usual forms (88-8B, C6/C7, B0+r, B8+r). */
void t_mov(struct gen *g)
{
    int size = gen_size(g), form = (int)gen_below(g, 4);
    if (form == 0) {
        struct mop m = gen_rm_dst(g, size);
        gen_begin(g);
        emit_op_rm(g, size, (uint8_t)(0x88 + (size != 1)), gen_src(g), &m);
    } else if (form == 1) {
        struct mop m = gen_rm(g, size);
        gen_begin(g);
        emit_op_rm(g, size, (uint8_t)(0x8a + (size != 1)), gen_dst_sized(g, size), &m);
    } else if (form == 2) {
        struct mop m = gen_rm_dst(g, size);
        gen_begin(g);
        emit_op_rm(g, size, size == 1 ? 0xc6 : 0xc7, 0, &m);
        gen_imm(g, gen_value(g, size), imm_size(size));
    } else {
        gen_begin(g);
        gen_opsize(g, size);
        gen_byte(g, (uint8_t)((size == 1 ? 0xb0 : 0xb8) + gen_dst_sized(g, size)));
        gen_imm(g, gen_value(g, size), imm_size(size));
    }
    gen_end(g, 0, 0);
}

/* XCHG r/m, reg (86/87, also with memory) and EAX, reg (90+r). */
void t_xchg(struct gen *g)
{
    int size = gen_size(g);
    if (size != 1 && gen_pct(g, 30) && gen_writable(g, EAX)) {
        gen_begin(g);
        gen_opsize(g, size);
        gen_byte(g, (uint8_t)(0x90 + gen_dst(g)));
        gen_end(g, 0, 0);
        return;
    }
    struct mop m = gen_rm_dst(g, size);
    gen_begin(g);
    emit_op_rm(g, size, (uint8_t)(0x86 + (size != 1)), gen_dst_sized(g, size), &m);
    gen_end(g, 0, 0);
}

/* XADD r/m, reg (0F C0/C1). */
void t_xadd(struct gen *g)
{
    int size = gen_size(g);
    struct mop m = gen_rm_dst(g, size);
    gen_begin(g);
    emit_0f_rm(g, size, (uint8_t)(0xc0 + (size != 1)), gen_dst_sized(g, size), &m);
    gen_end(g, FL_ALL, 0);
}

/* CMPXCHG r/m, reg (0F B0/B1), equal or not to the accumulator. */
void t_cmpxchg(struct gen *g)
{
    if (!gen_writable(g, EAX))
        return;
    int size = gen_size(g);
    struct mop m = gen_rm_dst(g, size);
    int reg = gen_src(g);
    if (m.is_reg && gen_writable(g, m.reg & 3) && gen_pct(g, 50)) {
        uint32_t v = gen_value(g, 4);
        gen_mov_imm(g, EAX, v);
        gen_mov_imm(g, m.reg & 3, m.reg >= 4 && size == 1 ? v >> 8 : v);
    }
    gen_begin(g);
    emit_0f_rm(g, size, (uint8_t)(0xb0 + (size != 1)), reg, &m);
    gen_end(g, FL_ALL, 0);
}

/* Store imm32 at m + off (C7 /0), as setup. */
static void store32(struct gen *g, struct mop m, int32_t off, uint32_t v)
{
    m.disp += off;
    gen_begin(g);
    emit_op_rm(g, 4, 0xc7, 0, &m);
    gen_imm(g, v, 4);
    gen_end(g, 0, 0);
}

/* CMPXCHG8B m64 (0F C7 /1), matching or not. */
void t_cmpxchg8b(struct gen *g)
{
    if (!gen_writable(g, EAX) || !gen_writable(g, EDX))
        return;
    struct mop m = gen_mem(g, 8);
    if (m.base < 0 && m.index < 0 && gen_pct(g, 50))
        return;
    if (gen_pct(g, 50) && m.index != EAX && m.index != EDX) {
        uint32_t lo = gen_value(g, 4), hi = gen_value(g, 4);
        store32(g, m, 0, lo);
        store32(g, m, 4, hi);
        gen_mov_imm(g, EAX, lo);
        gen_mov_imm(g, EDX, hi);
    }
    gen_begin(g);
    gen_bytes(g, (const uint8_t[]){0x0f, 0xc7}, 2);
    gen_modrm(g, 1, &m);
    gen_end(g, F_ZF, 0);
}

/* CMOVcc reg, r/m (0F 40+cc). */
void t_cmov(struct gen *g)
{
    int size = gen_pct(g, 30) ? 2 : 4, cc = (int)gen_below(g, 16);
    struct mop m = gen_rm(g, size);
    int dst = gen_dst(g);
    gen_reads(g, cc_reads(cc));
    gen_begin(g);
    emit_0f_rm(g, size, (uint8_t)(0x40 + cc), dst, &m);
    gen_end(g, 0, 0);
}

/* SETcc r/m8 (0F 90+cc). */
void t_setcc(struct gen *g)
{
    int cc = (int)gen_below(g, 16);
    struct mop m = gen_rm_dst(g, 1);
    gen_reads(g, cc_reads(cc));
    gen_begin(g);
    emit_0f_rm(g, 4, (uint8_t)(0x90 + cc), 0, &m);
    gen_end(g, 0, 0);
}

/* LAHF (9F) and SAHF (9E). */
void t_lahf(struct gen *g)
{
    if (!gen_writable(g, EAX))
        return;
    if (gen_pct(g, 50)) {
        gen_reads(g, F_SF | F_ZF | F_AF | F_PF | F_CF);
        gen_begin(g);
        gen_byte(g, 0x9f);
        gen_end(g, 0, 0);
    } else {
        if (gen_pct(g, 50))
            gen_mov_imm(g, EAX, gen_r32(g));
        gen_begin(g);
        gen_byte(g, 0x9e);
        gen_end(g, F_SF | F_ZF | F_AF | F_PF | F_CF, 0);
    }
}

/* CLC STC CMC CLD STD. */
void t_flagop(struct gen *g)
{
    static const uint8_t ops[] = {0xf8, 0xf9, 0xf5, 0xfc, 0xfd};
    uint8_t op = ops[gen_below(g, 5)];
    if (op == 0xf5)
        gen_reads(g, F_CF);
    gen_begin(g);
    gen_byte(g, op);
    gen_end(g, op <= 0xf9 || op == 0xf5 ? F_CF : 0, 0);
}

/* An address operand for LEA: any registers, any displacement. */
static struct mop lea_operand(struct gen *g)
{
    struct mop m = {.base = -1, .index = -1, .rm16 = -1};
    m.base = gen_pct(g, 90) ? gen_src(g) : -1;
    if (gen_pct(g, 50)) {
        m.index = (int)gen_below(g, 8);
        if (m.index == ESP)
            m.index = -1;
        m.scale = (int)gen_below(g, 4);
    }
    m.disp = gen_pct(g, 50) ? (int8_t)gen_r32(g) : (int32_t)gen_value(g, 4);
    m.disp32 = gen_pct(g, 20);
    if (m.base < 0 && m.index < 0) {
        m.abs_modrm = g->allow32 && gen_pct(g, 50);
        if (m.abs_modrm)
            gen_need32(g);
    }
    return m;
}

/* LEA reg, m with 32-bit addressing, 16- and 32-bit operands. */
void t_lea(struct gen *g)
{
    int size = gen_pct(g, 25) ? 2 : 4;
    struct mop m = lea_operand(g);
    gen_begin(g);
    emit_op_rm(g, size, 0x8d, gen_dst(g), &m);
    gen_end(g, 0, 0);
}

/* LEA with 16-bit addressing (67): [bx+si+disp] and friends. */
void t_lea16(struct gen *g)
{
    int size = gen_pct(g, 40) ? 2 : 4;
    struct mop m = {.base = -1, .index = -1};
    m.rm16 = (int)gen_below(g, 9); /* 8: [disp16] */
    m.disp = (int32_t)(gen_pct(g, 50) ? (int8_t)gen_r32(g) : (int16_t)gen_r32(g));
    m.disp32 = gen_pct(g, 20);
    gen_need32(g);
    gen_begin(g);
    gen_byte(g, 0x67);
    emit_op_rm(g, size, 0x8d, gen_dst(g), &m);
    gen_end(g, 0, 0);
}

/* 32-bit-only addressing: ModRM [disp32] and the MOV moffs forms. */
void t_modrm32(struct gen *g)
{
    int size = gen_size(g);
    gen_need32(g);
    if (gen_pct(g, 50) && gen_writable(g, EAX)) {
        uint32_t a = DT_DATA_BASE + 0x100 + gen_below(g, DT_DATA_SIZE - 0x200);
        gen_begin(g);
        gen_opsize(g, size);
        gen_byte(g, (uint8_t)(0xa0 + 2 * gen_below(g, 2) + (size != 1)));
        gen_imm(g, a, 4);
        gen_end(g, 0, 0);
        return;
    }
    struct mop m = gen_mem(g, size);
    if (m.base < 0 && m.index < 0)
        m.abs_modrm = true;
    int op = (int)gen_below(g, 8);
    gen_reads(g, alu_reads(op));
    gen_begin(g);
    emit_op_rm(g, size, (uint8_t)(op * 8 + (size != 1)), gen_src(g), &m);
    alu_end(g, op);
}

/* LOCK-prefixed read-modify-write instructions on memory. */
void t_lock(struct gen *g)
{
    int size = gen_size(g), kind = (int)gen_below(g, 6);
    struct mop m = gen_mem(g, size);
    int reg = gen_dst_sized(g, size), op = (int)gen_below(g, 7);
    if (kind == 4 && !gen_writable(g, EAX))
        kind = 0;
    gen_reads(g, alu_reads(op));
    gen_begin(g);
    gen_byte(g, 0xf0);
    switch (kind) {
    case 0: emit_op_rm(g, size, (uint8_t)(op * 8 + (size != 1)), gen_src(g), &m); alu_end(g, op); return;
    case 1: emit_op_rm(g, size, size == 1 ? 0x80 : 0x81, op, &m);
            gen_imm(g, gen_value(g, size), imm_size(size)); alu_end(g, op); return;
    case 2: emit_op_rm(g, size, size == 1 ? 0xfe : 0xff, (int)gen_below(g, 2), &m);
            gen_end(g, FL_INCDEC, 0); return;
    case 3: emit_0f_rm(g, size, (uint8_t)(0xc0 + (size != 1)), reg, &m); break;
    case 4: emit_0f_rm(g, size, (uint8_t)(0xb0 + (size != 1)), gen_src(g), &m); break;
    default: emit_op_rm(g, size, (uint8_t)(0x86 + (size != 1)), reg, &m);
             gen_end(g, 0, 0); return;
    }
    gen_end(g, FL_ALL, 0);
}

/* LOCK where it is not allowed: register destinations and MOV: #UD. */
void t_lock_bad(struct gen *g)
{
    static const uint8_t forms[][3] = {
        {0xf0, 0x01, 0xc0},  /* lock add eax, eax */
        {0xf0, 0x8b, 0x00},  /* lock mov eax, [eax] */
        {0xf0, 0x90, 0x90},  /* lock nop */
        {0xf0, 0xf7, 0xd1},  /* lock not ecx */
        {0xf0, 0x0f, 0xaf},  /* lock imul (needs ModRM) */
    };
    int i = (int)gen_below(g, 5);
    gen_begin(g);
    gen_bytes(g, forms[i], 3);
    if (i == 4)
        gen_byte(g, 0xc0);
    gen_end(g, 0, 0);
}

/* NOP forms: 90, 66 90, 0F 1F /0 with register and memory operands. */
void t_nop(struct gen *g)
{
    int form = (int)gen_below(g, 3);
    gen_begin(g);
    if (form == 0) {
        gen_byte(g, 0x90);
    } else if (form == 1) {
        gen_bytes(g, (const uint8_t[]){0x66, 0x90}, 2);
    } else {
        struct mop m = lea_operand(g);
        if (m.base < 0 && m.index < 0 && !g->allow32)
            m.base = EAX;
        emit_0f_rm(g, gen_pct(g, 30) ? 2 : 4, 0x1f, 0, &m);
    }
    gen_end(g, 0, 0);
}

void t_ud2(struct gen *g)
{
    gen_begin(g);
    gen_bytes(g, (const uint8_t[]){0x0f, 0x0b}, 2);
    gen_end(g, 0, 0);
}

void t_int3(struct gen *g)
{
    gen_begin(g);
    gen_byte(g, 0xcc);
    gen_end(g, 0, 0);
}

/* AAA AAS DAA DAS AAM AAD: the BCD adjustments (invalid in 64-bit). */
void t_bcd(struct gen *g)
{
    if (!gen_writable(g, EAX))
        return;
    static const uint8_t ops[] = {0x37, 0x3f, 0x27, 0x2f, 0xd4, 0xd5};
    int i = (int)gen_below(g, 6);
    gen_need32(g);
    if (gen_pct(g, 60))
        gen_mov_imm(g, EAX, gen_value(g, 4));
    if (i < 4)
        gen_reads(g, F_AF | F_CF);
    gen_begin(g);
    gen_byte(g, ops[i]);
    if (i >= 4) /* base 10 mostly; AAM 0 is #DE */
        gen_byte(g, gen_pct(g, 60) ? 10 : (uint8_t)gen_value(g, 1));
    gen_end(g, i < 2   ? F_AF | F_CF
               : i < 4 ? F_CF | F_AF | F_SF | F_ZF | F_PF
                       : F_SF | F_ZF | F_PF,
            i < 2 ? F_OF | F_SF | F_ZF | F_PF : i < 4 ? F_OF : F_OF | F_AF | F_CF);
}

/* SALC (D6): AL = CF ? FF : 00, undocumented, invalid in 64-bit. */
void t_salc(struct gen *g)
{
    if (!gen_writable(g, EAX))
        return;
    gen_need32(g);
    gen_reads(g, F_CF);
    gen_begin(g);
    gen_byte(g, 0xd6);
    gen_end(g, 0, 0);
}

/* BOUND reg, m32&32 (62 /r, 66: m16&16): in range, or #BR. */
void t_bound(struct gen *g)
{
    int size = gen_pct(g, 30) ? 2 : 4;
    gen_need32(g);
    struct mop m = gen_mem(g, 2 * size);
    int reg = gen_dst(g);
    if (m.index == reg)
        return;
    int32_t lo = (int32_t)gen_value(g, size), hi = (int32_t)gen_value(g, size);
    if (size == 2) {
        lo = (int16_t)lo;
        hi = (int16_t)hi;
    }
    if (gen_pct(g, 60) && lo > hi) {
        int32_t t = lo;
        lo = hi;
        hi = t;
    }
    store32(g, m, 0, size == 2 ? ((uint32_t)lo & 0xffff) | (uint32_t)hi << 16
                               : (uint32_t)lo);
    if (size == 4)
        store32(g, m, 4, (uint32_t)hi);
    int64_t span = (int64_t)hi - lo + 3;
    int64_t v = span > 0 ? (int64_t)lo - 1 + (int64_t)gen_below(g, (uint32_t)(span < 0x7fffffff ? span : 0x7fffffff)) : lo;
    gen_mov_imm(g, reg, (uint32_t)v);
    gen_begin(g);
    emit_op_rm(g, size, 0x62, reg, &m);
    gen_end(g, 0, 0);
}

/* INTO (CE): #OF as a trap when OF is set. */
void t_into(struct gen *g)
{
    gen_need32(g);
    gen_reads(g, F_OF);
    gen_begin(g);
    gen_byte(g, 0xce);
    gen_end(g, 0, 0);
}

/* Instructions naming ESP explicitly (the translator rewrites them). */
void t_esp(struct gen *g)
{
    int form = (int)gen_below(g, 4);
    struct mop sp = gen_reg_op(ESP);
    gen_begin(g);
    if (form == 0) {        /* mov r32, esp */
        emit_op_rm(g, 4, 0x8b, gen_dst(g), &sp);
        gen_end(g, 0, 0);
    } else if (form == 1) { /* lea r32, [esp+disp] */
        struct mop m = {.base = ESP, .index = -1, .rm16 = -1,
                        .disp = (int8_t)gen_r32(g)};
        emit_op_rm(g, 4, 0x8d, gen_dst(g), &m);
        gen_end(g, 0, 0);
    } else if (form == 2) { /* alu r32, esp (not writing ESP) */
        int op = (int)gen_below(g, 8);
        emit_op_rm(g, 4, (uint8_t)(op * 8 + 3), op == 7 ? gen_src(g) : gen_dst(g), &sp);
        alu_end(g, op);
    } else if (gen_stack_ok(g, -64, 64)) { /* add/sub esp, imm8 */
        int32_t d = 4 * ((int32_t)gen_below(g, 16) - 8);
        emit_op_rm(g, 4, 0x83, d < 0 ? 5 : 0, &sp);
        gen_imm(g, (uint32_t)(d < 0 ? -d : d), 1);
        gen_esp_moved(g, d);
        gen_end(g, FL_ALL, 0);
    } else {
        gen_byte(g, 0x90);
        gen_end(g, 0, 0);
    }
}
