// SPDX-License-Identifier: MIT
/* A small x86-64 encoder: named functions, one per instruction form. */
#include "dbt/emit.h"

#include <string.h>

/* Opcode bytes used below. */
#define OP_MOV_RM_R   0x89 /* mov r/m32, r32 */
#define OP_MOV_R_RM   0x8b /* mov r32, r/m32 */
#define OP_MOV_R8_RM8 0x8a /* mov r8, r/m8 */
#define OP_MOV_RM_IMM 0xc7 /* mov r/m32, imm32 (/0) */
#define OP_MOV_R_IMM  0xb8 /* mov r32, imm32 (+r) */
#define OP_LEA        0x8d
#define OP_XCHG       0x87
#define OP_JMP_REL32  0xe9
#define OP_JMP_REL8   0xeb
#define OP_JRCXZ      0xe3
#define OP_GRP5       0xff /* /4: jmp r/m64 */
#define REX_BASE      0x40
#define REX_W         0x08
#define REX_R         0x04
#define REX_X         0x02
#define REX_B         0x01

void emit_init(struct emitter *e, uint8_t *buf, size_t size)
{
    e->start = buf;
    e->p = buf;
    e->end = buf + size;
    e->overflow = false;
}

void emit_u8(struct emitter *e, uint8_t b)
{
    if (e->p >= e->end) {
        e->overflow = true;
        return;
    }
    *e->p++ = b;
}

void emit_u32(struct emitter *e, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        emit_u8(e, (uint8_t)(v >> (8 * i)));
}

void emit_u64(struct emitter *e, uint64_t v)
{
    emit_u32(e, (uint32_t)v);
    emit_u32(e, (uint32_t)(v >> 32));
}

void emit_bytes(struct emitter *e, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        emit_u8(e, b[i]);
}

static bool reg_ext(int r)
{
    return r >= 8;
}

void emit_rex(struct emitter *e, bool w, int reg, int index, int base,
              bool force)
{
    uint8_t rex = REX_BASE;
    if (w)
        rex |= REX_W;
    if (reg != H_NONE && reg_ext(reg))
        rex |= REX_R;
    if (index != H_NONE && reg_ext(index))
        rex |= REX_X;
    if (base != H_NONE && reg_ext(base))
        rex |= REX_B;
    if (rex != REX_BASE || force)
        emit_u8(e, rex);
}

static uint8_t modrm(int mod, int reg, int rm)
{
    return (uint8_t)((mod << 6) | ((reg & 7) << 3) | (rm & 7));
}

static int scale_bits(int scale)
{
    return scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0;
}

/*
 * Memory ModRM. Base RSP/R12 always needs a SIB byte; base RBP/R13 with
 * mod 00 would mean RIP-relative (or no base), so it gets a zero disp8.
 */
void emit_modrm_mem(struct emitter *e, int reg, struct hmem m)
{
    int mod = m.disp == 0 ? 0 : (m.disp >= -128 && m.disp <= 127) ? 1 : 2;
    if (m.base == H_NONE) {
        /* [index*scale + disp32] or [disp32]: SIB with base 101, mod 00 */
        emit_u8(e, modrm(0, reg, 4));
        int idx = m.index == H_NONE ? 4 : m.index;
        emit_u8(e, (uint8_t)((scale_bits(m.scale) << 6) | ((idx & 7) << 3) | 5));
        emit_u32(e, (uint32_t)m.disp);
        return;
    }
    if (mod == 0 && (m.base & 7) == H_RBP)
        mod = 1;
    if (m.index != H_NONE || (m.base & 7) == H_RSP) {
        int idx = m.index == H_NONE ? 4 : m.index;
        emit_u8(e, modrm(mod, reg, 4));
        emit_u8(e, (uint8_t)((scale_bits(m.scale) << 6) | ((idx & 7) << 3) |
                             (m.base & 7)));
    } else {
        emit_u8(e, modrm(mod, reg, m.base));
    }
    if (mod == 1)
        emit_u8(e, (uint8_t)m.disp);
    else if (mod == 2)
        emit_u32(e, (uint32_t)m.disp);
}

/* Emit [REX] opcode modrm for a reg/mem instruction. */
static void emit_op_rm(struct emitter *e, bool w, uint8_t op, int reg,
                       struct hmem m)
{
    emit_rex(e, w, reg, m.index, m.base, false);
    emit_u8(e, op);
    emit_modrm_mem(e, reg, m);
}

void emit_mov_r32_m32(struct emitter *e, int dst, struct hmem m)
{
    emit_op_rm(e, false, OP_MOV_R_RM, dst, m);
}

void emit_mov_m32_r32(struct emitter *e, struct hmem m, int src)
{
    emit_op_rm(e, false, OP_MOV_RM_R, src, m);
}

void emit_mov_r64_m64(struct emitter *e, int dst, struct hmem m)
{
    emit_op_rm(e, true, OP_MOV_R_RM, dst, m);
}

void emit_mov_m64_r64(struct emitter *e, struct hmem m, int src)
{
    emit_op_rm(e, true, OP_MOV_RM_R, src, m);
}

/* Only for R8..R15 destinations (no REX ambiguity with AH..BH). */
void emit_mov_r8_m8(struct emitter *e, int dst, struct hmem m)
{
    emit_rex(e, false, dst, m.index, m.base, true);
    emit_u8(e, OP_MOV_R8_RM8);
    emit_modrm_mem(e, dst, m);
}

void emit_mov_m32_imm32(struct emitter *e, struct hmem m, uint32_t imm)
{
    emit_op_rm(e, false, OP_MOV_RM_IMM, 0, m);
    emit_u32(e, imm);
}

void emit_mov_m64_imm32(struct emitter *e, struct hmem m, int32_t imm)
{
    emit_op_rm(e, true, OP_MOV_RM_IMM, 0, m);
    emit_u32(e, (uint32_t)imm);
}

void emit_movsxd_r64_r32(struct emitter *e, int dst, int src)
{
    emit_rex(e, true, dst, H_NONE, src, false);
    emit_u8(e, 0x63);
    emit_u8(e, modrm(3, dst, src));
}

void emit_mov_r32_r32(struct emitter *e, int dst, int src)
{
    emit_rex(e, false, src, H_NONE, dst, false);
    emit_u8(e, OP_MOV_RM_R);
    emit_u8(e, modrm(3, src, dst));
}

void emit_mov_r32_imm32(struct emitter *e, int dst, uint32_t imm)
{
    emit_rex(e, false, H_NONE, H_NONE, dst, false);
    emit_u8(e, (uint8_t)(OP_MOV_R_IMM + (dst & 7)));
    emit_u32(e, imm);
}

void emit_mov_r64_imm64(struct emitter *e, int dst, uint64_t imm)
{
    emit_rex(e, true, H_NONE, H_NONE, dst, false);
    emit_u8(e, (uint8_t)(OP_MOV_R_IMM + (dst & 7)));
    emit_u64(e, imm);
}

void emit_lea_r32(struct emitter *e, int dst, struct hmem m)
{
    emit_op_rm(e, false, OP_LEA, dst, m);
}

void emit_lea_r64(struct emitter *e, int dst, struct hmem m)
{
    emit_op_rm(e, true, OP_LEA, dst, m);
}

void emit_lea_r64_rip(struct emitter *e, int dst, const void *target)
{
    emit_rex(e, true, dst, H_NONE, H_NONE, false);
    emit_u8(e, OP_LEA);
    emit_u8(e, modrm(0, dst, 5)); /* mod 00 rm 101: [rip + disp32] */
    int64_t rel = (const uint8_t *)target - (e->p + 4);
    emit_u32(e, (uint32_t)(int32_t)rel);
}

void emit_movzx_r32_r16(struct emitter *e, int dst, int src)
{
    emit_rex(e, false, dst, H_NONE, src, false);
    emit_u8(e, 0x0f);
    emit_u8(e, 0xb7);
    emit_u8(e, modrm(3, dst, src));
}

void emit_xchg_r64_r64(struct emitter *e, int a, int b)
{
    emit_rex(e, true, a, H_NONE, b, false);
    emit_u8(e, OP_XCHG);
    emit_u8(e, modrm(3, a, b));
}

/* The BMI2 shifts: VEX.LZ.pp.0F38.W0 F7 /r, with the count in vvvv:
 * C4 [~R ~X ~B 00010] [W ~vvvv L pp]; pp is 66 (shlx), F3 (sarx), F2 (shrx). */
static void emit_bmi2_shift(struct emitter *e, int pp, int dst, int src,
                            int cnt)
{
    emit_u8(e, 0xc4);
    emit_u8(e, (uint8_t)((reg_ext(dst) ? 0 : 0x80) | 0x40 |
                         (reg_ext(src) ? 0 : 0x20) | 0x02));
    emit_u8(e, (uint8_t)(((~cnt & 0xf) << 3) | pp));
    emit_u8(e, 0xf7);
    emit_u8(e, modrm(3, dst, src));
}

void emit_shrx_r32(struct emitter *e, int dst, int src, int cnt)
{
    emit_bmi2_shift(e, 3, dst, src, cnt);
}

void emit_shlx_r32(struct emitter *e, int dst, int src, int cnt)
{
    emit_bmi2_shift(e, 1, dst, src, cnt);
}

void emit_sarx_r32(struct emitter *e, int dst, int src, int cnt)
{
    emit_bmi2_shift(e, 2, dst, src, cnt);
}

void emit_rorx_r64(struct emitter *e, int dst, int src, uint8_t imm)
{
    emit_u8(e, 0xc4); /* VEX.LZ.F2.0F3A.W1 F0 /r ib */
    emit_u8(e, (uint8_t)((reg_ext(dst) ? 0 : 0x80) | 0x40 |
                         (reg_ext(src) ? 0 : 0x20) | 0x03));
    emit_u8(e, 0xfb);
    emit_u8(e, 0xf0);
    emit_u8(e, modrm(3, dst, src));
    emit_u8(e, imm);
}

void emit_not_r32(struct emitter *e, int r)
{
    emit_rex(e, false, H_NONE, H_NONE, r, false);
    emit_u8(e, 0xf7);
    emit_u8(e, modrm(3, 2, r));
}

void emit_alu_rr(struct emitter *e, bool w, uint8_t op, int rm, int reg)
{
    emit_rex(e, w, reg, H_NONE, rm, false);
    emit_u8(e, op);
    emit_u8(e, modrm(3, reg, rm));
}

void emit_shr_r32_imm8(struct emitter *e, int r, uint8_t n)
{
    emit_rex(e, false, H_NONE, H_NONE, r, false);
    emit_u8(e, 0xc1);
    emit_u8(e, modrm(3, 5, r));
    emit_u8(e, n);
}

static void emit_cmov_rr(struct emitter *e, bool w, int cc, int dst, int src)
{
    emit_rex(e, w, dst, H_NONE, src, false);
    emit_u8(e, 0x0f);
    emit_u8(e, (uint8_t)(0x40 | cc));
    emit_u8(e, modrm(3, dst, src));
}

void emit_cmov_r32_r32(struct emitter *e, int cc, int dst, int src)
{
    emit_cmov_rr(e, false, cc, dst, src);
}

void emit_push_m64(struct emitter *e, struct hmem m)
{
    emit_rex(e, false, H_NONE, m.index, m.base, false);
    emit_u8(e, 0xff);
    emit_modrm_mem(e, 6, m);
}

void emit_pop_m64(struct emitter *e, struct hmem m)
{
    emit_rex(e, false, H_NONE, m.index, m.base, false);
    emit_u8(e, 0x8f);
    emit_modrm_mem(e, 0, m);
}

void emit_test_r64_r64(struct emitter *e, int a, int b)
{
    emit_rex(e, true, b, H_NONE, a, false);
    emit_u8(e, 0x85);
    emit_u8(e, modrm(3, b, a));
}

void emit_test_r32_imm32(struct emitter *e, int r, uint32_t imm)
{
    emit_rex(e, false, H_NONE, H_NONE, r, false);
    emit_u8(e, 0xf7);
    emit_u8(e, modrm(3, 0, r));
    emit_u32(e, imm);
}

void emit_xor_r32_r32(struct emitter *e, int dst, int src)
{
    emit_rex(e, false, src, H_NONE, dst, false);
    emit_u8(e, 0x31);
    emit_u8(e, modrm(3, src, dst));
}

void emit_sub_r64_m64(struct emitter *e, int dst, struct hmem m)
{
    emit_op_rm(e, true, 0x2b, dst, m);
}

void emit_cmp_r32_m32(struct emitter *e, int r, struct hmem m)
{
    emit_op_rm(e, false, 0x3b, r, m);
}

void emit_cmp_r64_m64(struct emitter *e, int r, struct hmem m)
{
    emit_op_rm(e, true, 0x3b, r, m);
}

void emit_add_r64_m64(struct emitter *e, int r, struct hmem m)
{
    emit_op_rm(e, true, 0x03, r, m);
}

void emit_shr_r64_imm8(struct emitter *e, int r, uint8_t n)
{
    emit_rex(e, true, H_NONE, H_NONE, r, false);
    emit_u8(e, 0xc1);
    emit_u8(e, modrm(3, 5, r));
    emit_u8(e, n);
}

void emit_cmov_r64_r64(struct emitter *e, int cc, int dst, int src)
{
    emit_cmov_rr(e, true, cc, dst, src);
}

void emit_cmov_r64_m64(struct emitter *e, int cc, int dst, struct hmem m)
{
    emit_rex(e, true, dst, m.index, m.base, false);
    emit_u8(e, 0x0f);
    emit_u8(e, (uint8_t)(0x40 | cc));
    emit_modrm_mem(e, dst, m);
}

void emit_cmp_r64_imm32(struct emitter *e, int r, int32_t imm)
{
    emit_rex(e, true, H_NONE, H_NONE, r, false);
    emit_u8(e, 0x81);
    emit_u8(e, modrm(3, 7, r));
    emit_u32(e, (uint32_t)imm);
}

void emit_add_m64_imm8(struct emitter *e, struct hmem m, int8_t imm)
{
    emit_op_rm(e, true, 0x83, 0, m);
    emit_u8(e, (uint8_t)imm);
}

static void emit_rel32_to(struct emitter *e, const void *target)
{
    int64_t rel = (const uint8_t *)target - (e->p + 4);
    emit_u32(e, (uint32_t)(int32_t)rel);
}

size_t emit_jmp_rel32(struct emitter *e, const void *target)
{
    emit_u8(e, OP_JMP_REL32);
    size_t field = emit_offset(e);
    emit_rel32_to(e, target);
    return field;
}

size_t emit_jcc_rel32(struct emitter *e, int cc, const void *target)
{
    emit_u8(e, 0x0f);
    emit_u8(e, (uint8_t)(0x80 | cc));
    size_t field = emit_offset(e);
    emit_rel32_to(e, target);
    return field;
}

void emit_jmp_m64(struct emitter *e, struct hmem m)
{
    emit_op_rm(e, false, OP_GRP5, 4, m);
}

size_t emit_jrcxz_rel8(struct emitter *e)
{
    emit_u8(e, OP_JRCXZ);
    size_t field = emit_offset(e);
    emit_u8(e, 0);
    return field;
}

size_t emit_jmp_rel8(struct emitter *e)
{
    emit_u8(e, OP_JMP_REL8);
    size_t field = emit_offset(e);
    emit_u8(e, 0);
    return field;
}

void emit_bind_rel8(struct emitter *e, size_t field)
{
    if (e->overflow)
        return;
    e->start[field] = (uint8_t)(emit_offset(e) - (field + 1));
}

void emit_patch_rel32(uint8_t *field, const void *target)
{
    int32_t rel = (int32_t)((const uint8_t *)target - (field + 4));
    memcpy(field, &rel, 4);
}
