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
