/* SPDX-License-Identifier: MIT */
/* The difftest case generator: instruction templates grouped in families. */
#ifndef BT386_DIFFTEST_GEN_H
#define BT386_DIFFTEST_GEN_H

#include "tests/difftest/difftest.h"

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

/* A small, fast, seedable generator (xorshift64*). */
struct rng {
    uint64_t s;
};

/* A ModRM operand: a register (mod 3) or a memory reference. */
struct mop {
    bool is_reg;
    int reg;             /* register number when is_reg */
    int base, index;     /* -1: none */
    int scale;           /* 0..3 */
    int32_t disp;
    bool disp32;         /* force a 32-bit displacement */
    bool abs_modrm;      /* [disp32] as ModRM 05 (not SIB) */
    int rm16;            /* >= 0: 16-bit addressing form rm16, mod by disp */
    uint32_t ea_lo, ea_hi; /* memory: the possible effective addresses */
    uint32_t rg_lo, rg_hi; /* memory: the region they lie in */
};

/*
 * Generator state while one case is built. Templates emit instructions
 * through it; it keeps the invariants that make every case well defined:
 * pointer registers stay inside the data region, ESP inside the stack
 * region, no instruction reads a flag the SDM left undefined, and control
 * flow stays inside the case.
 */
struct gen {
    struct rng rng;
    struct dt_case *c;
    bool allow32;        /* forms that need a 32-bit reference are allowed */
    bool random_mode;    /* building a random mix (not a targeted case) */
    uint8_t fixed;       /* registers templates must not write */
    uint8_t ptrs;        /* registers that hold data-region pointers */
    uint32_t ptr_lo[8], ptr_hi[8]; /* their possible values */
    uint32_t esp;        /* ESP, known exactly */
    uint32_t esp_guard;  /* stack bytes at and above it are live (0: none) */
    int skip_depth;      /* > 0: inside code a branch may jump over */
    int nostack;         /* > 0: templates must not move ESP */
    uint32_t undef;      /* flags that may be undefined now */
    int insn_start;      /* code offset of the instruction being built */
    int budget;          /* instructions the case may still take */
    int in_loop;         /* > 0: inside a LOOP body (runs several times) */
    bool fp;             /* random mixes may use x87/MMX/SSE */
};

/* Template: emits one instruction (plus any setup it needs). */
typedef void (*tmpl_fn)(struct gen *g);

/* Family flags. */
#define FAM_NEEDS32 0x01 /* bytes differ in 64-bit mode: 32-bit reference */
#define FAM_FP      0x02 /* x87/MMX/SSE */
#define FAM_TERM    0x04 /* usually ends the case with an exception */
#define FAM_STACK   0x08 /* moves ESP */
#define FAM_FLOW    0x10 /* a control-flow construct */
#define FAM_NORAND  0x20 /* not used in random mixes */
#define FAM_QEMUBAD 0x40 /* qemu-i386 gets it wrong: not in cases for it */

struct family {
    const char *name;
    tmpl_fn fn;
    unsigned flags;
};

extern const struct family gen_families[];
extern const int gen_nfamilies;
int gen_family_find(const char *name);

/* gen.c: building cases */
void gen_targeted(struct dt_case *c, uint64_t seed, int fam, bool allow32,
                  bool allow_fp);
void gen_random(struct dt_case *c, uint64_t seed, int len, bool allow32,
                bool allow_fp);

/* gen.c: random numbers and values */
uint64_t rng_next(struct rng *r);
uint32_t rng_below(struct rng *r, uint32_t n);
bool rng_pct(struct rng *r, int percent);
uint32_t gen_value(struct gen *g, int size);
uint32_t gen_r32(struct gen *g);
uint32_t gen_below(struct gen *g, uint32_t n);
bool gen_pct(struct gen *g, int percent);

/* gen.c: emitting */
void gen_begin(struct gen *g);
void gen_byte(struct gen *g, uint8_t b);
void gen_bytes(struct gen *g, const uint8_t *b, int n);
void gen_imm(struct gen *g, uint32_t v, int size);
void gen_end(struct gen *g, uint32_t defs, uint32_t undef);
void gen_need32(struct gen *g);
void gen_reads(struct gen *g, uint32_t flags);
void gen_opsize(struct gen *g, int size);
void gen_modrm(struct gen *g, int regfield, const struct mop *m);
uint32_t gen_here(struct gen *g);
void gen_patch32(struct gen *g, int off, uint32_t v);
void gen_init_mem(struct gen *g, uint32_t addr, const void *b, uint32_t n);

/* gen.c: operands */
int gen_size(struct gen *g);
int gen_dst(struct gen *g);
int gen_dst_sized(struct gen *g, int size);
int gen_src(struct gen *g);
bool gen_writable(struct gen *g, int reg);
struct mop gen_reg_op(int reg);
struct mop gen_mem(struct gen *g, int size);
struct mop gen_rm(struct gen *g, int size);
struct mop gen_rm_dst(struct gen *g, int size);
void gen_mov_imm(struct gen *g, int reg, uint32_t v);
void gen_set_ptr(struct gen *g, int reg, uint32_t v);
void gen_ptr_moved(struct gen *g, int reg, int32_t lo, int32_t hi);
bool gen_ptr_ok(struct gen *g, int reg, int32_t lo, int32_t hi);
void gen_esp_moved(struct gen *g, int32_t delta);
bool gen_stack_ok(struct gen *g, int32_t lo, int32_t hi);
void gen_template(struct gen *g, bool fp);
uint32_t cc_reads(int cc);
struct mop gen_mem_aligned(struct gen *g, int size, int align);

/* Flag groups for gen_end. */
#define FL_ALL    F_ARITH
#define FL_LOGIC  (F_CF | F_OF | F_SF | F_ZF | F_PF) /* AF undefined */
#define FL_INCDEC (F_OF | F_SF | F_ZF | F_AF | F_PF)

/* Family templates, one file per group. */
void t_alu(struct gen *g);
void t_alu_imm(struct gen *g);
void t_alu_acc(struct gen *g);
void t_incdec(struct gen *g);
void t_incdec_short(struct gen *g);
void t_negnot(struct gen *g);
void t_test(struct gen *g);
void t_shift(struct gen *g);
void t_shiftd(struct gen *g);
void t_mul(struct gen *g);
void t_imul(struct gen *g);
void t_div(struct gen *g);
void t_bt(struct gen *g);
void t_bsf(struct gen *g);
void t_bswap(struct gen *g);
void t_movx(struct gen *g);
void t_cbw(struct gen *g);
void t_mov(struct gen *g);
void t_xchg(struct gen *g);
void t_xadd(struct gen *g);
void t_cmpxchg(struct gen *g);
void t_cmpxchg8b(struct gen *g);
void t_cmov(struct gen *g);
void t_setcc(struct gen *g);
void t_lahf(struct gen *g);
void t_flagop(struct gen *g);
void t_lea(struct gen *g);
void t_lea16(struct gen *g);
void t_modrm32(struct gen *g);
void t_lock(struct gen *g);
void t_lock_bad(struct gen *g);
void t_nop(struct gen *g);
void t_ud2(struct gen *g);
void t_int3(struct gen *g);
void t_bcd(struct gen *g);
void t_bound(struct gen *g);
void t_into(struct gen *g);
void t_salc(struct gen *g);
void t_esp(struct gen *g);

void t_push_pop(struct gen *g);
void t_pusha(struct gen *g);
void t_pushf(struct gen *g);
void t_enter(struct gen *g);
void t_call(struct gen *g);
void t_jmp(struct gen *g);
void t_jcc(struct gen *g);
void t_jecxz(struct gen *g);
void t_loop(struct gen *g);
void t_counted(struct gen *g);
void t_string(struct gen *g);
void t_xlat(struct gen *g);

void t_x87_ldst(struct gen *g);
void t_x87_int(struct gen *g);
void t_x87_arith(struct gen *g);
void t_x87_cmp(struct gen *g);
void t_x87_misc(struct gen *g);
void t_mmx(struct gen *g);
void t_sse(struct gen *g);
void t_sse_mxcsr(struct gen *g);
void t_sse2(struct gen *g);

/* gen_fpu.c: random initial x87/SSE state */
void gen_fpu_state(struct gen *g);

#endif
