// SPDX-License-Identifier: MIT
/* The difftest generator core: random values, encoding, operand choice,
 * the invariants every case keeps, and building whole cases. */
#include "tests/difftest/gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_END  (DT_DATA_BASE + DT_DATA_SIZE)
#define STACK_END (DT_STACK_BASE + DT_STACK_SIZE)
/* Pointer registers stay this far inside the data region. */
#define PTR_MARGIN 0x400u

/* ---- random numbers ---- */

uint64_t rng_next(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
    return n ? (uint32_t)((rng_next(r) >> 32) % n) : 0;
}

bool rng_pct(struct rng *r, int percent)
{
    return (int)rng_below(r, 100) < percent;
}

uint32_t gen_r32(struct gen *g)
{
    return (uint32_t)(rng_next(&g->rng) >> 32);
}

uint32_t gen_below(struct gen *g, uint32_t n)
{
    return rng_below(&g->rng, n);
}

bool gen_pct(struct gen *g, int percent)
{
    return rng_pct(&g->rng, percent);
}

/* An operand value of `size` bytes: often an edge case, else random. */
uint32_t gen_value(struct gen *g, int size)
{
    static const uint32_t edge[] = {
        0, 1, 2, 3, 0xffffffff, 0xfffffffe, 0x7fffffff, 0x80000000,
        0x80000001, 0x7ffffffe, 0x7f, 0x80, 0x81, 0xff, 0xfe, 0x100,
        0x7fff, 0x8000, 0x8001, 0xffff, 0x10000, 0x1f, 0x20, 0x21, 0x0f,
        0x10, 0x55555555, 0xaaaaaaaa, 0x99, 0x09, 0x0a, 0x6f, 0x9a};
    uint32_t v;
    switch (gen_below(g, 4)) {
    case 0:
    case 1: v = edge[gen_below(g, sizeof(edge) / sizeof(edge[0]))]; break;
    case 2: v = gen_r32(g) >> gen_below(g, 32); break;
    default: v = gen_r32(g); break;
    }
    if (gen_pct(g, 15))
        v = 0u - v; /* two's complement negation, defined for all v */
    return size == 1 ? (v & 0xff) : size == 2 ? (v & 0xffff) : v;
}

/* ---- emitting ---- */

uint32_t gen_here(struct gen *g)
{
    return DT_CODE_BASE + g->c->code_len;
}

void gen_byte(struct gen *g, uint8_t b)
{
    if (g->c->code_len >= DT_MAX_CODE) {
        fprintf(stderr, "difftest: generated code too long\n");
        abort();
    }
    g->c->code[g->c->code_len++] = b;
}

void gen_bytes(struct gen *g, const uint8_t *b, int n)
{
    for (int i = 0; i < n; i++)
        gen_byte(g, b[i]);
}

void gen_imm(struct gen *g, uint32_t v, int size)
{
    for (int i = 0; i < size; i++)
        gen_byte(g, (uint8_t)(v >> (8 * i)));
}

void gen_patch32(struct gen *g, int off, uint32_t v)
{
    memcpy(g->c->code + off, &v, 4);
}

void gen_begin(struct gen *g)
{
    g->insn_start = (int)g->c->code_len;
}

/* Close the instruction begun by gen_begin and account for its flags. */
void gen_end(struct gen *g, uint32_t defs, uint32_t undef)
{
    struct dt_case *c = g->c;
    if (c->ninsns >= DT_MAX_INSNS) {
        fprintf(stderr, "difftest: too many instructions in a case\n");
        abort();
    }
    struct dt_insn *in = &c->insns[c->ninsns++];
    in->off = (uint16_t)g->insn_start;
    in->len = (uint8_t)(c->code_len - (uint32_t)g->insn_start);
    in->skippable = g->skip_depth > 0;
    in->defs = defs;
    in->undef = undef;
    if (g->skip_depth > 0)
        g->undef |= undef;
    else
        g->undef = (g->undef & ~defs) | undef;
    g->budget--;
}

void gen_need32(struct gen *g)
{
    g->c->needs32 = true;
}

/* Before an instruction that reads `flags`: make sure none is undefined,
 * by defining all six with a CMP between two registers. */
void gen_reads(struct gen *g, uint32_t flags)
{
    if (!(flags & g->undef))
        return;
    gen_begin(g);
    gen_byte(g, 0x39); /* cmp r/m32, r32 */
    gen_byte(g, (uint8_t)(0xc0 | gen_below(g, 8) << 3 | gen_below(g, 8)));
    gen_end(g, FL_ALL, 0);
}

void gen_opsize(struct gen *g, int size)
{
    if (size == 2)
        gen_byte(g, 0x66);
}

static bool fits8(int32_t v)
{
    return v >= -128 && v <= 127;
}

static void modrm16(struct gen *g, int regfield, const struct mop *m)
{
    int mod = m->disp == 0 && m->rm16 != 6 && !m->disp32 ? 0
              : fits8(m->disp) && !m->disp32             ? 1
                                                         : 2;
    if (m->rm16 == 8) { /* [disp16] */
        gen_byte(g, (uint8_t)(regfield << 3 | 6));
        gen_imm(g, (uint32_t)m->disp, 2);
        return;
    }
    gen_byte(g, (uint8_t)(mod << 6 | regfield << 3 | m->rm16));
    gen_imm(g, (uint32_t)m->disp, mod == 1 ? 1 : mod == 2 ? 2 : 0);
}

/* ModRM (+SIB, +displacement) for operand m with `regfield`. */
void gen_modrm(struct gen *g, int regfield, const struct mop *m)
{
    if (m->is_reg) {
        gen_byte(g, (uint8_t)(0xc0 | regfield << 3 | m->reg));
        return;
    }
    if (m->rm16 >= 0) {
        modrm16(g, regfield, m);
        return;
    }
    if (m->base < 0) { /* [index*s + disp32] or [disp32] */
        bool abs = m->index < 0 && m->abs_modrm;
        gen_byte(g, (uint8_t)(regfield << 3 | (abs ? 5 : 4)));
        if (!abs)
            gen_byte(g, (uint8_t)(m->scale << 6 |
                                  (m->index < 0 ? 4 : m->index) << 3 | 5));
        gen_imm(g, (uint32_t)m->disp, 4);
        return;
    }
    int mod = m->disp == 0 && m->base != EBP && !m->disp32 ? 0
              : fits8(m->disp) && !m->disp32              ? 1
                                                          : 2;
    bool sib = m->index >= 0 || m->base == ESP;
    gen_byte(g, (uint8_t)(mod << 6 | regfield << 3 | (sib ? 4 : m->base)));
    if (sib)
        gen_byte(g, (uint8_t)(m->scale << 6 |
                              (m->index < 0 ? 4 : m->index) << 3 | m->base));
    gen_imm(g, (uint32_t)m->disp, mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

void gen_init_mem(struct gen *g, uint32_t addr, const void *b, uint32_t n)
{
    struct dt_case *c = g->c;
    struct dt_init in = {addr, n};
    if (c->init_len + sizeof(in) + n > DT_MAX_INIT || !dt_mem_valid(addr, n))
        return;
    memcpy(c->init + c->init_len, &in, sizeof(in));
    memcpy(c->init + c->init_len + sizeof(in), b, n);
    c->init_len += (uint32_t)sizeof(in) + n;
}

/* ---- registers ---- */

int gen_size(struct gen *g)
{
    static const int sizes[] = {1, 2, 4, 4, 4};
    return sizes[gen_below(g, 5)];
}

bool gen_writable(struct gen *g, int reg)
{
    return reg != ESP && !(g->fixed & (1u << reg)) && !(g->ptrs & (1u << reg));
}

static bool any_writable(struct gen *g)
{
    for (int r = 0; r < 8; r++)
        if (gen_writable(g, r))
            return true;
    return false;
}

int gen_dst(struct gen *g)
{
    if (!any_writable(g)) {
        fprintf(stderr, "difftest: no writable register left\n");
        abort();
    }
    for (;;) {
        int r = (int)gen_below(g, 8);
        if (gen_writable(g, r))
            return r;
    }
}

/* A destination register number for an operand of `size` bytes (for
 * bytes: AL..BH, whose full register is number & 3). */
int gen_dst_sized(struct gen *g, int size)
{
    if (size != 1)
        return gen_dst(g);
    for (;;) {
        int r = (int)gen_below(g, 8);
        if (gen_writable(g, r & 3))
            return r;
    }
}

int gen_src(struct gen *g)
{
    return (int)gen_below(g, 8);
}

struct mop gen_reg_op(int reg)
{
    struct mop m = {.is_reg = true, .reg = reg, .base = -1, .index = -1,
                    .rm16 = -1};
    return m;
}

/* MOV reg, imm32 as a setup instruction (flags untouched). */
void gen_mov_imm(struct gen *g, int reg, uint32_t v)
{
    gen_begin(g);
    gen_byte(g, (uint8_t)(0xb8 + reg));
    gen_imm(g, v, 4);
    gen_end(g, 0, 0);
}

/* Point register reg at v in the data region (it becomes a pointer). */
void gen_set_ptr(struct gen *g, int reg, uint32_t v)
{
    bool was = g->ptrs & (1u << reg);
    gen_mov_imm(g, reg, v);
    if (g->skip_depth > 0 && was) {
        g->ptr_lo[reg] = v < g->ptr_lo[reg] ? v : g->ptr_lo[reg];
        g->ptr_hi[reg] = v > g->ptr_hi[reg] ? v : g->ptr_hi[reg];
    } else if (g->skip_depth == 0) {
        g->ptr_lo[reg] = g->ptr_hi[reg] = v;
        g->ptrs |= (uint8_t)(1u << reg);
    }
}

/* A pointer register may have moved by lo..hi bytes. */
void gen_ptr_moved(struct gen *g, int reg, int32_t lo, int32_t hi)
{
    if (!(g->ptrs & (1u << reg)))
        return;
    g->ptr_lo[reg] = (uint32_t)((int32_t)g->ptr_lo[reg] + lo);
    g->ptr_hi[reg] = (uint32_t)((int32_t)g->ptr_hi[reg] + hi);
}

/* Would pointer reg stay well inside the data region if moved lo..hi? */
bool gen_ptr_ok(struct gen *g, int reg, int32_t lo, int32_t hi)
{
    if (!(g->ptrs & (1u << reg)))
        return false;
    int64_t l = (int64_t)g->ptr_lo[reg] + lo, h = (int64_t)g->ptr_hi[reg] + hi;
    return l >= DT_DATA_BASE + PTR_MARGIN && h <= DATA_END - PTR_MARGIN;
}

void gen_esp_moved(struct gen *g, int32_t delta)
{
    if (g->skip_depth > 0 || g->nostack > 0) {
        fprintf(stderr, "difftest: ESP moved where it must not\n");
        abort();
    }
    g->esp = (uint32_t)((int32_t)g->esp + delta);
}

/* May the stack span [ESP+lo, ESP+hi) be used (pushed into or popped)? */
bool gen_stack_ok(struct gen *g, int32_t lo, int32_t hi)
{
    if (g->skip_depth > 0 || g->nostack > 0)
        return false;
    int64_t l = (int64_t)g->esp + lo, h = (int64_t)g->esp + hi;
    uint32_t top = g->esp_guard ? g->esp_guard : STACK_END - 0x100;
    return l >= DT_STACK_BASE + 0x400 && h <= top;
}

/* ---- memory operands ---- */

/* A displacement in [lo, hi], preferring one that fits in a byte. */
static bool pick_disp(struct gen *g, int64_t lo, int64_t hi, int32_t *disp)
{
    if (lo > hi)
        return false;
    int64_t l8 = lo > -128 ? lo : -128, h8 = hi < 127 ? hi : 127;
    if (l8 <= h8 && gen_pct(g, 60))
        *disp = (int32_t)(l8 + gen_below(g, (uint32_t)(h8 - l8 + 1)));
    else
        *disp = (int32_t)(lo + gen_below(g, (uint32_t)(hi - lo + 1)));
    return true;
}

/* Maybe add an index register, set to a small known value; returns the
 * bytes it adds to the address. */
static uint32_t pick_index(struct gen *g, struct mop *m)
{
    if (!gen_pct(g, 30) || !any_writable(g))
        return 0;
    int x = gen_dst(g);
    uint32_t v = gen_below(g, 8);
    gen_mov_imm(g, x, v);
    m->index = x;
    m->scale = (int)gen_below(g, 4);
    return v << m->scale;
}

/* [disp32] somewhere in the data region (ModRM 05 needs32). */
static struct mop mem_absolute(struct gen *g, int size)
{
    struct mop m = {.base = -1, .index = -1, .rm16 = -1};
    m.disp = (int32_t)(DT_DATA_BASE + 0x100 + gen_below(g, DT_DATA_SIZE - 0x200));
    if (gen_pct(g, 50))
        m.disp &= ~(size - 1);
    m.ea_lo = m.ea_hi = (uint32_t)m.disp;
    m.rg_lo = DT_DATA_BASE;
    m.rg_hi = DATA_END;
    m.abs_modrm = g->allow32 && gen_pct(g, 70);
    if (m.abs_modrm)
        gen_need32(g);
    return m;
}

static bool mem_stack(struct gen *g, int size, struct mop *m)
{
    uint32_t top = g->esp_guard ? g->esp_guard : STACK_END;
    uint32_t add = pick_index(g, m);
    int64_t lo = (int64_t)DT_STACK_BASE + 0x40 - g->esp - add;
    int64_t hi = (int64_t)top - size - g->esp - add;
    m->base = ESP;
    if (!pick_disp(g, lo, hi, &m->disp))
        return false;
    m->ea_lo = m->ea_hi = g->esp + add + (uint32_t)m->disp;
    m->rg_lo = DT_STACK_BASE + 0x40;
    m->rg_hi = top;
    return true;
}

static bool mem_ptr(struct gen *g, int size, struct mop *m)
{
    int regs[8], n = 0;
    for (int r = 0; r < 8; r++)
        if (g->ptrs & (1u << r))
            regs[n++] = r;
    if (n == 0)
        return false;
    int p = regs[gen_below(g, (uint32_t)n)];
    uint32_t add = pick_index(g, m);
    m->base = p;
    int64_t lo = (int64_t)DT_DATA_BASE - g->ptr_lo[p] - add;
    int64_t hi = (int64_t)DATA_END - size - g->ptr_hi[p] - add;
    if (lo < -0x300)
        lo = -0x300; /* keep displacements modest */
    if (hi > 0x300)
        hi = 0x300;
    if (!pick_disp(g, lo, hi, &m->disp))
        return false;
    m->ea_lo = g->ptr_lo[p] + add + (uint32_t)m->disp;
    m->ea_hi = g->ptr_hi[p] + add + (uint32_t)m->disp;
    m->rg_lo = DT_DATA_BASE;
    m->rg_hi = DATA_END;
    return true;
}

/* A memory operand of `size` bytes that stays inside data or stack. */
struct mop gen_mem(struct gen *g, int size)
{
    struct mop m = {.base = -1, .index = -1, .rm16 = -1};
    int kind = (int)gen_below(g, 10);
    bool ok = kind < 2   ? mem_stack(g, size, &m)
              : kind < 9 ? mem_ptr(g, size, &m)
                         : false;
    if (!ok)
        return mem_absolute(g, size);
    m.disp32 = gen_pct(g, 10);
    return m;
}

/* A memory operand whose address is `align`-aligned (95% of the time:
 * the rest tests the alignment check of SSE instructions). */
struct mop gen_mem_aligned(struct gen *g, int size, int align)
{
    struct mop m = gen_mem(g, size + align);
    if (align > 1 && gen_pct(g, 95)) {
        uint32_t adj = (uint32_t)(align - (int)(m.ea_lo & (uint32_t)(align - 1))) &
                       (uint32_t)(align - 1);
        m.disp += (int32_t)adj;
        m.ea_lo += adj;
        m.ea_hi += adj;
    }
    return m;
}

/* A source operand: register or memory. */
struct mop gen_rm(struct gen *g, int size)
{
    return gen_pct(g, 50) ? gen_reg_op(gen_src(g)) : gen_mem(g, size);
}

/* A destination operand: writable register or memory. */
struct mop gen_rm_dst(struct gen *g, int size)
{
    return gen_pct(g, 50) ? gen_reg_op(gen_dst_sized(g, size))
                          : gen_mem(g, size);
}

/* ---- whole cases ---- */

static bool family_allowed(struct gen *g, const struct family *f,
                           bool fp)
{
    if (f->flags & FAM_NORAND)
        return false;
    if ((f->flags & FAM_NEEDS32) && !g->allow32)
        return false;
    if ((f->flags & FAM_FP) && !fp)
        return false;
    if ((f->flags & FAM_QEMUBAD) && !g->fp)
        return false; /* cases without FP code may run under qemu-i386 */
    if ((f->flags & (FAM_STACK | FAM_FLOW)) &&
        (g->skip_depth > 0 || g->nostack > 0))
        return false;
    if ((f->flags & FAM_FLOW) && g->budget < 8)
        return false;
    if ((f->flags & FAM_TERM) && !gen_pct(g, 5))
        return false;
    return true;
}

/* Emit one template from a random family allowed here. */
void gen_template(struct gen *g, bool fp)
{
    if (g->c->code_len > DT_MAX_CODE - 512 ||
        g->c->ninsns > DT_MAX_INSNS - 64)
        return;
    for (;;) {
        const struct family *f = &gen_families[gen_below(g, gen_nfamilies)];
        if (family_allowed(g, f, fp)) {
            if (f->flags & FAM_NEEDS32)
                gen_need32(g);
            f->fn(g);
            return;
        }
    }
}

static uint32_t random_ptr(struct gen *g)
{
    uint32_t v = DT_DATA_BASE + 0x2000 + gen_below(g, DT_DATA_SIZE - 0x4000);
    return gen_pct(g, 50) ? v & ~15u : v;
}

static void gen_init(struct gen *g, struct dt_case *c, uint64_t seed,
                     bool allow32, bool fp)
{
    memset(c, 0, offsetof(struct dt_case, code));
    c->code_len = c->init_len = 0;
    c->ninsns = 0;
    memset(g, 0, sizeof(*g));
    g->rng.s = seed * 0x9e3779b97f4a7c15ull + 0x1234567;
    rng_next(&g->rng);
    g->c = c;
    g->allow32 = allow32;
    c->seed = seed;
    for (int r = 0; r < 8; r++)
        c->regs[r] = gen_value(g, 4);
    static const int cand[] = {EBX, EBP, ESI, EDI};
    int p = cand[gen_below(g, 4)], q = cand[gen_below(g, 4)];
    g->ptrs = (uint8_t)(1u << p | (gen_pct(g, 50) ? 1u << q : 0));
    for (int r = 0; r < 8; r++) {
        if (g->ptrs & (1u << r)) {
            c->regs[r] = random_ptr(g);
            g->ptr_lo[r] = g->ptr_hi[r] = c->regs[r];
        }
    }
    c->regs[ESP] = g->esp = DT_STACK_ESP - 4 * gen_below(g, 64);
    c->eflags = (gen_r32(g) & F_ARITH) | F_IF | 2u |
                (gen_pct(g, 25) ? F_DF : 0);
    gen_fpu_state(g);
    if (!fp) {
        /* Cases without x87/SSE code may run under qemu-i386, whose signal
         * frames lose the x87 control state: start from FNINIT's. */
        memset(c->fpu, 0, 5);
        c->fpu[0] = 0x7f, c->fpu[1] = 0x03;
    }
}

static void gen_finish(struct gen *g)
{
    g->skip_depth = 0;
    g->c->sentinel = gen_here(g);
    gen_begin(g);
    gen_byte(g, 0xf4); /* hlt */
    gen_end(g, 0, 0);
}

void gen_targeted(struct dt_case *c, uint64_t seed, int fam, bool allow32,
                  bool allow_fp)
{
    struct gen g;
    const struct family *f = &gen_families[fam];
    gen_init(&g, c, seed, allow32 || (f->flags & FAM_NEEDS32), allow_fp);
    c->family = fam;
    g.fp = allow_fp;
    if (f->flags & FAM_NEEDS32)
        gen_need32(&g);
    g.budget = 64;
    int n = 1 + (int)gen_below(&g, 3);
    for (int i = 0; i < n; i++)
        f->fn(&g);
    gen_finish(&g);
}

void gen_random(struct dt_case *c, uint64_t seed, int len, bool allow32,
                bool allow_fp)
{
    struct gen g;
    gen_init(&g, c, seed, allow32, allow_fp);
    c->family = -1;
    g.random_mode = true;
    g.budget = len;
    while (g.budget > 0 && c->code_len < DT_MAX_CODE - 512 &&
           c->ninsns < DT_MAX_INSNS - 64)
        gen_template(&g, allow_fp);
    gen_finish(&g);
}
