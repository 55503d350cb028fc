// SPDX-License-Identifier: MIT
/* Difftest templates: x87, MMX, SSE and SSE2, and random initial FPU state.
 * Exceptions stay masked (no #MF); some LDMXCSR values unmask SSE ones. */
#include "tests/difftest/gen.h"

#include <string.h>

/* An 80-bit value: mostly normal numbers, sometimes special ones. */
static void gen_f80(struct gen *g, uint8_t out[10])
{
    uint64_t mant = ((uint64_t)gen_r32(g) << 32 | gen_r32(g)) | 1ull << 63;
    uint16_t exp = (uint16_t)(0x3fff - 40 + gen_below(g, 80));
    switch (gen_below(g, 12)) {
    case 0: mant = 0, exp = 0; break;                       /* zero */
    case 1: mant = 1ull << 63, exp = 0x7fff; break;         /* infinity */
    case 2: mant |= 3ull << 62, exp = 0x7fff; break;        /* QNaN */
    case 3: mant &= ~(1ull << 63), exp = 0; break;          /* denormal */
    case 4: mant = 1ull << 63, exp = 0x3fff; break;         /* 1.0 */
    case 5: exp = (uint16_t)gen_below(g, 0x7fff); break;    /* any range */
    default: break;
    }
    if (gen_pct(g, 40))
        exp |= 0x8000;
    memcpy(out, &mant, 8);
    memcpy(out + 8, &exp, 2);
}

/* A 32- or 64-bit float bit pattern of the same flavour. */
static uint64_t gen_float_bits(struct gen *g, int size)
{
    uint64_t r = (uint64_t)gen_r32(g) << 32 | gen_r32(g);
    int eb = size == 4 ? 8 : 11, mb = size == 4 ? 23 : 52;
    uint64_t bias = (1ull << (eb - 1)) - 1, emax = (1ull << eb) - 1;
    uint64_t mant = r & ((1ull << mb) - 1), exp = bias - 30 + gen_below(g, 60);
    switch (gen_below(g, 10)) {
    case 0: mant = exp = 0; break;
    case 1: mant = 0, exp = emax; break;
    case 2: mant |= 1ull << (mb - 1), exp = emax; break;
    case 3: exp = 0; break;
    case 4: exp = gen_below(g, (uint32_t)emax); break;
    default: break;
    }
    uint64_t v = exp << mb | mant;
    if (gen_pct(g, 40))
        v |= 1ull << (eb + mb);
    return v;
}

/* Random x87 control/status/tags/registers, MXCSR and XMM registers. */
void gen_fpu_state(struct gen *g)
{
    uint8_t *f = g->c->fpu;
    memset(f, 0, 512);
    uint16_t fcw = (uint16_t)(0x007f | gen_below(g, 4) << 10 |
                              (gen_pct(g, 50) ? 3u : gen_below(g, 4)) << 8);
    uint16_t fsw = (uint16_t)(gen_below(g, 8) << 11 | (gen_r32(g) & 0x473f & ~0x80u));
    fsw &= (uint16_t)~0x3fu;
    fsw |= (uint16_t)(gen_pct(g, 30) ? gen_r32(g) & 0x3f : 0);
    memcpy(f, &fcw, 2);
    memcpy(f + 2, &fsw, 2);
    f[4] = (uint8_t)(gen_pct(g, 30) ? 0 : gen_r32(g));
    uint32_t mxcsr = 0x1f80 | gen_below(g, 4) << 13 |
                     (gen_pct(g, 20) ? 0x8000 : 0) | (gen_pct(g, 20) ? 0x40 : 0) |
                     (gen_pct(g, 30) ? gen_r32(g) & 0x3f : 0);
    memcpy(f + 24, &mxcsr, 4);
    for (int i = 0; i < 8; i++)
        gen_f80(g, f + 32 + 16 * i);
    for (int i = 0; i < 8; i++) {
        int lane = gen_pct(g, 50) ? 4 : 8;
        for (int j = 0; j < 16; j += lane) {
            uint64_t v = gen_pct(g, 20) ? (uint64_t)gen_r32(g) << 32 | gen_r32(g)
                                        : gen_float_bits(g, lane);
            memcpy(f + 160 + 16 * i + j, &v, (size_t)lane);
        }
    }
}

/* A memory operand with `n` bytes of fresh initial contents: floats of
 * `fsize` (4, 8 or 10) bytes, or integers when fsize is 0. */
static struct mop fp_mem(struct gen *g, int n, int fsize)
{
    struct mop m = gen_mem(g, n);
    uint8_t buf[16];
    for (int i = 0; i < n; i += fsize ? fsize : 4) {
        if (fsize == 10) {
            gen_f80(g, buf + i);
        } else if (fsize) {
            uint64_t v = gen_float_bits(g, fsize);
            memcpy(buf + i, &v, (size_t)fsize);
        } else {
            uint32_t v = gen_value(g, 4);
            memcpy(buf + i, &v, 4);
        }
    }
    gen_init_mem(g, m.ea_lo, buf, (uint32_t)n);
    return m;
}

/* Emit escape byte op with ModRM(regfield, m). */
static void x87_m(struct gen *g, uint8_t op, int regfield, const struct mop *m)
{
    gen_begin(g);
    gen_byte(g, op);
    gen_modrm(g, regfield, m);
    gen_end(g, 0, 0);
}

/* Emit a two-byte x87 register form. */
static void x87_2(struct gen *g, uint8_t a, uint8_t b)
{
    gen_begin(g);
    gen_byte(g, a);
    gen_byte(g, b);
    gen_end(g, 0, 0);
}

/* FLD/FST/FSTP with m32, m64, m80 and ST(i). */
void t_x87_ldst(struct gen *g)
{
    static const struct { uint8_t op, reg, size; } forms[] = {
        {0xd9, 0, 4}, {0xdd, 0, 8}, {0xdb, 5, 10}, /* fld m32/m64/m80 */
        {0xd9, 2, 4}, {0xdd, 2, 8},                /* fst m32/m64 */
        {0xd9, 3, 4}, {0xdd, 3, 8}, {0xdb, 7, 10}, /* fstp m32/m64/m80 */
    };
    int i = (int)gen_below(g, 11);
    if (i >= 8) { /* fld st(i), fst st(i), fstp st(i) */
        static const uint8_t rf[][2] = {{0xd9, 0xc0}, {0xdd, 0xd0}, {0xdd, 0xd8}};
        x87_2(g, rf[i - 8][0], (uint8_t)(rf[i - 8][1] + gen_below(g, 8)));
        return;
    }
    struct mop m = fp_mem(g, forms[i].size, forms[i].size);
    x87_m(g, forms[i].op, forms[i].reg, &m);
}

/* FILD/FIST/FISTP with m16, m32, m64. */
void t_x87_int(struct gen *g)
{
    static const struct { uint8_t op, reg, size; } forms[] = {
        {0xdf, 0, 2}, {0xdb, 0, 4}, {0xdf, 5, 8},  /* fild */
        {0xdf, 2, 2}, {0xdb, 2, 4},                /* fist */
        {0xdf, 3, 2}, {0xdb, 3, 4}, {0xdf, 7, 8},  /* fistp */
    };
    int i = (int)gen_below(g, 8);
    struct mop m = fp_mem(g, forms[i].size < 4 ? 4 : forms[i].size, 0);
    x87_m(g, forms[i].op, forms[i].reg, &m);
}

/* FADD FMUL FSUB FSUBR FDIV FDIVR: m32, m64, m16int, m32int, ST(0),ST(i),
 * ST(i),ST(0), and the popping forms. */
void t_x87_arith(struct gen *g)
{
    static const uint8_t ops[] = {0, 1, 4, 5, 6, 7};
    int op = ops[gen_below(g, 6)], form = (int)gen_below(g, 7);
    if (form < 4) {
        static const uint8_t esc[] = {0xd8, 0xdc, 0xde, 0xda};
        struct mop m = fp_mem(g, form == 1 ? 8 : 4, form < 2 ? 4 * (form + 1) : 0);
        x87_m(g, esc[form], op, &m);
        return;
    }
    static const uint8_t esc[] = {0xd8, 0xdc, 0xde};
    x87_2(g, esc[form - 4], (uint8_t)(0xc0 + op * 8 + gen_below(g, 8)));
}

/* FCOM FCOMP FCOMPP FUCOM FUCOMP FUCOMPP FCOMI FCOMIP FUCOMI FUCOMIP FTST
 * FXAM, then often FNSTSW AX. */
void t_x87_cmp(struct gen *g)
{
    int form = (int)gen_below(g, 10), st = (int)gen_below(g, 8);
    if (form < 2) {
        struct mop m = fp_mem(g, form ? 8 : 4, form ? 8 : 4);
        x87_m(g, form ? 0xdc : 0xd8, 2 + (int)gen_below(g, 2), &m);
    } else if (form < 6) {
        static const uint8_t rf[][2] = {{0xd8, 0xd0}, {0xd8, 0xd8}, {0xdd, 0xe0}, {0xdd, 0xe8}};
        x87_2(g, rf[form - 2][0], (uint8_t)(rf[form - 2][1] + st));
    } else if (form < 8) {
        static const uint8_t rf[][2] = {{0xdb, 0xf0}, {0xdf, 0xf0}, {0xdb, 0xe8}, {0xdf, 0xe8}};
        int k = (int)gen_below(g, 4);
        gen_begin(g);
        gen_byte(g, rf[k][0]);
        gen_byte(g, (uint8_t)(rf[k][1] + st));
        gen_end(g, FL_ALL, 0);
        return;
    } else {
        static const uint8_t rf[][2] = {{0xde, 0xd9}, {0xda, 0xe9}, {0xd9, 0xe4}, {0xd9, 0xe5}};
        int k = (int)gen_below(g, 4);
        x87_2(g, rf[k][0], rf[k][1]);
    }
    if (gen_writable(g, EAX) && gen_pct(g, 60))
        x87_2(g, 0xdf, 0xe0); /* fnstsw ax */
}

/* FXCH FCHS FABS FSQRT FLDZ FLD1 FLDPI FRNDINT FNSTSW FNSTCW FLDCW. */
void t_x87_misc(struct gen *g)
{
    static const uint8_t ops[] = {0xe0, 0xe1, 0xfa, 0xee, 0xe8, 0xeb, 0xfc,
                                  0xe9, 0xea, 0xec, 0xed, 0xf7, 0xf6};
    int form = (int)gen_below(g, 6);
    if (form == 0) {
        x87_2(g, 0xd9, (uint8_t)(0xc8 + gen_below(g, 8)));
    } else if (form <= 2) {
        x87_2(g, 0xd9, ops[gen_below(g, sizeof(ops))]);
    } else if (form == 3 && gen_writable(g, EAX)) {
        x87_2(g, 0xdf, 0xe0);
    } else if (form == 4) {
        struct mop m = gen_mem(g, 2);
        x87_m(g, gen_pct(g, 50) ? 0xdd : 0xd9, 7, &m); /* fnstsw / fnstcw m16 */
    } else {
        struct mop m = gen_mem(g, 2);
        uint16_t cw = (uint16_t)(0x7f | gen_below(g, 4) << 10 | gen_below(g, 4) << 8);
        gen_begin(g); /* mov word [m], cw */
        gen_bytes(g, (const uint8_t[]){0x66, 0xc7}, 2);
        gen_modrm(g, 0, &m);
        gen_imm(g, cw, 2);
        gen_end(g, 0, 0);
        x87_m(g, 0xd9, 5, &m); /* fldcw */
    }
}

/* A SIMD operand: register (0..7) or memory of `size` bytes. */
static struct mop simd_rm(struct gen *g, int size, int align)
{
    if (gen_pct(g, 55))
        return gen_reg_op((int)gen_below(g, 8));
    struct mop m = align ? gen_mem_aligned(g, size, align) : gen_mem(g, size);
    uint8_t buf[16];
    for (int i = 0; i < size; i += 4) {
        uint32_t v = gen_pct(g, 50) ? (uint32_t)gen_float_bits(g, 4) : gen_value(g, 4);
        memcpy(buf + i, &v, 4);
    }
    gen_init_mem(g, m.ea_lo, buf, (uint32_t)size);
    return m;
}

/* Emit [prefix] 0F op ModRM [imm8]. prefix 0: none. */
static void simd_op(struct gen *g, uint8_t prefix, uint8_t op, int reg,
                    const struct mop *m, int imm)
{
    gen_begin(g);
    if (prefix)
        gen_byte(g, prefix);
    gen_byte(g, 0x0f);
    gen_byte(g, op);
    gen_modrm(g, reg, m);
    if (imm >= 0)
        gen_byte(g, (uint8_t)imm);
}

/* MMX: MOVD, MOVQ, PADD*, PSUB*, logic, PMULLW/PMULHW, shifts, unpack, pack,
 * compares, EMMS. */
void t_mmx(struct gen *g)
{
    static const uint8_t ops[] = {0xfc, 0xfd, 0xfe, 0xd4, 0xec, 0xed, 0xdc,
        0xdd, 0xf8, 0xf9, 0xfa, 0xfb, 0xe8, 0xe9, 0xd8, 0xd9, 0xdb, 0xdf,
        0xeb, 0xef, 0xd5, 0xe5, 0xf5, 0xf1, 0xf2, 0xf3, 0xd1, 0xd2, 0xd3,
        0xe1, 0xe2, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
        0x69, 0x6a, 0x6b, 0x74, 0x75, 0x76, 0x6f};
    int form = (int)gen_below(g, 10), mm = (int)gen_below(g, 8);
    if (form == 0) { /* movd mm, r/m32 or r/m32, mm */
        bool store = gen_pct(g, 50);
        struct mop m = store ? gen_rm_dst(g, 4) : gen_rm(g, 4);
        simd_op(g, 0, store ? 0x7e : 0x6e, mm, &m, -1);
    } else if (form == 1) { /* movq m64, mm */
        struct mop m = gen_mem(g, 8);
        simd_op(g, 0, 0x7f, mm, &m, -1);
    } else if (form == 2) { /* shift by imm: 0F 71/72/73 /2 /4 /6 */
        uint8_t op = (uint8_t)(0x71 + gen_below(g, 3));
        int r = op == 0x73 ? (gen_pct(g, 50) ? 2 : 6) : 2 + 2 * (int)gen_below(g, 3);
        struct mop m = gen_reg_op(mm);
        simd_op(g, 0, op, r, &m, (int)(gen_pct(g, 70) ? gen_below(g, 20) : gen_below(g, 256)));
    } else if (form == 3 && gen_pct(g, 30)) {
        gen_begin(g);
        gen_bytes(g, (const uint8_t[]){0x0f, 0x77}, 2); /* emms */
    } else {
        struct mop m = simd_rm(g, 8, 0);
        simd_op(g, 0, ops[gen_below(g, sizeof(ops))], mm, &m, -1);
    }
    gen_end(g, 0, 0);
}

/* MOVAPS/MOVUPS/MOVSS loads and stores. */
static void sse_mov(struct gen *g, int x)
{
    int k = (int)gen_below(g, 3);
    bool store = gen_pct(g, 40);
    uint8_t pre = k == 2 ? 0xf3 : 0;
    struct mop m = store ? gen_mem_aligned(g, 16, k == 0 ? 16 : 1)
                         : simd_rm(g, k == 2 ? 4 : 16, k == 0 ? 16 : 0);
    simd_op(g, pre, (uint8_t)((k == 0 ? 0x28 : 0x10) + store), x, &m, -1);
    gen_end(g, 0, 0);
}

/* SSE: moves, PS/SS arithmetic, conversions, compares, shuffles, logic. */
void t_sse(struct gen *g)
{
    static const uint8_t arith[] = {0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f, 0x51,
                                    0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x14,
                                    0x15};
    int form = (int)gen_below(g, 9), x = (int)gen_below(g, 8);
    bool ss = gen_pct(g, 40);
    if (form == 0) {
        sse_mov(g, x);
    } else if (form <= 3) {
        uint8_t op = arith[gen_below(g, sizeof(arith))];
        bool scalar = ss && ((op >= 0x51 && op <= 0x53) || op >= 0x58);
        struct mop m = simd_rm(g, scalar ? 4 : 16, scalar ? 0 : 16);
        simd_op(g, scalar ? 0xf3 : 0, op, x, &m, -1);
        gen_end(g, 0, 0);
    } else if (form == 4) { /* cvtsi2ss xmm, r/m32 */
        struct mop m = gen_rm(g, 4);
        simd_op(g, 0xf3, 0x2a, x, &m, -1);
        gen_end(g, 0, 0);
    } else if (form == 5) { /* cvttss2si / cvtss2si r32, xmm/m32 */
        struct mop m = simd_rm(g, 4, 0);
        simd_op(g, 0xf3, (uint8_t)(0x2c + gen_below(g, 2)), gen_dst(g), &m, -1);
        gen_end(g, 0, 0);
    } else if (form == 6) { /* comiss / ucomiss */
        struct mop m = simd_rm(g, 4, 0);
        simd_op(g, 0, (uint8_t)(0x2e + gen_below(g, 2)), x, &m, -1);
        gen_end(g, FL_ALL, 0);
    } else if (form == 7) { /* shufps, cmpps/cmpss */
        bool cmp = gen_pct(g, 50);
        struct mop m = simd_rm(g, cmp && ss ? 4 : 16, cmp && ss ? 0 : 16);
        simd_op(g, cmp && ss ? 0xf3 : 0, cmp ? 0xc2 : 0xc6, x, &m,
                (int)(cmp ? gen_below(g, 8) : gen_below(g, 256)));
        gen_end(g, 0, 0);
    } else { /* movmskps r32, xmm */
        struct mop m = gen_reg_op((int)gen_below(g, 8));
        simd_op(g, 0, 0x50, gen_dst(g), &m, -1);
        gen_end(g, 0, 0);
    }
}

/* LDMXCSR/STMXCSR: rounding, FTZ/DAZ, sometimes unmasked exceptions (#XM
 * later) or a reserved bit (#GP). */
void t_sse_mxcsr(struct gen *g)
{
    struct mop m = gen_mem(g, 4);
    if (gen_pct(g, 30)) {
        simd_op(g, 0, 0xae, 3, &m, -1);
        gen_end(g, 0, 0);
        return;
    }
    uint32_t v = 0x1f80 | gen_below(g, 4) << 13 | (gen_pct(g, 30) ? 0x8040 : 0) |
                 (gen_r32(g) & 0x3f);
    if (gen_pct(g, 10))
        v &= ~(0x80u << gen_below(g, 6)); /* unmask one exception */
    if (gen_pct(g, 3))
        v |= 0x10000; /* reserved: #GP */
    gen_begin(g); /* mov dword [m], v */
    gen_byte(g, 0xc7);
    gen_modrm(g, 0, &m);
    gen_imm(g, v, 4);
    gen_end(g, 0, 0);
    simd_op(g, 0, 0xae, 2, &m, -1);
    gen_end(g, 0, 0);
}

static void simd_emit(struct gen *g, uint8_t prefix, uint8_t op, int reg,
                      const struct mop *m, int imm, uint32_t defs)
{
    simd_op(g, prefix, op, reg, m, imm);
    gen_end(g, defs, 0);
}

/* MOVDQA/MOVDQU loads and stores (66/F3 0F 6F/7F). */
static void sse2_movdq(struct gen *g, int x)
{
    bool u = gen_pct(g, 40), store = gen_pct(g, 40);
    struct mop m = store ? gen_mem_aligned(g, 16, u ? 1 : 16)
                         : simd_rm(g, 16, u ? 0 : 16);
    simd_emit(g, u ? 0xf3 : 0x66, store ? 0x7f : 0x6f, x, &m, -1, 0);
}

/* Integer operations on XMM: 66 0F and the MMX opcode. */
static void sse2_int(struct gen *g, int x)
{
    static const uint8_t ops[] = {0xfe, 0xfb, 0xd4, 0xfc, 0xfd, 0xf8, 0xf9,
        0xfa, 0xdb, 0xeb, 0xef, 0xdf, 0xd5, 0xe5, 0xf4, 0x60, 0x61, 0x62,
        0x68, 0x69, 0x6a, 0x6c, 0x6d, 0x63, 0x67, 0x6b, 0x74, 0x75, 0x76,
        0x64, 0x65, 0x66, 0xf1, 0xf2, 0xf3, 0xd1, 0xd2, 0xd3, 0xe1, 0xe2};
    struct mop m = simd_rm(g, 16, 16);
    simd_emit(g, 0x66, ops[gen_below(g, sizeof(ops))], x, &m, -1, 0);
}

/* ADDSD MULSD SUBSD DIVSD SQRTSD MINSD MAXSD CVTSD2SS and PD forms. */
static void sse2_fp(struct gen *g, int x)
{
    static const uint8_t ops[] = {0x58, 0x59, 0x5c, 0x5e, 0x51, 0x5d, 0x5f,
                                  0x5a, 0x54, 0x57, 0x14};
    uint8_t op = ops[gen_below(g, sizeof(ops))];
    bool sd = gen_pct(g, 60) && op != 0x54 && op != 0x57 && op != 0x14;
    struct mop m = simd_rm(g, sd ? 8 : 16, sd ? 0 : 16);
    simd_emit(g, sd ? 0xf2 : 0x66, op, x, &m, -1, 0);
}

/* CVTSI2SD, CVTTSD2SI/CVTSD2SI, UCOMISD/COMISD. */
static void sse2_cvt(struct gen *g, int x)
{
    int k = (int)gen_below(g, 3);
    struct mop m = k == 0 ? gen_rm(g, 4) : simd_rm(g, 8, 0);
    if (k == 0)
        simd_emit(g, 0xf2, 0x2a, x, &m, -1, 0);
    else if (k == 1)
        simd_emit(g, 0xf2, (uint8_t)(0x2c + gen_below(g, 2)), gen_dst(g), &m, -1, 0);
    else
        simd_emit(g, 0x66, (uint8_t)(0x2e + gen_below(g, 2)), x, &m, -1, FL_ALL);
}

/* PSHUFD/PSHUFLW/PSHUFHW, PSRLDQ/PSLLDQ. */
static void sse2_shuf(struct gen *g, int x)
{
    static const uint8_t pres[] = {0x66, 0xf2, 0xf3};
    int imm = (int)gen_below(g, 256);
    if (gen_pct(g, 30)) {
        struct mop m = gen_reg_op(x);
        simd_emit(g, 0x66, 0x73, gen_pct(g, 50) ? 3 : 7, &m, imm, 0);
        return;
    }
    struct mop m = simd_rm(g, 16, 16);
    simd_emit(g, pres[gen_below(g, 3)], 0x70, x, &m, imm, 0);
}

/* MOVQ xmm, xmm/m64 (F3 0F 7E); MOVQ m64, xmm (66 0F D6); MOVD. */
static void sse2_movq(struct gen *g, int x)
{
    int k = (int)gen_below(g, 4);
    struct mop m = k == 0   ? simd_rm(g, 8, 0)
                   : k == 1 ? gen_mem(g, 8)
                   : k == 2 ? gen_rm(g, 4)
                            : gen_rm_dst(g, 4);
    static const uint8_t ops[] = {0x7e, 0xd6, 0x6e, 0x7e};
    simd_emit(g, k == 0 ? 0xf3 : 0x66, ops[k], x, &m, -1, 0);
}

/* SSE2: one of the groups above. */
void t_sse2(struct gen *g)
{
    static void (*const groups[])(struct gen *, int) = {
        sse2_movdq, sse2_int, sse2_int, sse2_fp, sse2_fp, sse2_cvt,
        sse2_cvt, sse2_shuf, sse2_movq};
    groups[gen_below(g, sizeof(groups) / sizeof(groups[0]))](g, (int)gen_below(g, 8));
}
