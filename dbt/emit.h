/* SPDX-License-Identifier: MIT */
/* A small x86-64 encoder: named functions, one per instruction form. */
#ifndef BT386_DBT_EMIT_H
#define BT386_DBT_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Host registers, by encoding number. */
enum {
    H_RAX, H_RCX, H_RDX, H_RBX, H_RSP, H_RBP, H_RSI, H_RDI,
    H_R8, H_R9, H_R10, H_R11, H_R12, H_R13, H_R14, H_R15
};
#define H_NONE (-1)

/* Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A,
       CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };

/*
 * Output cursor. Writes past `end` set `overflow` and are dropped, so a
 * caller checks once after emitting a whole block.
 */
struct emitter {
    uint8_t *start;
    uint8_t *p;
    uint8_t *end;
    bool overflow;
};

/* A memory operand [base + index * scale + disp]; H_NONE for no base/index. */
struct hmem {
    int base;
    int index;
    int scale; /* 1, 2, 4 or 8 */
    int32_t disp;
};

static inline struct hmem hmem_bd(int base, int32_t disp)
{
    return (struct hmem){base, H_NONE, 1, disp};
}

static inline struct hmem hmem_bi(int base, int index, int scale, int32_t disp)
{
    return (struct hmem){base, index, scale, disp};
}

void emit_init(struct emitter *e, uint8_t *buf, size_t size);
static inline size_t emit_offset(const struct emitter *e)
{
    return (size_t)(e->p - e->start);
}

void emit_u8(struct emitter *e, uint8_t b);
void emit_u32(struct emitter *e, uint32_t v);
void emit_u64(struct emitter *e, uint64_t v);
void emit_bytes(struct emitter *e, const uint8_t *b, size_t n);

/* REX prefix if any bit is needed (or `force`, for SPL..DIL byte regs). */
void emit_rex(struct emitter *e, bool w, int reg, int index, int base,
              bool force);
/* ModRM (+SIB, +disp) for register field `reg` and memory operand m. */
void emit_modrm_mem(struct emitter *e, int reg, struct hmem m);

/* The forms below never change RFLAGS unless their name says so. */
void emit_mov_r32_m32(struct emitter *e, int dst, struct hmem m);
void emit_mov_m32_r32(struct emitter *e, struct hmem m, int src);
void emit_mov_r64_m64(struct emitter *e, int dst, struct hmem m);
void emit_mov_m64_r64(struct emitter *e, struct hmem m, int src);
void emit_mov_r8_m8(struct emitter *e, int dst, struct hmem m);
void emit_mov_m32_imm32(struct emitter *e, struct hmem m, uint32_t imm);
void emit_mov_m64_imm32(struct emitter *e, struct hmem m, int32_t imm);
void emit_mov_r32_r32(struct emitter *e, int dst, int src);
void emit_movsxd_r64_r32(struct emitter *e, int dst, int src);
void emit_mov_r32_imm32(struct emitter *e, int dst, uint32_t imm);
void emit_mov_r64_imm64(struct emitter *e, int dst, uint64_t imm);
void emit_lea_r32(struct emitter *e, int dst, struct hmem m);
void emit_lea_r64(struct emitter *e, int dst, struct hmem m);
/* lea dst, [rip + disp] where the target is `target` (absolute). */
void emit_lea_r64_rip(struct emitter *e, int dst, const void *target);
void emit_movzx_r32_r16(struct emitter *e, int dst, int src);
void emit_xchg_r64_r64(struct emitter *e, int a, int b);
/* shrx dst32, src32, cnt32 (BMI2: flag-free shift right). */
void emit_shrx_r32(struct emitter *e, int dst, int src, int cnt);
/* rorx dst64, src64, imm (BMI2: flag-free rotate right). */
void emit_rorx_r64(struct emitter *e, int dst, int src, uint8_t imm);
/* shlx/sarx dst32, src32, cnt32 (BMI2, flag-free). */
void emit_shlx_r32(struct emitter *e, int dst, int src, int cnt);
void emit_sarx_r32(struct emitter *e, int dst, int src, int cnt);
/* not r32 (flag-free). */
void emit_not_r32(struct emitter *e, int r);
/* op r/m, reg with both operands registers (ADD 01, SUB 29, CMP 39, TEST
 * 85 ...), 32-bit or (w) 64-bit. */
void emit_alu_rr(struct emitter *e, bool w, uint8_t op, int rm, int reg);
void emit_shr_r32_imm8(struct emitter *e, int r, uint8_t n);
/* CMOVcc dst32, src32, and CMOVcc dst64, [m]. */
void emit_cmov_r32_r32(struct emitter *e, int cc, int dst, int src);
void emit_cmov_r64_m64(struct emitter *e, int cc, int dst, struct hmem m);
void emit_cmov_r64_r64(struct emitter *e, int cc, int dst, int src);
/* PUSH qword [m] and POP qword [m] (flags untouched). */
void emit_push_m64(struct emitter *e, struct hmem m);
void emit_pop_m64(struct emitter *e, struct hmem m);
/* Flag-changing forms, for places where guest flags are dead. */
void emit_test_r64_r64(struct emitter *e, int a, int b);
void emit_test_r32_imm32(struct emitter *e, int r, uint32_t imm);
void emit_xor_r32_r32(struct emitter *e, int dst, int src);
void emit_sub_r64_m64(struct emitter *e, int dst, struct hmem m);
void emit_cmp_r32_m32(struct emitter *e, int r, struct hmem m);
void emit_cmp_r64_m64(struct emitter *e, int r, struct hmem m);
void emit_add_r64_m64(struct emitter *e, int r, struct hmem m);
void emit_shr_r64_imm8(struct emitter *e, int r, uint8_t n);
void emit_cmp_r64_imm32(struct emitter *e, int r, int32_t imm);
void emit_add_m64_imm8(struct emitter *e, struct hmem m, int8_t imm);

/* Branches. The _rel32 forms return the offset of their rel32 field so the
 * caller can patch it; emit_patch_rel32 points such a field at `target`. */
size_t emit_jmp_rel32(struct emitter *e, const void *target);
size_t emit_jcc_rel32(struct emitter *e, int cc, const void *target);
void emit_jmp_m64(struct emitter *e, struct hmem m);
/* jrcxz rel8 (tests all of RCX); returns the offset of the rel8 field. */
size_t emit_jrcxz_rel8(struct emitter *e);
/* jmp rel8; returns the offset of the rel8 field. */
size_t emit_jmp_rel8(struct emitter *e);
/* Point a rel8 field at the current position. */
void emit_bind_rel8(struct emitter *e, size_t field);
void emit_patch_rel32(uint8_t *field, const void *target);

#endif
