// SPDX-License-Identifier: MIT
/* Difftest templates: the stack, control transfers, loops and strings.
 * Branch targets always lie inside the case; only LOOP goes backwards. */
#include "tests/difftest/gen.h"

/* A few random templates as the body of a construct: no ESP moves, no
 * nested control flow. The stack at and above ESP stays untouched. */
static void body(struct gen *g, int max)
{
    uint32_t guard = g->esp_guard;
    g->esp_guard = g->esp;
    g->nostack++;
    int n = (int)gen_below(g, (uint32_t)max + 1);
    uint32_t start = g->c->code_len;
    /* At most ~60 bytes plus one template, so rel8 branches reach. */
    for (int i = 0; i < n && g->c->code_len - start < 60; i++)
        gen_template(g, g->fp);
    g->nostack--;
    g->esp_guard = guard;
}

/* Code that a forward branch may jump over. */
static void skipped_body(struct gen *g, int max)
{
    g->skip_depth++;
    body(g, max);
    g->skip_depth--;
}

/* Patch a rel8/rel32 field at `field` (its instruction ends at field+n)
 * to reach the current position. */
static void patch_rel(struct gen *g, int field, int n)
{
    int32_t rel = (int32_t)g->c->code_len - (field + n);
    if (n == 1)
        g->c->code[field] = (uint8_t)(int8_t)rel;
    else
        gen_patch32(g, field, (uint32_t)rel);
}

/* Emit a forward branch: opcode bytes, then a rel8 or rel32 field; returns
 * the field's offset. */
static int branch_fwd(struct gen *g, const uint8_t *op, int nop, int n)
{
    gen_bytes(g, op, nop);
    int field = (int)g->c->code_len;
    gen_imm(g, 0, n);
    return field;
}

/* PUSH/POP of registers, immediates and memory, in both sizes. */
void t_push_pop(struct gen *g)
{
    int size = gen_pct(g, 20) ? 2 : 4, form = (int)gen_below(g, 7);
    bool push = form < 4;
    if (push ? !gen_stack_ok(g, -size, 0) : !gen_stack_ok(g, 0, size))
        return;
    struct mop m = form == 2 || form == 6 ? gen_mem(g, size) : gen_reg_op(0);
    if (form == 6 && m.base == ESP)
        return; /* POP m with an ESP base addresses after the pop */
    gen_begin(g);
    gen_opsize(g, size);
    switch (form) {
    case 0: gen_byte(g, (uint8_t)(0x50 + gen_src(g))); break;
    case 1: gen_byte(g, 0x6a); gen_imm(g, gen_value(g, 1), 1); break;
    case 2: gen_byte(g, 0xff); gen_modrm(g, 6, &m); break;
    case 3: gen_byte(g, 0x68); gen_imm(g, gen_value(g, size), size); break;
    case 4:
    case 5: gen_byte(g, (uint8_t)(0x58 + gen_dst(g))); break;
    default: gen_byte(g, 0x8f); gen_modrm(g, 0, &m); break;
    }
    gen_end(g, 0, 0);
    gen_esp_moved(g, push ? -size : size);
}

/* PUSH imm32 (a stack address); POP ESP. */
static void pop_esp(struct gen *g)
{
    if (!gen_stack_ok(g, -64, 4))
        return;
    uint32_t v = g->esp - 4 * gen_below(g, 16);
    gen_begin(g);
    gen_byte(g, 0x68);
    gen_imm(g, v, 4);
    gen_end(g, 0, 0);
    gen_esp_moved(g, -4);
    gen_begin(g);
    gen_byte(g, 0x5c);
    gen_end(g, 0, 0);
    gen_esp_moved(g, (int32_t)(v - g->esp));
}

/* PUSHA ... POPA (and the 16-bit forms); POPA restores the pointers. */
void t_pusha(struct gen *g)
{
    int size = gen_pct(g, 25) ? 2 : 4;
    if (gen_pct(g, 20)) {
        pop_esp(g);
        return;
    }
    if (!gen_stack_ok(g, -8 * size, 0))
        return;
    uint8_t ptrs = g->ptrs;
    uint32_t lo[8], hi[8];
    for (int r = 0; r < 8; r++)
        lo[r] = g->ptr_lo[r], hi[r] = g->ptr_hi[r];
    gen_begin(g);
    gen_opsize(g, size);
    gen_byte(g, 0x60);
    gen_end(g, 0, 0);
    gen_esp_moved(g, -8 * size);
    body(g, 3);
    gen_begin(g);
    gen_opsize(g, size);
    gen_byte(g, 0x61);
    gen_end(g, 0, 0);
    gen_esp_moved(g, 8 * size);
    g->ptrs = ptrs;
    for (int r = 0; r < 8; r++)
        g->ptr_lo[r] = lo[r], g->ptr_hi[r] = hi[r];
}

/* PUSHF ... POPF, or PUSH imm; POPF with IF set and TF/AC clear (ring 3
 * cannot change IF, so only the arithmetic flags and DF are compared). */
void t_pushf(struct gen *g)
{
    int size = gen_pct(g, 25) ? 2 : 4;
    if (!gen_stack_ok(g, -size, 0))
        return;
    uint32_t undef = 0;
    bool imm = gen_pct(g, 50);
    if (!imm)
        gen_reads(g, FL_ALL);
    gen_begin(g);
    gen_opsize(g, size);
    if (imm) {
        gen_byte(g, 0x68);
        uint32_t v = (gen_r32(g) & (F_ARITH | F_DF)) | F_IF | 2u;
        gen_imm(g, v, size);
    } else {
        gen_byte(g, 0x9c);
    }
    gen_end(g, 0, 0);
    gen_esp_moved(g, -size);
    body(g, 3);
    gen_begin(g);
    gen_opsize(g, size);
    gen_byte(g, 0x9d);
    gen_end(g, FL_ALL, 0);
    g->undef = undef;
    gen_esp_moved(g, size);
}

/* ENTER size, level ... LEAVE, with EBP pointing into the stack. */
void t_enter(struct gen *g)
{
    if (!gen_writable(g, EBP) || !gen_stack_ok(g, -0x200, 0))
        return;
    uint32_t frame = g->esp - 0x100 - 4 * gen_below(g, 32);
    gen_mov_imm(g, EBP, frame);
    if (gen_pct(g, 25)) { /* LEAVE alone: ESP = EBP + 4 */
        gen_begin(g);
        gen_byte(g, 0xc9);
        gen_end(g, 0, 0);
        gen_esp_moved(g, (int32_t)(frame + 4 - g->esp));
        return;
    }
    uint32_t size = gen_below(g, 0x40) * (gen_pct(g, 50) ? 4 : 1);
    uint32_t level = gen_pct(g, 60) ? gen_below(g, 2) : gen_below(g, 6);
    gen_begin(g);
    gen_byte(g, 0xc8);
    gen_imm(g, size, 2);
    gen_imm(g, level, 1);
    gen_end(g, 0, 0);
    int32_t used = 4 + (level ? 4 * (int32_t)level : 0) + (int32_t)size;
    gen_esp_moved(g, -used);
    g->fixed |= 1u << EBP;
    body(g, 3);
    g->fixed &= (uint8_t)~(1u << EBP);
    gen_begin(g);
    gen_byte(g, 0xc9);
    gen_end(g, 0, 0);
    gen_esp_moved(g, used);
}

/* CALL next; POP reg: the return address is a guest EIP. */
static void call_pop(struct gen *g)
{
    gen_begin(g);
    gen_bytes(g, (const uint8_t[]){0xe8, 0, 0, 0, 0}, 5);
    gen_end(g, 0, 0);
    gen_esp_moved(g, -4);
    gen_begin(g);
    gen_byte(g, (uint8_t)(0x58 + gen_dst(g)));
    gen_end(g, 0, 0);
    gen_esp_moved(g, 4);
}

/* MOV reg, imm32 (form 1) or MOV [m], imm32 (form 2) with the imm32 to be
 * patched to a code address; returns the imm32's offset. */
static int target_setup(struct gen *g, int form, int reg, const struct mop *m)
{
    gen_begin(g);
    if (form == 1) {
        gen_byte(g, (uint8_t)(0xb8 + reg));
    } else {
        gen_byte(g, 0xc7);
        gen_modrm(g, 0, m);
    }
    int field = (int)g->c->code_len;
    gen_imm(g, 0, 4);
    gen_end(g, 0, 0);
    return field;
}

/* CALL rel32 / reg / [mem]; JMP over the callee; callee: body, RET or
 * RET imm16 (popping arguments pushed before the call). */
void t_call(struct gen *g)
{
    if (!gen_stack_ok(g, -16, 0))
        return;
    int form = (int)gen_below(g, 4);
    if (form == 3) {
        call_pop(g);
        return;
    }
    uint16_t pop = gen_pct(g, 30) ? (uint16_t)(4 * gen_below(g, 3)) : 0;
    for (int i = 0; i < pop / 4; i++) {
        gen_begin(g);
        gen_byte(g, 0x6a); /* push imm8: an argument */
        gen_imm(g, gen_r32(g), 1);
        gen_end(g, 0, 0);
        gen_esp_moved(g, -4);
    }
    int reg = gen_dst(g), field = -1;
    struct mop m = form == 1 ? gen_reg_op(reg) : gen_mem(g, 4);
    if (form != 0)
        field = target_setup(g, form, reg, &m);
    gen_begin(g);
    if (form == 0) {
        field = branch_fwd(g, (const uint8_t[]){0xe8}, 1, 4);
    } else {
        gen_byte(g, 0xff);
        gen_modrm(g, 2, &m);
    }
    gen_end(g, 0, 0);
    gen_esp_moved(g, -4);
    gen_begin(g); /* jmp over the callee */
    int over = branch_fwd(g, (const uint8_t[]){0xe9}, 1, 4);
    gen_end(g, 0, 0);
    if (form == 0)
        patch_rel(g, field, 4);
    else
        gen_patch32(g, field, gen_here(g));
    body(g, 3);
    gen_begin(g);
    gen_byte(g, pop ? 0xc2 : 0xc3);
    if (pop)
        gen_imm(g, pop, 2);
    gen_end(g, 0, 0);
    gen_esp_moved(g, 4 + pop);
    patch_rel(g, over, 4);
}

/* JMP rel8/rel32 over code, JMP reg, JMP [mem]. */
void t_jmp(struct gen *g)
{
    int form = (int)gen_below(g, g->allow32 ? 4 : 3);
    if (form >= 2) {
        int reg = gen_dst(g);
        struct mop m = form == 2 ? gen_reg_op(reg) : gen_mem(g, 4);
        if (form == 3)
            gen_need32(g);
        int mfield = target_setup(g, form - 1, reg, &m);
        gen_begin(g);
        gen_byte(g, 0xff);
        gen_modrm(g, 4, &m);
        gen_end(g, 0, 0);
        skipped_body(g, 2);
        gen_patch32(g, mfield, gen_here(g));
        return;
    }
    gen_begin(g);
    int field = form == 0 ? branch_fwd(g, (const uint8_t[]){0xeb}, 1, 1)
                          : branch_fwd(g, (const uint8_t[]){0xe9}, 1, 4);
    gen_end(g, 0, 0);
    skipped_body(g, 3);
    patch_rel(g, field, form == 0 ? 1 : 4);
}

/* Jcc rel8 (70+cc) and rel32 (0F 80+cc) over a few instructions. */
void t_jcc(struct gen *g)
{
    int cc = (int)gen_below(g, 16);
    bool near = gen_pct(g, 40);
    gen_reads(g, cc_reads(cc));
    gen_begin(g);
    int field = near ? branch_fwd(g, (const uint8_t[]){0x0f, (uint8_t)(0x80 + cc)}, 2, 4)
                     : branch_fwd(g, (const uint8_t[]){(uint8_t)(0x70 + cc)}, 1, 1);
    gen_end(g, 0, 0);
    skipped_body(g, 3);
    patch_rel(g, field, near ? 4 : 1);
}

/* JECXZ (E3) and JCXZ (67 E3) over a few instructions. */
void t_jecxz(struct gen *g)
{
    bool cx = g->allow32 && gen_pct(g, 25);
    if (gen_writable(g, ECX) && gen_pct(g, 60))
        gen_mov_imm(g, ECX, gen_pct(g, 50) ? 0 : gen_value(g, 4));
    gen_begin(g);
    if (cx) {
        gen_need32(g);
        gen_byte(g, 0x67);
    }
    int field = branch_fwd(g, (const uint8_t[]){0xe3}, 1, 1);
    gen_end(g, 0, 0);
    skipped_body(g, 3);
    patch_rel(g, field, 1);
}

/* MOV ECX, n; L: body; LOOP/LOOPE/LOOPNE L (and the 67 CX forms). */
void t_loop(struct gen *g)
{
    if (!gen_writable(g, ECX) || g->in_loop)
        return;
    bool cx = g->allow32 && gen_pct(g, 25);
    int kind = (int)gen_below(g, 3);
    gen_mov_imm(g, ECX, (gen_r32(g) & (cx ? 0xffff0000u : 0)) | (1 + gen_below(g, 5)));
    int start = (int)g->c->code_len;
    g->fixed |= 1u << ECX;
    g->in_loop++;
    /* The body also runs after itself: any flag may be undefined at its
     * top, so every flag it reads gets defined inside it. */
    g->undef |= FL_ALL;
    body(g, 2);
    if (kind != 0)
        gen_reads(g, F_ZF);
    g->in_loop--;
    g->fixed &= (uint8_t)~(1u << ECX);
    gen_begin(g);
    if (cx) {
        gen_need32(g);
        gen_byte(g, 0x67);
    }
    gen_byte(g, (uint8_t)(0xe2 - kind));
    gen_byte(g, (uint8_t)(int8_t)(start - (int)g->c->code_len - 1));
    gen_end(g, 0, 0);
}

/* Make reg a data pointer that can move by +-span. false if it cannot. */
static bool string_ptr(struct gen *g, int reg, int32_t span)
{
    if (gen_ptr_ok(g, reg, -span, span))
        return true;
    if (!gen_writable(g, reg) && !(g->ptrs & (1u << reg)))
        return false;
    gen_set_ptr(g, reg, DT_DATA_BASE + 0x2000 + gen_below(g, DT_DATA_SIZE - 0x4000));
    return gen_ptr_ok(g, reg, -span, span);
}

/* MOVS STOS LODS SCAS CMPS, byte/word/dword, with REP/REPE/REPNE. */
void t_string(struct gen *g)
{
    static const uint8_t ops[] = {0xa4, 0xaa, 0xac, 0xae, 0xa6};
    if (g->in_loop)
        return;
    int k = (int)gen_below(g, 5), size = gen_size(g);
    bool cmp = k >= 3, rep = gen_pct(g, 60) && gen_writable(g, ECX);
    uint32_t n = rep ? gen_below(g, 9) : 1;
    int32_t span = (int32_t)(n * (uint32_t)size + 4);
    bool src = k == 0 || k == 2 || k == 4, dst = k != 2;
    if ((k == 2 && !gen_writable(g, EAX)) ||
        (src && !string_ptr(g, ESI, span)) || (dst && !string_ptr(g, EDI, span)))
        return;
    if (rep)
        gen_mov_imm(g, ECX, n);
    if (gen_pct(g, 30)) {
        gen_begin(g);
        gen_byte(g, gen_pct(g, 50) ? 0xfc : 0xfd); /* cld / std */
        gen_end(g, 0, 0);
    }
    gen_begin(g);
    if (rep)
        gen_byte(g, cmp && gen_pct(g, 50) ? 0xf2 : 0xf3);
    gen_opsize(g, size);
    gen_byte(g, (uint8_t)(ops[k] + (size != 1)));
    gen_end(g, cmp && n ? FL_ALL : 0, 0);
    if (src)
        gen_ptr_moved(g, ESI, -span, span);
    if (dst)
        gen_ptr_moved(g, EDI, -span, span);
}

/* XLAT (D7): AL = [EBX + AL]. */
void t_xlat(struct gen *g)
{
    if (!gen_writable(g, EAX))
        return;
    if (!gen_ptr_ok(g, EBX, 0, 256)) {
        if (!gen_writable(g, EBX))
            return;
        gen_set_ptr(g, EBX, DT_DATA_BASE + 0x100 + gen_below(g, DT_DATA_SIZE - 0x400));
    }
    gen_begin(g);
    gen_byte(g, 0xd7);
    gen_end(g, 0, 0);
}

/* A writable register other than those in `avoid`, or -1. */
static int counted_reg(struct gen *g, uint8_t avoid)
{
    for (int tries = 0; tries < 16; tries++) {
        int r = (int)gen_below(g, 8);
        if (gen_writable(g, r) && !(avoid & (1u << r)))
            return r;
    }
    return -1;
}

/* One access of a counted loop: a load, store or add of a register at
 * [ind*scale + disp] (SIB without base: the same bytes in 64-bit mode). */
static void counted_access(struct gen *g, int ind, int scale, uint32_t disp,
                           uint8_t keep, bool flags_free)
{
    int r = counted_reg(g, keep);
    if (r < 0)
        return;
    int kind = (int)gen_below(g, 4);
    if (kind == 2 && flags_free)
        kind = 0;
    static const uint8_t ops[] = {0x8b, 0x89, 0x01, 0x88};
    if (kind == 3 && r > EBX)
        kind = 1; /* byte stores: AL..BL only (no REX meaning in 64-bit) */
    gen_begin(g);
    gen_byte(g, ops[kind]);
    gen_byte(g, (uint8_t)(0x04 | r << 3));
    gen_byte(g, (uint8_t)(scale << 6 | ind << 3 | 5));
    gen_imm(g, disp, 4);
    gen_end(g, kind == 2 ? FL_ALL : 0, 0);
}

/* An access of a counted loop that does not move with the counter: a
 * load or store at [esp - 4k], below the stack's live part. */
static void counted_stack_access(struct gen *g, uint8_t keep)
{
    int32_t d = -4 * (int32_t)(1 + gen_below(g, 16));
    int r = counted_reg(g, keep);
    if (r < 0 || !gen_stack_ok(g, d, d + 4))
        return;
    gen_need32(g); /* [rsp - 4k] in 64-bit mode */
    gen_begin(g);
    gen_byte(g, gen_pct(g, 50) ? 0x89 : 0x8b);
    gen_byte(g, (uint8_t)(0x44 | r << 3));
    gen_byte(g, 0x24);
    gen_byte(g, (uint8_t)(int8_t)d);
    gen_end(g, 0, 0);
}

/*
 * A loop counted by one register, the shape dbt/translate.c runs without
 * lookups under paging (a "twin"): L: accesses at [ind*scale + disp];
 * step ind by a constant or a register; CMP ind, bound (or the step's own
 * flags); JNE/JB/JL L. Emitted twice, so that the second copy finds the
 * pages' shadow entries filled. The counter's values are simulated here
 * to place the accesses in the data region, whatever they wrap to.
 */
void t_counted(struct gen *g)
{
    if (g->in_loop || g->skip_depth)
        return;
    /* JNE up, DEC/SUB JNZ, JB imm, JB reg, JL */
    int form = (int)gen_below(g, 5);
    int ind = counted_reg(g, 0);
    int sreg = form == 3 ? counted_reg(g, (uint8_t)(1u << (ind < 0 ? 0 : ind)))
                         : -1;
    if (ind < 0 || (form == 3 && sreg < 0))
        return;
    uint32_t n = 1 + gen_below(g, 12);
    int32_t step = form == 2 || form == 3 ? (int32_t)(1 + gen_below(g, 7))
                                          : (int32_t)(1u << gen_below(g, 3));
    uint32_t v0, bound = 0;
    int cc = form == 4 ? 0xc : form == 2 || form == 3 ? 0x2 : 0x5;
    switch (form) {
    case 0:
        v0 = gen_pct(g, 50) ? gen_r32(g) : gen_below(g, 64);
        bound = v0 + n * (uint32_t)step;
        break;
    case 1:
        v0 = n * (uint32_t)step;
        step = -step;
        break;
    case 4:
        v0 = 0u - n * (uint32_t)step + gen_below(g, 3);
        bound = gen_below(g, 2);
        break;
    default:
        v0 = gen_below(g, 256);
        bound = v0 + n * (uint32_t)step - gen_below(g, (uint32_t)step);
        break;
    }
    /* Simulate: the counter's offsets from v0 before and after each step. */
    int64_t d = 0, dmin = 0, dmax = 0;
    uint32_t passes = 0;
    for (;;) {
        passes++;
        d += step;
        dmin = d < dmin ? d : dmin;
        dmax = d > dmax ? d : dmax;
        uint32_t v = v0 + (uint32_t)d;
        bool again = form == 0   ? v != bound
                     : form == 1 ? v != 0
                     : form == 4 ? (int32_t)v < (int32_t)bound
                                 : v < bound;
        if (!again)
            break;
        if (passes > 16)
            return; /* cannot happen with the forms above */
    }
    int scale = (int)gen_below(g, 4);
    uint32_t span = (uint32_t)(dmax - dmin) << scale;
    uint32_t at = DT_DATA_BASE + gen_below(g, DT_DATA_SIZE - span - 16);
    uint32_t disp = at - ((v0 + (uint32_t)dmin) << scale);
    uint8_t keep = (uint8_t)(1u << ind | (sreg >= 0 ? 1u << sreg : 0));
    int pre = 1 + (int)gen_below(g, 2), post = (int)gen_below(g, 2);
    bool stack = gen_pct(g, 25);
    for (int copy = 0; copy < 2; copy++) {
        gen_mov_imm(g, ind, v0);
        if (sreg >= 0)
            gen_mov_imm(g, sreg, (uint32_t)step);
        int start = (int)g->c->code_len;
        g->fixed |= keep;
        g->in_loop++;
        g->undef |= FL_ALL;
        for (int i = 0; i < pre; i++)
            counted_access(g, ind, scale, disp, keep, false);
        if (stack)
            counted_stack_access(g, keep);
        if (gen_pct(g, 30))
            body(g, 1);
        gen_begin(g);
        if (sreg >= 0) {          /* add ind, sreg */
            gen_byte(g, 0x01);
            gen_byte(g, (uint8_t)(0xc0 | sreg << 3 | ind));
        } else if (step == 1 || step == -1) { /* inc/dec ind (FF /0, /1) */
            gen_byte(g, 0xff);
            gen_byte(g, (uint8_t)(0xc0 | (step < 0 ? 8 : 0) | ind));
        } else {                  /* add/sub ind, |step| */
            gen_byte(g, 0x83);
            gen_byte(g, (uint8_t)(0xc0 | (step < 0 ? 5 << 3 : 0) | ind));
            gen_byte(g, (uint8_t)(step < 0 ? -step : step));
        }
        gen_end(g, step == 1 || step == -1 ? FL_INCDEC : FL_ALL, 0);
        for (int i = 0; i < post; i++) /* the step's flags may decide */
            counted_access(g, ind, scale, disp, keep, form == 1);
        if (form != 1) {          /* cmp ind, bound */
            gen_begin(g);
            gen_byte(g, 0x81);
            gen_byte(g, (uint8_t)(0xf8 | ind));
            gen_imm(g, bound, 4);
            gen_end(g, FL_ALL, 0);
        }
        g->in_loop--;
        g->fixed &= (uint8_t)~keep;
        gen_begin(g);
        gen_byte(g, (uint8_t)(0x70 + cc));
        gen_byte(g, (uint8_t)(int8_t)(start - (int)g->c->code_len - 1));
        gen_end(g, 0, 0);
    }
}
