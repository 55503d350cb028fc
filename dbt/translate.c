// SPDX-License-Identifier: MIT
/* Translation: guest instructions to host code, identity where possible. */
#include "dbt/internal.h"
#include "mmu/shadow.h"
#include "monitor/vcpu.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The host operand of a guest memory access, once HR_ADDR holds the
 * linear address: [phys_base + linear]. */
#define GUEST_MEM hmem_bi(HR_PBASE, HR_ADDR, 1, 0)

/* A direct branch that leaves the block, patched later by chaining (or,
 * to another page with paging on, resolved through the jump cache). */
struct stub {
    size_t field; /* offset of the rel32 field in the emitter */
    uint32_t eip; /* guest target */
    bool indirect;
};

/* What HR_T2 holds: nothing known, or the entry (read or write table)
 * of the block's stack page (gen_esp_check). */
enum { T2_NONE, T2_STACK_READ, T2_STACK_WRITE };

/* An out-of-line exit for a shadow miss or a page-crossing access. */
struct mstub {
    size_t field;     /* rel32 of the jz/jnz that leads here */
    size_t resume;    /* emitter offset of the instruction's host code */
    uint32_t eip;     /* the guest instruction */
    uint32_t kind;    /* PAGE_ARG_* >> 32 */
};

#define MAX_MSTUBS 96

/* An out-of-line refill of a memo slot (gen_memo_lookup). */
struct memostub {
    size_t field;  /* rel32 of the ja that leads here */
    size_t back;   /* emitter offset where the hit path goes on */
    size_t resume; /* emitter offset of the instruction's host code */
    uint32_t eip;  /* the guest instruction */
    bool write;
    unsigned size; /* as for gen_shadow_lookup */
    unsigned slot;
};

#define MAX_MEMOS 24

/* Counted loops (gen_run_test): at most this many instructions and
 * accesses, pages per access, and failure branches in the entry test. */
#define RUN_MAX_INSNS    24
#define RUN_MAX_ACCESSES 12
#define RUN_MAX_PAGES    1024
#define RUN_MAX_FAILS    (8 + 6 * RUN_MAX_ACCESSES)

/* The refill of a block's stack-page memo slot (gen_esp_check). */
struct stackmemo {
    size_t field, back; /* as in struct memostub; field 0: none */
    int32_t lo, span;   /* the stack bytes, from ESP at entry */
    bool write;
    unsigned slot;
};

/* Per-block translation state. */
struct tctx {
    struct emitter *e;
    struct vcpu *v;
    uint32_t mode;
    const struct insn *in;
    struct stub stubs[4];
    int nstubs;
    struct mstub mstubs[MAX_MSTUBS];
    int nmstubs;
    struct memostub memos[MAX_MEMOS];
    int nmemos;
    uint8_t load_fed;    /* registers whose values the block loads */
    bool operand;        /* the access being generated is the operand */
    bool end;         /* the block ends after this instruction */
    uint32_t pcflags; /* PCF_* for this instruction */
    bool unchecked;   /* restricted segments need no EXIT_SEGCHECK */
    bool flags_live;  /* guest flags are live before this instruction */
    bool bounce;      /* the memory operand is the vCPU's bounce buffer */
    bool bounce_stack; /* ... the stack slot of a PUSH/POP-like one is */
    bool miss_faults; /* a zero entry may simply fault (see below) */
    bool esp_aligned; /* guest ESP is known to be a multiple of 4 here */
    int32_t stack_delta; /* the slot's offset from ESP (gen_stack_addr) */
    size_t esp_check[3]; /* rel32s of the block's ESP entry tests, or 0 */
    struct stackmemo stack_memo; /* the stack page's memo refill */
    bool stack_page;  /* the entry test put the block's stack on one page */
    bool esp_exact;   /* esp_off is ESP minus ESP at block entry */
    int32_t esp_off;
    bool stack_slot;  /* the access being generated is on that page */
    int t2_holds;     /* T2_*: what HR_T2 holds between instructions */
    bool t2_untouched; /* this instruction's rewrite leaves HR_T2 alone */
    size_t insn_off;  /* emitter offset of this instruction's host code */
    int kind;         /* TR_* of the last instruction (coverage tool) */
    uint32_t page;    /* linear page of the block start */
    /* A counted loop (gen_run_test): the block's own EIP, the rel32s of
     * the entry test's jump to the twin and of its failures, and host
     * offsets of the first body's start, its back edge and its exit. */
    bool run;
    bool run_flags_in; /* the test set the guest's flags aside */
    uint32_t run_eip;
    size_t run_go, run_fail_at, run_back, run_fall, run_top;
    size_t run_fails[RUN_MAX_FAILS];
    int nrun_fails;
};

static void gen_undefined(struct tctx *t);

/* The EIP after instruction `in` in code of `mode`. */
static uint32_t insn_next(const struct insn *in, uint32_t mode)
{
    uint32_t eip = in->eip + in->len;
    return (mode & MODE_CODE32) ? eip : (eip & 0xffff);
}

static uint32_t next_eip(const struct tctx *t)
{
    return insn_next(t->in, t->mode);
}

/* Leave translated code: continue at guest eip for `reason`. */
static void gen_exit(struct tctx *t, uint32_t eip, int reason)
{
    emit_mov_m32_imm32(t->e, VCPU_MEM(VCPU_OFF_EIP), eip);
    emit_mov_m64_imm32(t->e, VCPU_MEM(VCPU_OFF_EXIT_REASON), reason);
    emit_jmp_m64(t->e, VCPU_MEM(VCPU_OFF_EXIT_FN));
    t->end = true;
}

/* A direct branch to guest eip, through a stub until it is chained. */
static void gen_branch(struct tctx *t, int cc, uint32_t eip)
{
    struct stub *s = &t->stubs[t->nstubs++];
    s->eip = eip;
    /* With paging, another page's mapping can change under a chain. */
    s->indirect = (t->mode & MODE_PAGING) &&
                  ((t->v->seg[SEG_CS].base + eip) >> 12) != t->page;
    s->field = cc < 0 ? emit_jmp_rel32(t->e, t->e->p)
                      : emit_jcc_rel32(t->e, cc, t->e->p);
}

static void gen_jc_lookup(struct tctx *t);

/*
 * The stubs: record the target and the site to patch, then exit. The
 * one-instruction block after STI or MOV SS is never chained and never
 * takes the jump cache: it must return to the monitor each time it runs,
 * or an interrupt held off by the shadow would wait for some later exit.
 */
static void gen_stubs(struct tctx *t)
{
    struct emitter *e = t->e;
    for (int i = 0; i < t->nstubs; i++) {
        uint8_t *site = e->start + t->stubs[i].field;
        emit_patch_rel32(site, e->p);
        if (t->stubs[i].indirect || (t->mode & MODE_ONE)) {
            emit_mov_r32_imm32(e, HR_T0, t->stubs[i].eip);
            gen_jc_lookup(t);
            continue;
        }
        emit_mov_m32_imm32(e, VCPU_MEM(VCPU_OFF_EIP), t->stubs[i].eip);
        emit_lea_r64_rip(e, HR_T0, site);
        emit_mov_m64_r64(e, VCPU_MEM(VCPU_OFF_EXIT_ARG), HR_T0);
        emit_mov_m64_imm32(e, VCPU_MEM(VCPU_OFF_EXIT_REASON), EXIT_CHAIN);
        emit_jmp_m64(e, VCPU_MEM(VCPU_OFF_EXIT_FN));
    }
}

/* Memory stubs: report the linear address and kind, and where to resume
 * once the monitor has filled the entry (or done the access itself). */
static void gen_mstubs(struct tctx *t)
{
    struct emitter *e = t->e;
    for (int i = 0; i < t->nmstubs; i++) {
        struct mstub *m = &t->mstubs[i];
        emit_patch_rel32(e->start + m->field, e->p);
        emit_mov_m32_imm32(e, VCPU_MEM(VCPU_OFF_EIP), m->eip);
        emit_mov_m32_r32(e, VCPU_MEM(VCPU_OFF_EXIT_ARG), HR_ADDR);
        emit_mov_m32_imm32(e, VCPU_MEM(VCPU_OFF_EXIT_ARG + 4), m->kind);
        emit_lea_r64_rip(e, HR_T0, e->start + m->resume);
        emit_mov_m64_r64(e, VCPU_MEM(VCPU_OFF_EXIT_RESUME), HR_T0);
        emit_mov_m64_imm32(e, VCPU_MEM(VCPU_OFF_EXIT_REASON), EXIT_PAGE);
        emit_jmp_m64(e, VCPU_MEM(VCPU_OFF_EXIT_FN));
    }
}

static void add_mstub_at(struct tctx *t, size_t field, uint32_t kind,
                         size_t resume, uint32_t eip)
{
    if (t->nmstubs == MAX_MSTUBS)
        return; /* cannot happen: blocks are cut before (see block_full) */
    t->mstubs[t->nmstubs++] = (struct mstub){field, resume, eip, kind};
}

static void add_mstub(struct tctx *t, size_t field, uint32_t kind)
{
    add_mstub_at(t, field, kind, t->insn_off, t->in->eip);
}

/*
 * Branch to a new memory stub if RCX-parked register `r` is zero, without
 * touching flags: xchg r, rcx; jrcxz stub-trampoline; xchg r, rcx. The
 * trampoline swaps back before jumping to the stub.
 */
static void gen_jump_if_zero_flagfree(struct tctx *t, int r, uint32_t kind)
{
    struct emitter *e = t->e;
    emit_xchg_r64_r64(e, r, H_RCX);
    size_t zero = emit_jrcxz_rel8(e);
    emit_xchg_r64_r64(e, r, H_RCX);
    size_t over = emit_jmp_rel8(e);
    emit_bind_rel8(e, zero);
    emit_xchg_r64_r64(e, r, H_RCX);
    add_mstub(t, emit_jmp_rel32(e, e->p), kind);
    emit_bind_rel8(e, over);
}

/* Without flags: HR_T1 = page index of HR_ADDR (the first byte), HR_T2 =
 * last byte's page - first byte's page, 0 or 1 (an unknown size, 0,
 * counts as 16). */
static void gen_page_span(struct tctx *t, unsigned size)
{
    struct emitter *e = t->e;
    emit_lea_r32(e, HR_T2, hmem_bd(HR_ADDR, size ? (int32_t)size - 1 : 15));
    emit_shrx_r32(e, HR_T2, HR_T2, HR_PAGE_SHIFT);  /* last page */
    emit_shrx_r32(e, HR_T1, HR_ADDR, HR_PAGE_SHIFT); /* first page */
    emit_not_r32(e, HR_T1);
    emit_lea_r32(e, HR_T2, hmem_bi(HR_T2, HR_T1, 1, 1)); /* last - first */
    emit_not_r32(e, HR_T1);
}

/* Crossing test without flags: the span, inverted into a zero test by
 * the jrcxz trick above. Leaves HR_T2 = page index of HR_ADDR. */
static void gen_cross_flagfree(struct tctx *t, unsigned size, uint32_t kind)
{
    struct emitter *e = t->e;
    gen_page_span(t, size);
    /* Jump to the stub when last - first != 0: test the complement. */
    emit_lea_r32(e, HR_T2, hmem_bd(HR_T2, -1)); /* 0 -> -1, 1 -> 0 */
    gen_jump_if_zero_flagfree(t, HR_T2, kind | (uint32_t)(PAGE_ARG_CROSS >> 32));
    emit_mov_r32_r32(e, HR_T2, HR_T1);
}

/*
 * A lookup without tests, for a copied instruction where guest flags are
 * live: both ways out are faults. A zero entry sends the access to host
 * address `linear` in the reserved low 4 GiB (SIGSEGV: the miss). A page
 * crossing adds bit 63 to the entry (last page - first page, 0 or 1,
 * rotated there), so the address is not canonical and the access raises
 * #GP; the PC map's PCF_CROSS_GP tells the signal handler to take the
 * slow path (dbt/signal.c). HR_T2 = entry (+ bit 63).
 */
static void gen_lookup_faulting(struct tctx *t, bool write, unsigned size,
                                bool cross)
{
    struct emitter *e = t->e;
    int32_t table = write ? (int32_t)SHADOW_WRITE_OFFSET : 0;
    t->pcflags |= write ? PCF_MISS_WRITE : 0;
    if (!cross) {
        emit_shrx_r32(e, HR_T2, HR_ADDR, HR_PAGE_SHIFT);
        emit_mov_r64_m64(e, HR_T2, hmem_bi(H_R13, HR_T2, 8, table));
        return;
    }
    t->pcflags |= PCF_CROSS_GP;
    gen_page_span(t, size);
    emit_rorx_r64(e, HR_T2, HR_T2, 1); /* bit 0 -> bit 63 */
    emit_mov_r64_m64(e, HR_T1, hmem_bi(H_R13, HR_T1, 8, table));
    emit_lea_r64(e, HR_T2, hmem_bi(HR_T1, HR_T2, 1, 0));
}

/* The lookup with TEST/Jcc tests (flags dead): HR_T2 = entry for the page
 * of HR_ADDR, then to memory stubs resuming at host offset `resume` (guest
 * instruction eip) on a crossing (size != 1) or a zero entry. */
static void gen_tested_lookup(struct tctx *t, bool write, unsigned size,
                              size_t resume, uint32_t eip)
{
    struct emitter *e = t->e;
    uint32_t kind = write ? (uint32_t)(PAGE_ARG_WRITE >> 32) : 0;
    int32_t table = write ? (int32_t)SHADOW_WRITE_OFFSET : 0;
    emit_shrx_r32(e, HR_T2, HR_ADDR, HR_PAGE_SHIFT);
    emit_mov_r64_m64(e, HR_T2, hmem_bi(H_R13, HR_T2, 8, table));
    if (size != 1) {
        emit_lea_r32(e, HR_T1, hmem_bd(HR_ADDR, size ? (int32_t)size - 1 : 15));
        emit_xor_r32_r32(e, HR_T1, HR_ADDR);
        emit_test_r32_imm32(e, HR_T1, 0xfffff000u);
        add_mstub_at(t, emit_jcc_rel32(e, CC_NE, e->p),
                     kind | (uint32_t)(PAGE_ARG_CROSS >> 32), resume, eip);
    }
    emit_test_r64_r64(e, HR_T2, HR_T2);
    add_mstub_at(t, emit_jcc_rel32(e, CC_E, e->p), kind, resume, eip);
}

/*
 * The shadow lookup: HR_T2 = entry for the page of HR_ADDR, in the read or
 * write table; then a test for a page crossing (accesses wider than a
 * byte) and for a miss. Where the liveness pass says guest flags are dead
 * the tests are TEST/Jcc. Where they are live and the access is the guest
 * instruction's one host instruction (t->miss_faults), with the host's
 * low 4 GiB reserved, there are no tests: misses and crossings fault
 * (gen_lookup_faulting). Otherwise the tests are flag-free (JRCXZ).
 */
static void gen_shadow_lookup(struct tctx *t, bool write, unsigned size)
{
    struct emitter *e = t->e;
    uint32_t kind = write ? (uint32_t)(PAGE_ARG_WRITE >> 32) : 0;
    int32_t table = write ? (int32_t)SHADOW_WRITE_OFFSET : 0;
    bool cross = size != 1;
    if (t->flags_live && t->miss_faults && shadow_zero_faults()) {
        gen_lookup_faulting(t, write, size, cross);
        return;
    }
    if (t->flags_live) {
        if (cross) {
            gen_cross_flagfree(t, size, kind);
        } else {
            emit_shrx_r32(e, HR_T2, HR_ADDR, HR_PAGE_SHIFT);
        }
        emit_mov_r64_m64(e, HR_T2, hmem_bi(H_R13, HR_T2, 8, table));
        gen_jump_if_zero_flagfree(t, HR_T2, kind);
        return;
    }
    gen_tested_lookup(t, write, size, t->insn_off, t->in->eip);
}

/* Memo slot := (page of linear address `la`, entry in HR_T2), the page
 * field last, so that a slot never holds a page with another's entry.
 * Clobbers HR_T1 (and `la` when it is HR_T1). */
static void gen_memo_fill(struct tctx *t, bool write, unsigned slot, int la)
{
    struct emitter *e = t->e;
    emit_mov_m64_r64(e, hmem_bd(H_R13, SHADOW_MEMO_ENTRY(write, slot)), HR_T2);
    emit_shrx_r32(e, HR_T1, la, HR_PAGE_SHIFT);
    emit_mov_m32_r32(e, hmem_bd(H_R13, SHADOW_MEMO_PAGENUM(write, slot)),
                     HR_T1);
    emit_shlx_r32(e, HR_T1, HR_T1, HR_PAGE_SHIFT); /* zero-extended */
    emit_mov_m64_r64(e, hmem_bd(H_R13, SHADOW_MEMO_PAGE(write, slot)), HR_T1);
    emit_add_m64_imm8(e, VCPU_MEM(VOFF(stats.shadow_memo_refills)), 1);
}

/* Are the `span` bytes at linear address HR_T1 (zero-extended) all in
 * the page memo slot `slot` holds? Then HR_T2 = its entry; if not, the
 * jump whose rel32 this returns. Flags are clobbered. */
static size_t gen_memo_range_test(struct tctx *t, bool write, unsigned slot,
                                  unsigned span)
{
    struct emitter *e = t->e;
    emit_sub_r64_m64(e, HR_T1, hmem_bd(H_R13, SHADOW_MEMO_PAGE(write, slot)));
    emit_cmp_r64_imm32(e, HR_T1, (int32_t)(4096 - span));
    size_t field = emit_jcc_rel32(e, CC_A, e->p);
    emit_mov_r64_m64(e, HR_T2, hmem_bd(H_R13, SHADOW_MEMO_ENTRY(write, slot)));
    return field;
}

/*
 * The lookup through a memo slot, where guest flags are dead: is HR_ADDR
 * (all `size` bytes of the access) in the page the slot holds? Then
 * HR_T2 = the slot's entry. The entry load does not depend on the
 * address, so a loop whose addresses feed on its loads (a table lookup,
 * a pointer walk within a page) does not wait for a table read between
 * them; the test is off that path. An access that cannot cross (size 1)
 * compares page numbers; any other one checks that its offset from the
 * slot's page leaves room for all its bytes, which is the crossing test
 * too. Otherwise the out-of-line refill (gen_memo_stubs) looks the entry
 * up as gen_shadow_lookup does and keeps it in the slot. Slots are dealt
 * to sites in turn; sites that share one only cost each other refills.
 * False when the block has no room for another refill.
 */
static bool gen_memo_lookup(struct tctx *t, bool write, unsigned size)
{
    struct emitter *e = t->e;
    if (t->nmemos == MAX_MEMOS || !t->v->shadow)
        return false;
    unsigned slot = shadow_memo_deal(t->v->shadow, write);
    size_t field;
    if (size == 1) {
        emit_shrx_r32(e, HR_T1, HR_ADDR, HR_PAGE_SHIFT);
        emit_cmp_r32_m32(e, HR_T1,
                         hmem_bd(H_R13, SHADOW_MEMO_PAGENUM(write, slot)));
        field = emit_jcc_rel32(e, CC_NE, e->p);
        emit_mov_r64_m64(e, HR_T2,
                         hmem_bd(H_R13, SHADOW_MEMO_ENTRY(write, slot)));
    } else {
        emit_mov_r32_r32(e, HR_T1, HR_ADDR); /* zero-extended */
        field = gen_memo_range_test(t, write, slot, size ? size : 16);
    }
    t->memos[t->nmemos++] = (struct memostub){field, emit_offset(e),
                                              t->insn_off, t->in->eip, write,
                                              size, slot};
    return true;
}

/* The refills: the entry for HR_ADDR's page, its crossing and miss tests
 * (to memory stubs, which resume at the instruction), then the slot. */
static void gen_memo_stubs(struct tctx *t)
{
    struct emitter *e = t->e;
    for (int i = 0; i < t->nmemos; i++) {
        const struct memostub *m = &t->memos[i];
        emit_patch_rel32(e->start + m->field, e->p);
        gen_tested_lookup(t, m->write, m->size, m->resume, m->eip);
        gen_memo_fill(t, m->write, m->slot, HR_ADDR);
        emit_jmp_rel32(e, e->start + m->back);
    }
}

/* Does segment seg need its base added to offsets? */
static bool seg_needs_base(const struct tctx *t, int seg)
{
    return seg == SEG_FS || seg == SEG_GS || !(t->mode & MODE_FLAT);
}

/* HR_ADDR = HR_ADDR + base of segment seg, if it can be non-zero. */
static void gen_add_segbase(struct tctx *t, int seg)
{
    if (!seg_needs_base(t, seg))
        return;
    t->t2_holds = T2_NONE;
    emit_mov_r32_m32(t->e, HR_T2, VCPU_MEM(VCPU_OFF_SEG_BASE + 4 * seg));
    emit_lea_r32(t->e, HR_ADDR, hmem_bi(HR_ADDR, HR_T2, 1, 0));
}

/* HR_ADDR = linear address of seg:[base + index*scale + disp]. */
static void gen_linear(struct tctx *t, int seg, int base, int index,
                       int scale, int32_t disp, bool addr16)
{
    if (base < 0 && index < 0) {
        uint32_t a = addr16 ? (uint16_t)disp : (uint32_t)disp;
        emit_mov_r32_imm32(t->e, HR_ADDR, a);
    } else {
        struct hmem m = {base < 0 ? H_NONE : host_reg(base),
                         index < 0 ? H_NONE : host_reg(index), scale, disp};
        if (m.base == H_NONE && scale == 1) {
            m.base = m.index;
            m.index = H_NONE;
        }
        emit_lea_r32(t->e, HR_ADDR, m);
        if (addr16)
            emit_movzx_r32_r16(t->e, HR_ADDR, HR_ADDR);
    }
    gen_add_segbase(t, seg);
}

/* HR_ADDR = linear address of the instruction's memory operand. */
static void gen_operand_addr(struct tctx *t, int32_t extra_disp)
{
    const struct insn *in = t->in;
    gen_linear(t, in->mem_seg, in->mem_base, in->mem_index, in->mem_scale,
               in->mem_disp + extra_disp, in->addr16);
}

/* HR_ADDR = linear address of the stack slot at ESP + delta. */
static void gen_stack_addr(struct tctx *t, int32_t delta)
{
    t->stack_delta = delta;
    emit_lea_r32(t->e, HR_ADDR, hmem_bd(HR_ESP, delta));
    if (!(t->mode & MODE_STACK32))
        emit_movzx_r32_r16(t->e, HR_ADDR, HR_ADDR);
    gen_add_segbase(t, SEG_SS);
}

/* ESP = ESP + delta (flag-free; SP only for a 16-bit stack). */
static void gen_adjust_esp(struct tctx *t, int32_t delta)
{
    if (t->mode & MODE_STACK32) {
        emit_lea_r32(t->e, HR_ESP, hmem_bd(HR_ESP, delta));
    } else {
        emit_u8(t->e, 0x66); /* lea r12w, [r12 + delta] */
        emit_lea_r32(t->e, HR_ESP, hmem_bd(HR_ESP, delta));
    }
}

static int opsize(const struct tctx *t)
{
    return t->in->op16 ? 2 : 4;
}

/*
 * Should the operand's lookup go through a memo slot? Where flags are dead,
 * and either
 *  - the access may cross a page: the memo's one range test is the
 *    crossing test too, four instructions where the table lookup and its
 *    crossing test take seven; or
 *  - its address comes from a loaded value (a table index, a pointer):
 *    the table read would wait for the address, on the path from one load
 *    to the next.
 * Not for an address counted along that cannot cross (a byte array
 * index): it is known early, its table read costs no waiting, and each
 * page it enters would cost the slot a refill (a mispredicted branch).
 */
static bool memo_worth(const struct tctx *t, unsigned size)
{
    const struct insn *in = t->in;
    unsigned regs = (in->mem_base >= 0 ? 1u << in->mem_base : 0) |
                    (in->mem_index >= 0 ? 1u << in->mem_index : 0);
    return t->operand && !t->flags_live &&
           (size != 1 || (regs & t->load_fed));
}

/* The host operand for a guest access of `size` bytes at HR_ADDR. */
static struct hmem gen_guest_mem(struct tctx *t, bool write, unsigned size)
{
    bool slot = t->stack_slot;
    t->stack_slot = false;
    if (!(t->mode & MODE_PAGING))
        return GUEST_MEM;
    if (slot) { /* on the block's stack page: one entry serves */
        if (t->t2_holds == T2_STACK_WRITE ||
            (t->t2_holds == T2_STACK_READ && !write))
            return hmem_bi(HR_T2, HR_ADDR, 1, 0);
        gen_shadow_lookup(t, write, 1); /* no crossing: one page */
        t->t2_holds = write ? T2_STACK_WRITE : T2_STACK_READ;
        return hmem_bi(HR_T2, HR_ADDR, 1, 0);
    }
    if (!memo_worth(t, size) || !gen_memo_lookup(t, write, size))
        gen_shadow_lookup(t, write, size);
    t->t2_holds = T2_NONE;
    return hmem_bi(HR_T2, HR_ADDR, 1, 0);
}

/*
 * 16-byte SSE operands that the CPU requires to be 16-byte aligned (every
 * legacy-SSE 128-bit memory operand except the explicitly unaligned moves
 * MOVUPS/MOVUPD/MOVDQU/LDDQU). Such an access never crosses a page: a
 * misaligned one raises #GP on the host exactly as on the guest.
 */
static bool sse_aligned_operand(const struct insn *in)
{
    if (in->mem_size != 16 || insn_op(in, 0) != 0x0f || in->op_len != 2)
        return false;
    uint8_t b1 = insn_op(in, 1);
    bool f3 = in->rep, f2 = in->repne;
    if (b1 == 0x10 || b1 == 0x11)                 /* movups/movupd */
        return false;
    if ((b1 == 0x6f || b1 == 0x7f) && f3)         /* movdqu */
        return false;
    if (b1 == 0xf0 && f2)                         /* lddqu */
        return false;
    return b1 >= 0x10;
}

/*
 * The stack bytes [*lo, *hi) an instruction reaches through ESP, as
 * offsets from ESP at block entry (off: ESP's offset before it), for the
 * block's one stack page (gen_esp_check). Only 32-bit forms in a flat
 * 32-bit stack; LEA reaches nothing. The slot of a PUSH/POP-like
 * instruction and an [esp + disp] operand (after the pop for POP m).
 */
static bool esp_slot_range(const struct insn *in, int32_t off, int32_t *lo,
                           int32_t *hi)
{
    uint8_t op = insn_op(in, 0);
    if (in->op16 || !in->implicit_esp)
        return false;
    bool push = (op >= 0x50 && op <= 0x57) || op == 0x68 || op == 0x6a ||
                op == 0xe8 || (op == 0xff && (in->reg == 2 || in->reg == 6));
    bool pop = (op >= 0x58 && op <= 0x5f) || op == 0xc3 || op == 0xc2 ||
               (op == 0x8f && in->reg == 0);
    if (!push && !pop)
        return false;
    *lo = push ? off - 4 : off;
    *hi = *lo + 4;
    return true;
}

static bool esp_operand_range(const struct insn *in, int32_t off,
                              int32_t *lo, int32_t *hi)
{
    uint8_t op = insn_op(in, 0);
    if (!in->has_mem || in->mem_base != R_ESP || in->mem_index >= 0 ||
        in->addr16 || in->bit_offset || op == 0x8d || in->mem_size == 0 ||
        in->mem_size > 16 || (in->mem_seg != SEG_SS && in->mem_seg != SEG_DS))
        return false;
    int32_t disp = in->mem_disp;
    if (disp < -65536 || disp > 65536)
        return false; /* not a slot of this frame; and no overflow below */
    disp += op == 0x8f ? (in->op16 ? 2 : 4) : 0;
    *lo = off + disp;
    *hi = *lo + in->mem_size;
    return true;
}

/*
 * Has the instruction one memory access only? PUSH m, POP m and CALL m
 * have an operand and a stack slot. Should the second one's lookup miss,
 * the instruction resumes from its start, where an entry reused for the
 * first would no longer be in HR_T2 (bt_enter does not restore it): such
 * instructions look their stack up themselves.
 */
static bool one_access(const struct insn *in)
{
    int32_t lo, hi;
    return !(in->has_mem && esp_slot_range(in, 0, &lo, &hi));
}

/* The immediate of ADD/SUB/AND ESP, imm (81 /r imm32, 83 /r imm8), or
 * false for any other instruction. */
static bool esp_alu_imm(const struct insn *in, int32_t *imm)
{
    uint8_t op = insn_op(in, 0);
    if ((op != 0x81 && op != 0x83) || !in->esp_rm || in->esp_reg ||
        in->op16 || (in->reg != 0 && in->reg != 5 && in->reg != 4))
        return false;
    *imm = (int8_t)in->bytes[in->imm_off];
    if (op == 0x81)
        memcpy(imm, &in->bytes[in->imm_off], 4);
    return true;
}

/*
 * How far the instruction moves ESP, when that is known: 32-bit pushes
 * and pops (of registers, immediates, memory, segment registers, the
 * flags, all registers), ADD and SUB of an immediate; and zero when it
 * leaves ESP be.
 */
static bool esp_delta(const struct insn *in, int32_t *delta)
{
    uint8_t op = insn_op(in, 0);
    uint8_t op2 = in->op_len == 2 ? insn_op(in, 1) : 0;
    bool named = in->esp_reg || in->esp_rm || in->esp_opreg;
    int32_t imm;
    *delta = 0;
    if (!named && !in->implicit_esp)
        return true;
    if (in->op16)
        return false;
    if (esp_alu_imm(in, &imm)) {
        *delta = in->reg == 0 ? imm : in->reg == 5 ? -imm : 0;
        return in->reg != 4; /* AND: by an amount not known here */
    }
    bool push = (op >= 0x50 && op <= 0x57) || op == 0x68 || op == 0x6a;
    bool pop = op >= 0x58 && op <= 0x5f && op != 0x5c; /* not POP ESP */
    if (!named) {
        push |= (op == 0xff && in->reg == 6) || op == 0x06 || op == 0x0e ||
                op == 0x16 || op == 0x1e || op == 0x9c ||
                (op == 0x0f && (op2 == 0xa0 || op2 == 0xa8));
        pop |= (op == 0x8f && in->reg == 0) || op == 0x07 || op == 0x17 ||
               op == 0x1f || op == 0x9d ||
               (op == 0x0f && (op2 == 0xa1 || op2 == 0xa9));
        if (op == 0x60 || op == 0x61) { /* PUSHA, POPA */
            *delta = op == 0x60 ? -32 : 32;
            return true;
        }
    }
    *delta = push ? -4 : pop ? 4 : 0;
    return push || pop;
}

/* Follow ESP's offset from its block-entry value through the instruction;
 * false once it is no longer known (or moved by more than a page). */
static bool esp_step(const struct insn *in, int32_t *off)
{
    int32_t delta;
    if (!esp_delta(in, &delta) || delta < -4096 || delta > 4096)
        return false;
    *off += delta;
    return true;
}

/*
 * Can the operand be seen not to cross a page from the instruction alone?
 * An absolute address (no base, no index) is known; [index*scale + disp]
 * with scale and disp multiples of a power-of-two size is aligned to it.
 * Only where no segment base is added (its value is not part of the key).
 */
static bool operand_within_page(const struct tctx *t, unsigned size)
{
    const struct insn *in = t->in;
    if (in->addr16 || in->bit_offset || seg_needs_base(t, in->mem_seg))
        return false;
    uint32_t disp = (uint32_t)in->mem_disp;
    bool pow2 = size && size <= 16 && (size & (size - 1)) == 0;
    if (in->mem_base == R_ESP && in->mem_index < 0)
        return t->esp_aligned && pow2 && size <= 4 && disp % size == 0;
    if (in->mem_base >= 0)
        return false;
    if (in->mem_index < 0)
        return (disp & 0xfffu) + size <= 0x1000u;
    return pow2 && (unsigned)in->mem_scale >= size && disp % size == 0;
}

/* Does a PUSH/POP-like instruction's stack slot (after gen_stack_addr)
 * stay within a page? With a 4-aligned ESP, a slot at a multiple of its
 * size (2 or 4) from it does. */
static bool stack_slot_within_page(const struct tctx *t, unsigned size)
{
    return t->esp_aligned && (t->mode & MODE_STACK32) &&
           !seg_needs_base(t, SEG_SS) && (size == 2 || size == 4) &&
           t->stack_delta % (int32_t)size == 0;
}

/* The host operand for the instruction's own memory operand (after
 * gen_operand_addr): the bounce buffer when the monitor does the access. */
static struct hmem gen_operand_mem(struct tctx *t, bool write, unsigned size)
{
    if (t->bounce)
        return VCPU_MEM(VOFF(bounce));
    if (sse_aligned_operand(t->in) || operand_within_page(t, size))
        size = 1; /* no crossing check needed */
    int32_t lo, hi;
    t->stack_slot = t->stack_page && t->esp_exact && one_access(t->in) &&
                    esp_operand_range(t->in, t->esp_off, &lo, &hi);
    t->operand = true;
    struct hmem m = gen_guest_mem(t, write, size);
    t->operand = false;
    return m;
}

/* The host operand for a PUSH/POP-like instruction's stack slot (after
 * gen_stack_addr): the bounce buffer when the monitor does the access. */
static struct hmem gen_stack_mem(struct tctx *t, bool write, unsigned size)
{
    if (t->bounce_stack)
        return VCPU_MEM(VOFF(bounce));
    if (stack_slot_within_page(t, size))
        size = 1; /* no crossing check needed */
    int32_t lo, hi;
    t->stack_slot = t->stack_page && t->esp_exact && one_access(t->in) &&
                    esp_slot_range(t->in, t->esp_off, &lo, &hi);
    return gen_guest_mem(t, write, size);
}

/* Store host register src (size bytes) to host operand m. */
static void gen_store_reg(struct tctx *t, struct hmem m, int size, int src)
{
    if (size == 2)
        emit_u8(t->e, 0x66);
    emit_mov_m32_r32(t->e, m, src);
}

/* Load size bytes from host operand m into host dst, zero extended for
 * 16-bit loads into a scratch register. */
static void gen_load_reg(struct tctx *t, struct hmem m, int size, int dst)
{
    if (size == 2) {
        emit_rex(t->e, false, dst, m.index, m.base, false);
        emit_u8(t->e, 0x0f);
        emit_u8(t->e, 0xb7); /* movzx dst, word [mem] */
        emit_modrm_mem(t->e, dst, m);
    } else {
        emit_mov_r32_m32(t->e, dst, m);
    }
}

/* Push host register src. The store comes before ESP moves, so a fault
 * leaves ESP untouched (precise). */
static void gen_push_hreg(struct tctx *t, int size, int src)
{
    gen_stack_addr(t, -size);
    gen_store_reg(t, gen_stack_mem(t, true, (unsigned)size), size, src);
    gen_adjust_esp(t, -size);
}

static void gen_push_imm(struct tctx *t, int size, uint32_t imm)
{
    gen_stack_addr(t, -size);
    struct hmem m = gen_stack_mem(t, true, (unsigned)size);
    if (size == 2) {
        emit_u8(t->e, 0x66);
        emit_rex(t->e, false, 0, m.index, m.base, false);
        emit_u8(t->e, 0xc7);
        emit_modrm_mem(t->e, 0, m);
        emit_u8(t->e, (uint8_t)imm);
        emit_u8(t->e, (uint8_t)(imm >> 8));
    } else {
        emit_mov_m32_imm32(t->e, m, imm);
    }
    gen_adjust_esp(t, -size);
}

/* HR_T0 = value popped (ESP advanced). */
static void gen_pop_t0(struct tctx *t, int size, int32_t extra)
{
    gen_stack_addr(t, 0);
    gen_load_reg(t, gen_stack_mem(t, false, (unsigned)size), size, HR_T0);
    gen_adjust_esp(t, size + extra);
}

/* Write HR_T0 to guest register r (size bytes). */
static void gen_set_greg(struct tctx *t, int size, int r)
{
    if (size == 2)
        emit_u8(t->e, 0x66);
    emit_mov_r32_r32(t->e, host_reg(r), HR_T0);
}

/*
 * Indirect branch to the guest EIP in HR_T0 through the jump cache,
 * without touching flags: a hit makes tag + eip + R13 (the current
 * shadow view) == 0, tested with JRCXZ on RCX (guest ECX parked in HR_T2
 * meanwhile).
 */
static void gen_jc_lookup(struct tctx *t)
{
    struct emitter *e = t->e;
    if (t->mode & MODE_ONE) { /* back to the monitor: see gen_stubs */
        emit_mov_m32_r32(e, VCPU_MEM(VCPU_OFF_EIP), HR_T0);
        emit_mov_m64_imm32(e, VCPU_MEM(VCPU_OFF_EXIT_REASON), EXIT_LOOKUP);
        emit_jmp_m64(e, VCPU_MEM(VCPU_OFF_EXIT_FN));
        return;
    }
    emit_movzx_r32_r16(e, HR_T1, HR_T0);
    emit_mov_r64_m64(e, HR_T2, hmem_bi(HR_VCPU, HR_T1, 8, VOFF(jc_tag)));
    emit_lea_r64(e, HR_T2, hmem_bi(HR_T2, HR_T0, 1, 0));
    emit_lea_r64(e, HR_T2, hmem_bi(HR_T2, H_R13, 1, 0));
    emit_xchg_r64_r64(e, HR_T2, H_RCX);
    size_t hit = emit_jrcxz_rel8(e);
    emit_xchg_r64_r64(e, HR_T2, H_RCX);
    emit_mov_m32_r32(e, VCPU_MEM(VCPU_OFF_EIP), HR_T0);
    emit_mov_m64_imm32(e, VCPU_MEM(VCPU_OFF_EXIT_REASON), EXIT_LOOKUP);
    emit_jmp_m64(e, VCPU_MEM(VCPU_OFF_EXIT_FN));
    emit_bind_rel8(e, hit);
    emit_xchg_r64_r64(e, HR_T2, H_RCX);
    emit_jmp_m64(e, hmem_bi(HR_VCPU, HR_T1, 8, VOFF(jc_host)));
}

static void gen_jump_indirect(struct tctx *t)
{
    gen_jc_lookup(t);
    t->end = true;
}

/* HR_T0 = the r/m operand (register or memory) of size bytes. */
static void gen_load_rm(struct tctx *t, int size)
{
    const struct insn *in = t->in;
    if (in->has_mem) {
        gen_operand_addr(t, 0);
        gen_load_reg(t, gen_operand_mem(t, false, (unsigned)size), size, HR_T0);
    } else if (size == 2) {
        emit_movzx_r32_r16(t->e, HR_T0, host_reg(in->rm));
    } else {
        emit_mov_r32_r32(t->e, HR_T0, host_reg(in->rm));
    }
}

/* Sign-extended relative branch target. */
/* The target of the relative branch `in` in code of `mode`. */
static uint32_t insn_target(const struct insn *in, uint32_t mode)
{
    int n = in->len - in->imm_off;
    int32_t rel = n == 1 ? (int8_t)in->bytes[in->imm_off]
                  : n == 2 ? (int16_t)(in->bytes[in->imm_off] |
                                       in->bytes[in->imm_off + 1] << 8)
                           : (int32_t)(in->bytes[in->imm_off] |
                                       in->bytes[in->imm_off + 1] << 8 |
                                       in->bytes[in->imm_off + 2] << 16 |
                                       (uint32_t)in->bytes[in->imm_off + 3] << 24);
    uint32_t target = insn_next(in, mode) + (uint32_t)rel;
    return in->op16 ? (target & 0xffff) : target;
}

static uint32_t rel_target(const struct tctx *t)
{
    return insn_target(t->in, t->mode);
}

static uint32_t imm_value(const struct insn *in)
{
    uint32_t v = 0;
    int n = in->len - in->imm_off;
    for (int i = 0; i < n && i < 4; i++)
        v |= (uint32_t)in->bytes[in->imm_off + i] << (8 * i);
    if (n == 1)
        v = (uint32_t)(int32_t)(int8_t)v;
    return v;
}

/* ---- Control transfers ---- */

static void gen_jcc(struct tctx *t, int cc)
{
    if (t->run && rel_target(t) == t->run_eip) {
        /* A counted loop's back edge: to its own body, past the entry
         * test (gen_run_back), and the exit where the twin leaves too. */
        t->run_back = emit_jcc_rel32(t->e, cc, t->e->p);
        t->run_fall = emit_offset(t->e);
        gen_branch(t, -1, next_eip(t));
        t->end = true;
        return;
    }
    gen_branch(t, cc, rel_target(t));
    gen_branch(t, -1, next_eip(t));
    t->end = true;
}

static void gen_jmp(struct tctx *t)
{
    gen_branch(t, -1, rel_target(t));
    t->end = true;
}

static void gen_call(struct tctx *t)
{
    gen_push_imm(t, opsize(t), next_eip(t));
    gen_branch(t, -1, rel_target(t));
    t->end = true;
}

static void gen_ret(struct tctx *t, uint16_t release)
{
    gen_pop_t0(t, opsize(t), release);
    gen_jump_indirect(t);
}

/* FF /2 and FF /4: the target is read before anything is pushed. */
static void gen_call_jmp_indirect(struct tctx *t, bool call)
{
    int size = opsize(t);
    gen_load_rm(t, size);
    if (call)
        gen_push_imm(t, size, next_eip(t));
    gen_jump_indirect(t);
}

/*
 * JCXZ/JECXZ and LOOP/LOOPE/LOOPNE. The count register is tested with the
 * host's own JECXZ (or JRCXZ on a zero-extended copy for CX), so guest
 * flags are only read, never written.
 */
static void gen_jump_if_count_zero(struct tctx *t, uint32_t eip)
{
    struct emitter *e = t->e;
    if (!t->in->addr16) {
        emit_u8(e, 0x67); /* jecxz +2: over the short jmp below */
        emit_u8(e, 0xe3);
        emit_u8(e, 2);
        size_t over = emit_jmp_rel8(e);
        gen_branch(t, -1, eip);
        emit_bind_rel8(e, over);
        return;
    }
    emit_movzx_r32_r16(e, HR_T1, H_RCX);
    emit_xchg_r64_r64(e, HR_T1, H_RCX);
    size_t zero = emit_jrcxz_rel8(e);
    emit_xchg_r64_r64(e, HR_T1, H_RCX);
    size_t over = emit_jmp_rel8(e);
    emit_bind_rel8(e, zero);
    emit_xchg_r64_r64(e, HR_T1, H_RCX);
    gen_branch(t, -1, eip);
    emit_bind_rel8(e, over);
}

static void gen_loop(struct tctx *t, uint8_t op)
{
    uint32_t taken = rel_target(t), fall = next_eip(t);
    if (op == 0xe3) { /* jcxz */
        gen_jump_if_count_zero(t, taken);
        gen_branch(t, -1, fall);
        t->end = true;
        return;
    }
    if (t->in->addr16)
        emit_u8(t->e, 0x66); /* lea cx, [rcx - 1] */
    emit_lea_r32(t->e, H_RCX, hmem_bd(H_RCX, -1));
    gen_jump_if_count_zero(t, fall);
    if (op == 0xe1)
        gen_branch(t, CC_NE, fall); /* loope: leave when ZF = 0 */
    else if (op == 0xe0)
        gen_branch(t, CC_E, fall);  /* loopne: leave when ZF = 1 */
    gen_branch(t, -1, taken);
    t->end = true;
}

/* ---- Stack instructions ---- */

static void gen_push_reg(struct tctx *t, int r)
{
    gen_push_hreg(t, opsize(t), host_reg(r));
}

static void gen_pop_reg(struct tctx *t, int r)
{
    int size = opsize(t);
    gen_pop_t0(t, size, 0);
    gen_set_greg(t, size, r);
}

/* POP r/m: an ESP-based address is computed with ESP already advanced. */
static void gen_pop_rm(struct tctx *t)
{
    const struct insn *in = t->in;
    int size = opsize(t);
    if (!in->has_mem) {
        gen_pop_reg(t, in->rm);
        return;
    }
    gen_stack_addr(t, 0);
    gen_load_reg(t, gen_stack_mem(t, false, (unsigned)size), size, HR_T0);
    int32_t adj = (in->mem_base == R_ESP || in->mem_index == R_ESP) ? size : 0;
    gen_operand_addr(t, adj);
    gen_store_reg(t, gen_operand_mem(t, true, (unsigned)size), size, HR_T0);
    gen_adjust_esp(t, size);
}

static void gen_push_rm(struct tctx *t)
{
    int size = opsize(t);
    gen_load_rm(t, size);
    gen_push_hreg(t, size, HR_T0);
}

/* LEAVE: ESP = EBP, then pop EBP; the load comes first (precise). */
static void gen_leave(struct tctx *t)
{
    int size = opsize(t);
    if (t->mode & MODE_STACK32)
        emit_mov_r32_r32(t->e, HR_ADDR, H_RBP);
    else
        emit_movzx_r32_r16(t->e, HR_ADDR, H_RBP);
    gen_add_segbase(t, SEG_SS);
    gen_load_reg(t, gen_guest_mem(t, false, (unsigned)size), size, HR_T0);
    if (t->mode & MODE_STACK32) {
        emit_lea_r32(t->e, HR_ESP, hmem_bd(H_RBP, size));
    } else {
        emit_u8(t->e, 0x66);
        emit_lea_r32(t->e, HR_ESP, hmem_bd(H_RBP, size));
    }
    gen_set_greg(t, size, R_EBP);
}

/* ---- Identity copies ---- */

static bool is_seg_prefix(uint8_t b)
{
    return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 ||
           b == 0x65;
}

/* Legacy prefixes, minus segment and address size (already applied), with
 * the operand-size prefix re-expressed for 32-bit host code. */
static void gen_prefixes(struct tctx *t)
{
    const struct insn *in = t->in;
    bool code32 = t->mode & MODE_CODE32;
    for (int i = 0; i < in->npfx; i++) {
        uint8_t b = in->bytes[i];
        if (is_seg_prefix(b) || b == 0x67 || (b == 0x66 && !code32))
            continue;
        emit_u8(t->e, b);
    }
    if (!code32 && in->op16)
        emit_u8(t->e, 0x66);
}

static void gen_opcode(struct tctx *t)
{
    const struct insn *in = t->in;
    uint8_t b0 = insn_op(in, 0);
    if (b0 == 0x82) /* undocumented alias of 0x80, invalid in 64-bit mode */
        b0 = 0x80;
    else if (b0 >= 0xa0 && b0 <= 0xa3) /* moffs -> ModRM form */
        b0 = (uint8_t)(0x8a - ((b0 & 2) ? 2 : 0) + (b0 & 1));
    emit_u8(t->e, b0);
    emit_bytes(t->e, &in->bytes[in->npfx + 1], in->op_len - 1u);
}

static void gen_imm(struct tctx *t)
{
    const struct insn *in = t->in;
    uint8_t b0 = insn_op(in, 0);
    if (b0 >= 0xa0 && b0 <= 0xa3)
        return; /* the moffs bytes were the address */
    emit_bytes(t->e, &in->bytes[in->imm_off], (size_t)(in->len - in->imm_off));
}

/*
 * A byte instruction naming AH..BH cannot take a REX prefix, so its memory
 * operand goes through RSI (guest ESI parked in R11 meanwhile).
 */
static void gen_copy_high_byte(struct tctx *t)
{
    struct emitter *e = t->e;
    const struct insn *in = t->in;
    struct hmem m = gen_operand_mem(t, in->mem_write, in->mem_size);
    emit_lea_r64(e, HR_ADDR, m);
    emit_xchg_r64_r64(e, HR_ADDR, H_RSI);
    gen_prefixes(t);
    gen_opcode(t);
    emit_u8(e, (uint8_t)((in->reg << 3) | H_RSI)); /* mod 00: [rsi] */
    gen_imm(t);
    emit_xchg_r64_r64(e, HR_ADDR, H_RSI);
    t->pcflags |= PCF_RSI_IN_R11;
}

/*
 * Copy the instruction, replacing its memory operand by [phys_base +
 * linear] and ESP by R12. Everything else is the guest's own bytes.
 */
static void gen_copy(struct tctx *t)
{
    const struct insn *in = t->in;
    struct emitter *e = t->e;
    t->kind = TR_COPY;
    bool esp_any = in->esp_reg || in->esp_rm || in->esp_opreg;
    struct hmem m = GUEST_MEM;
    if (in->has_mem)
        gen_operand_addr(t, 0);
    if (in->has_mem && in->high_byte) {
        gen_copy_high_byte(t);
        return;
    }
    if (in->has_mem) {
        /* x87 and SSE operands, whose flags count as live for their own
         * faults: misses and crossings there fault (gen_lookup_faulting).
         * Integer ones keep their flag-free tests: a loop counted with
         * DEC keeps CF live across its loads, and a miss taken as a
         * signal costs five times a stub exit (a true #PF 5.8k -> 19.6k
         * cycles, a CR3 switch 1.3k -> 8.4k in bench/nano). */
        t->miss_faults = (in->groups & (IG_X87 | IG_SIMD)) != 0;
        m = gen_operand_mem(t, in->mem_write, in->mem_size);
        t->miss_faults = false;
    }
    int reg = in->has_modrm ? (in->esp_reg ? HR_ESP : in->reg) : 0;
    gen_prefixes(t);
    if (in->has_mem)
        emit_rex(e, false, reg, m.index, m.base, false);
    else if (esp_any)
        emit_rex(e, false, reg, H_NONE,
                 (in->esp_rm || in->esp_opreg) ? HR_ESP : 0, false);
    gen_opcode(t);
    if (in->has_mem)
        emit_modrm_mem(e, reg, m);
    else if (in->has_modrm)
        emit_u8(e, in->bytes[in->npfx + in->op_len]);
    gen_imm(t);
}

/* INC/DEC r (0x40..0x4F) are REX prefixes on the host: use FF /0, FF /1. */
static void gen_incdec(struct tctx *t, uint8_t op)
{
    int r = op & 7;
    t->t2_untouched = true;
    gen_prefixes(t);
    emit_rex(t->e, false, H_NONE, H_NONE, host_reg(r), false);
    emit_u8(t->e, 0xff);
    emit_u8(t->e, (uint8_t)(0xc0 | ((op & 8) ? 8 : 0) | (host_reg(r) & 7)));
}

/* pushfq; pop qword [r14 + str_flags] (and the reverse): the guest's
 * flags set aside while the loop computes with host flags. */
static void gen_save_flags(struct tctx *t)
{
    emit_u8(t->e, 0x9c); /* pushfq */
    emit_pop_m64(t->e, VCPU_MEM(VOFF(str_flags)));
}

static void gen_restore_flags(struct tctx *t)
{
    emit_push_m64(t->e, VCPU_MEM(VOFF(str_flags)));
    emit_u8(t->e, 0x9d); /* popfq */
}

/*
 * HR_T1 = how many bytes from guest address `ptr` (page index in HR_ADDR,
 * entry `ent` in the table at `table`) lie in pages with that same entry,
 * which are contiguous on the host, at most [str_want]. The pages after
 * the first are only compared, never filled: a page whose entry is not
 * there yet, or that is traced, ends the run. Flags clobbered; HR_ADDR
 * ends at the run's last page.
 */
static void gen_rep_run(struct tctx *t, int ptr, int ent, int32_t table)
{
    struct emitter *e = t->e;
    struct hmem want = VCPU_MEM(VOFF(str_want));
    emit_mov_r32_r32(e, HR_T1, ptr);
    emit_u8(e, 0x41); /* or r9d, 0xfffff000: offset - 4096 */
    emit_u8(e, 0x81);
    emit_u8(e, 0xc9);
    emit_u32(e, 0xfffff000u);
    emit_u8(e, 0x41); /* neg r9d: 4096 - offset, zero-extended */
    emit_u8(e, 0xf7);
    emit_u8(e, 0xd9);
    uint8_t *next = e->p;
    emit_cmp_r64_m64(e, HR_T1, want);
    size_t enough = emit_jcc_rel32(e, CC_AE, e->p);
    emit_u8(e, 0x41); /* cmp r11d, 0xfffff: no page after the last */
    emit_u8(e, 0x81);
    emit_u8(e, 0xfb);
    emit_u32(e, 0xfffff);
    size_t top = emit_jcc_rel32(e, CC_E, e->p);
    emit_cmp_r64_m64(e, ent, hmem_bi(H_R13, HR_ADDR, 8, table + 8));
    size_t other = emit_jcc_rel32(e, CC_NE, e->p);
    emit_lea_r32(e, HR_ADDR, hmem_bd(HR_ADDR, 1));
    emit_lea_r64(e, HR_T1, hmem_bd(HR_T1, 4096));
    emit_jmp_rel32(e, next);
    emit_patch_rel32(e->start + enough, e->p);
    emit_patch_rel32(e->start + top, e->p);
    emit_patch_rel32(e->start + other, e->p);
    emit_cmp_r64_m64(e, HR_T1, want);
    emit_cmov_r64_m64(e, CC_A, HR_T1, want);
}

/*
 * REP MOVS/STOS with paging on, flat segments, 32-bit addresses: a loop
 * in translated code that runs the host's REP MOVS/STOS over the part of
 * the copy whose source and destination pages each run on with the same
 * shadow entry (contiguous in the host: a guest buffer in contiguous
 * physical memory is one chunk, not one per page), looking the first
 * page of each up in the shadow tables. Guest ESI/EDI/ECX are exact at
 * each chunk boundary, and a fault inside a chunk is recovered from the
 * host's partial progress (PCF_STR_*). A miss leaves through a memory
 * stub and the instruction resumes from the start; DF set or an element
 * straddling two runs leaves for the monitor's C path.
 */
static void gen_rep_string_paged(struct tctx *t, uint8_t op)
{
    struct emitter *e = t->e;
    const struct insn *in = t->in;
    bool movs = op == 0xa4 || op == 0xa5;
    unsigned size = (op & 1) ? (unsigned)opsize(t) : 1;
    uint8_t shift = size == 4 ? 2 : size == 2 ? 1 : 0;
    uint32_t wkind = (uint32_t)(PAGE_ARG_WRITE >> 32);
    int32_t wtable = (int32_t)SHADOW_WRITE_OFFSET;
    gen_save_flags(t);
    emit_rex(e, false, H_NONE, H_NONE, HR_VCPU, false); /* test [str_flags], DF */
    emit_u8(e, 0xf7);
    emit_modrm_mem(e, 0, VCPU_MEM(VOFF(str_flags)));
    emit_u32(e, EFL_DF);
    size_t to_slow = emit_jcc_rel32(e, CC_NE, e->p);
    uint8_t *loop = e->p;
    emit_alu_rr(e, false, 0x85, H_RCX, H_RCX); /* test ecx, ecx */
    size_t to_done = emit_jcc_rel32(e, CC_E, e->p);
    /* str_want = ecx * size, the bytes left (64-bit: no overflow) */
    emit_mov_r32_r32(e, HR_ADDR, H_RCX);
    emit_lea_r64(e, HR_ADDR, hmem_bi(H_NONE, HR_ADDR, (int)size, 0));
    emit_mov_m64_r64(e, VCPU_MEM(VOFF(str_want)), HR_ADDR);
    emit_mov_r32_r32(e, HR_ADDR, H_RDI);
    emit_shr_r32_imm8(e, HR_ADDR, 12);
    emit_mov_r64_m64(e, HR_T2, hmem_bi(H_R13, HR_ADDR, 8, wtable));
    emit_test_r64_r64(e, HR_T2, HR_T2);
    size_t to_miss_dst = emit_jcc_rel32(e, CC_E, e->p);
    gen_rep_run(t, H_RDI, HR_T2, wtable);
    size_t to_miss_src = 0;
    if (movs) { /* the source run, within the destination's */
        emit_mov_m64_r64(e, VCPU_MEM(VOFF(str_want)), HR_T1);
        emit_mov_r32_r32(e, HR_ADDR, H_RSI);
        emit_shr_r32_imm8(e, HR_ADDR, 12);
        emit_mov_r64_m64(e, HR_T0, hmem_bi(H_R13, HR_ADDR, 8, 0));
        emit_test_r64_r64(e, HR_T0, HR_T0);
        to_miss_src = emit_jcc_rel32(e, CC_E, e->p);
        gen_rep_run(t, H_RSI, HR_T0, 0);
    }
    /* r11 = whole elements in both runs (at most ecx), r9 = ecx - r11 */
    emit_alu_rr(e, true, 0x89, HR_ADDR, HR_T1); /* mov r11, r9 */
    size_t to_cross = 0;
    if (shift) {
        emit_shr_r64_imm8(e, HR_ADDR, shift);
        to_cross = emit_jcc_rel32(e, CC_E, e->p); /* straddles two runs */
    }
    emit_mov_r32_r32(e, HR_T1, H_RCX);
    emit_alu_rr(e, false, 0x29, HR_T1, HR_ADDR); /* sub r9d, r11d: left after */
    emit_mov_r32_r32(e, H_RCX, HR_ADDR);
    if (movs)
        emit_lea_r64(e, H_RSI, hmem_bi(HR_T0, H_RSI, 1, 0));
    emit_lea_r64(e, H_RDI, hmem_bi(HR_T2, H_RDI, 1, 0));
    t->pcflags |= PCF_STR_DST | (movs ? PCF_STR_SRC : 0);
    gen_prefixes(t);
    emit_u8(e, op);
    if (movs) {
        emit_alu_rr(e, true, 0x29, H_RSI, HR_T0); /* sub rsi, r8 */
        emit_mov_r32_r32(e, H_RSI, H_RSI);
    }
    emit_alu_rr(e, true, 0x29, H_RDI, HR_T2); /* sub rdi, r10 */
    emit_mov_r32_r32(e, H_RDI, H_RDI);
    emit_mov_r32_r32(e, H_RCX, HR_T1);
    emit_jmp_rel32(e, loop);
    /* Out of line: misses go to memory stubs with the linear address in
     * r11; the slow cases to the monitor; both with the flags restored. */
    if (movs) {
        emit_patch_rel32(e->start + to_miss_src, e->p);
        emit_mov_r32_r32(e, HR_ADDR, H_RSI);
        gen_restore_flags(t);
        add_mstub(t, emit_jmp_rel32(e, e->p), 0);
    }
    emit_patch_rel32(e->start + to_miss_dst, e->p);
    emit_mov_r32_r32(e, HR_ADDR, H_RDI);
    gen_restore_flags(t);
    add_mstub(t, emit_jmp_rel32(e, e->p), wkind);
    emit_patch_rel32(e->start + to_slow, e->p);
    if (to_cross)
        emit_patch_rel32(e->start + to_cross, e->p);
    gen_restore_flags(t);
    emit_mov_m32_imm32(e, VCPU_MEM(VCPU_OFF_EIP), in->eip);
    emit_mov_m64_imm32(e, VCPU_MEM(VCPU_OFF_EXIT_REASON), EXIT_EMULATE);
    emit_jmp_m64(e, VCPU_MEM(VCPU_OFF_EXIT_FN));
    emit_patch_rel32(e->start + to_done, e->p);
    gen_restore_flags(t);
}

/*
 * One string instruction (no REP) with paging on, flat segments, 32-bit
 * addresses: each implicit operand is looked up like any memory operand
 * (misses and page crossings leave through memory stubs), RSI/RDI become
 * host addresses for the host's own instruction, and are turned back
 * without touching flags (SCAS and CMPS set them).
 */
static void gen_string_paged_single(struct tctx *t, uint8_t op, bool uses_si,
                                    bool uses_di)
{
    struct emitter *e = t->e;
    unsigned size = (op & 1) ? (unsigned)opsize(t) : 1;
    bool di_write = op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab;
    if (uses_si) {
        emit_mov_r32_r32(e, HR_ADDR, H_RSI);
        gen_shadow_lookup(t, false, size);
        emit_lea_r64(e, HR_T0, hmem_bd(HR_T2, 0));
    }
    if (uses_di) {
        emit_mov_r32_r32(e, HR_ADDR, H_RDI);
        gen_shadow_lookup(t, di_write, size);
    }
    if (uses_si)
        emit_lea_r64(e, H_RSI, hmem_bi(HR_T0, H_RSI, 1, 0));
    if (uses_di)
        emit_lea_r64(e, H_RDI, hmem_bi(HR_T2, H_RDI, 1, 0));
    t->pcflags |= (uses_si ? PCF_STR_SRC : 0) | (uses_di ? PCF_STR_DST : 0);
    gen_prefixes(t);
    emit_u8(e, op);
    if (uses_si) { /* esi = rsi - r8 = rsi + ~r8 + 1 */
        emit_not_r32(e, HR_T0);
        emit_lea_r32(e, H_RSI, hmem_bi(H_RSI, HR_T0, 1, 1));
    }
    if (uses_di) {
        emit_not_r32(e, HR_T2);
        emit_lea_r32(e, H_RDI, hmem_bi(H_RDI, HR_T2, 1, 1));
    }
}

/*
 * String instructions with flat segments: point RSI/RDI into the window
 * (phys_base is 4 GiB aligned, so the low 32 bits stay the guest's), run
 * the host instruction with 64-bit addressing, then truncate back.
 */
static bool gen_string(struct tctx *t, uint8_t op)
{
    const struct insn *in = t->in;
    bool uses_si = false, uses_di = false;
    insn_string(in, &uses_si, &uses_di, NULL);
    int src_seg = in->seg_override >= 0 ? in->seg_override : SEG_DS;
    if (in->addr16 || !(t->mode & MODE_FLAT) || seg_needs_base(t, src_seg))
        return false;
    if (t->mode & MODE_PAGING) {
        if (!(t->mode & MODE_CODE32))
            return false;
        if (!in->rep && !in->repne) {
            gen_string_paged_single(t, op, uses_si, uses_di);
            return true;
        }
        if (!in->rep || in->repne ||
            !(op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab))
            return false;
        gen_rep_string_paged(t, op);
        return true;
    }
    if (uses_si)
        emit_lea_r64(t->e, H_RSI, hmem_bi(HR_PBASE, H_RSI, 1, 0));
    if (uses_di)
        emit_lea_r64(t->e, H_RDI, hmem_bi(HR_PBASE, H_RDI, 1, 0));
    gen_prefixes(t);
    emit_u8(t->e, op);
    if (uses_si)
        emit_mov_r32_r32(t->e, H_RSI, H_RSI);
    if (uses_di)
        emit_mov_r32_r32(t->e, H_RDI, H_RDI);
    return true;
}

/*
 * BT/BTS/BTR/BTC with a memory operand and a register bit offset: the
 * signed offset selects a dword up to 256 MiB away from the operand. The
 * dword's address is computed here, (offset >> 5) * 4 added flag-free,
 * and the host instruction gets only offset & 31, so it touches exactly
 * the dword the guest's would.
 */
static void gen_bit_offset(struct tctx *t)
{
    const struct insn *in = t->in;
    struct emitter *e = t->e;
    int src = host_reg(in->reg);
    int shift = in->op16 ? 4 : 5, keep = in->op16 ? 28 : 27;
    gen_operand_addr(t, 0);
    if (in->op16) { /* movsx r10d, src16 */
        emit_rex(e, false, HR_T2, H_NONE, src, false);
        emit_u8(e, 0x0f);
        emit_u8(e, 0xbf);
        emit_u8(e, (uint8_t)(0xc0 | ((HR_T2 & 7) << 3) | (src & 7)));
        src = HR_T2;
    }
    emit_mov_r32_imm32(e, HR_T1, (uint32_t)shift);
    emit_sarx_r32(e, HR_T2, src, HR_T1);
    emit_lea_r32(e, HR_ADDR, hmem_bi(HR_ADDR, HR_T2, in->op16 ? 2 : 4, 0));
    if (in->addr16)
        emit_movzx_r32_r16(e, HR_ADDR, HR_ADDR);
    emit_mov_r32_imm32(e, HR_T1, (uint32_t)keep);
    emit_shlx_r32(e, HR_T0, host_reg(in->reg), HR_T1);
    emit_shrx_r32(e, HR_T0, HR_T0, HR_T1);
    struct hmem m = gen_operand_mem(t, in->mem_write, in->op16 ? 2 : 4);
    gen_prefixes(t);
    emit_rex(e, false, HR_T0, m.index, m.base, false);
    gen_opcode(t);
    emit_modrm_mem(e, HR_T0, m);
}

/* LEA computes an offset: no segment base, no memory access. */
static void gen_lea(struct tctx *t)
{
    const struct insn *in = t->in;
    if (!in->has_mem) {
        gen_undefined(t); /* LEA with a register operand is #UD */
        return;
    }
    int dst = in->esp_reg ? HR_ESP : in->reg;
    t->t2_untouched = true;
    struct hmem m = {in->mem_base < 0 ? H_NONE : host_reg(in->mem_base),
                     in->mem_index < 0 ? H_NONE : host_reg(in->mem_index),
                     in->mem_scale, in->mem_disp};
    if (m.base == H_NONE && m.index == H_NONE) {
        emit_mov_r32_imm32(t->e, HR_ADDR, in->addr16 ? (uint16_t)in->mem_disp
                                                     : (uint32_t)in->mem_disp);
        m = hmem_bd(HR_ADDR, 0);
    }
    if (in->op16 || in->addr16) {
        emit_lea_r32(t->e, HR_ADDR, m);
        if (in->op16)
            emit_u8(t->e, 0x66); /* mov dst16, r11w */
        else
            emit_movzx_r32_r16(t->e, HR_ADDR, HR_ADDR);
        emit_mov_r32_r32(t->e, dst, HR_ADDR);
    } else {
        emit_lea_r32(t->e, dst, m);
    }
}

/* XLAT reads [EBX + AL] (BX in 16-bit addressing) implicitly. */
static void gen_xlat(struct tctx *t)
{
    const struct insn *in = t->in;
    struct emitter *e = t->e;
    emit_rex(e, false, HR_ADDR, H_NONE, H_RAX, false);
    emit_u8(e, 0x0f);
    emit_u8(e, 0xb6); /* movzx r11d, al */
    emit_u8(e, (uint8_t)(0xc0 | ((HR_ADDR & 7) << 3) | H_RAX));
    emit_lea_r32(e, HR_ADDR, hmem_bi(H_RBX, HR_ADDR, 1, 0));
    if (in->addr16)
        emit_movzx_r32_r16(e, HR_ADDR, HR_ADDR);
    gen_add_segbase(t, in->seg_override >= 0 ? in->seg_override : SEG_DS);
    struct hmem m = gen_guest_mem(t, false, 1);
    emit_rex(e, false, H_RAX, m.index, m.base, false);
    emit_u8(e, 0x8a); /* mov al, [host address of the byte] */
    emit_modrm_mem(e, H_RAX, m);
}

static void gen_emulate(struct tctx *t);

/* MASKMOVQ/MASKMOVDQU store through DS:[EDI] implicitly: like a string
 * instruction, RDI points into the window around the host's own copy;
 * otherwise (paging, segments) the monitor does the store in C. */
static void gen_maskmov(struct tctx *t)
{
    if (!(t->mode & MODE_FLAT) || (t->mode & MODE_PAGING) || t->in->addr16 ||
        (t->in->seg_override >= 0 && seg_needs_base(t, t->in->seg_override))) {
        gen_emulate(t);
        return;
    }
    t->kind = TR_COPY;
    emit_lea_r64(t->e, H_RDI, hmem_bi(HR_PBASE, H_RDI, 1, 0));
    gen_prefixes(t);
    gen_opcode(t);
    emit_u8(t->e, t->in->bytes[t->in->npfx + t->in->op_len]); /* ModRM */
    emit_mov_r32_r32(t->e, H_RDI, H_RDI);
}

/* Sensitive or rare instruction: the monitor runs it in C. */
static void gen_emulate(struct tctx *t)
{
    gen_exit(t, t->in->eip, EXIT_EMULATE);
    t->kind = TR_MONITOR;
}

static void gen_undefined(struct tctx *t)
{
    gen_exit(t, t->in->eip, EXIT_UNDEFINED);
    t->kind = TR_UNDEFINED;
}

/* One-byte opcodes the monitor emulates (sensitive, or invalid in 64-bit
 * mode so they cannot be copied). */
static bool emulated_1byte(uint8_t op)
{
    switch (op) {
    case 0x06: case 0x07: case 0x0e: case 0x16: case 0x17: case 0x1e:
    case 0x1f: case 0x27: case 0x2f: case 0x37: case 0x3f: case 0x60:
    case 0x61: case 0x62: case 0x63: case 0x6c: case 0x6d: case 0x6e:
    case 0x6f: case 0x8c: case 0x8e: case 0x9a: case 0x9c: case 0x9d:
    case 0xc4: case 0xc5: case 0xc8: case 0xca: case 0xcb: case 0xcc:
    case 0xcd: case 0xce: case 0xcf: case 0xd4: case 0xd5: case 0xd6:
    case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xea: case 0xec:
    case 0xed: case 0xee: case 0xef: case 0xf1: case 0xf4: case 0xfa:
    case 0xfb:
        return true;
    }
    return false;
}

/* Two-byte opcodes (0F xx) the monitor emulates or that raise #UD. */
static int class_0f(uint8_t op)
{
    switch (op) {
    case 0x0b: case 0xb9: case 0xff: case 0x05: case 0x07: case 0x37:
    case 0x78: case 0x79: case 0xaa:
        return -1; /* UD2, UD1, UD0, SYSCALL, SYSRET, GETSEC, VMX, RSM */
    case 0x00: case 0x01: case 0x02: case 0x03: case 0x06: case 0x08:
    case 0x09: case 0x20: case 0x21: case 0x22: case 0x23: case 0x30:
    case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0xa0:
    case 0xa1: case 0xa2: case 0xa8: case 0xa9: case 0xb2: case 0xb4:
    case 0xb5:
        return 1;
    }
    return 0;
}

/*
 * RDTSC without CR4.TSD: the host's TSC plus the guest's offset (MSR
 * 0x10), as the monitor would compute it, without leaving translated code
 * and without touching flags (RORX, LEA).
 */
static void gen_rdtsc(struct tctx *t)
{
    static const uint8_t rorx_rdx_rdx_32[] = {0xc4, 0xe3, 0xfb, 0xf0, 0xd2, 0x20};
    static const uint8_t rorx_rdx_rax_32[] = {0xc4, 0xe3, 0xfb, 0xf0, 0xd0, 0x20};
    struct emitter *e = t->e;
    emit_u8(e, 0x0f);
    emit_u8(e, 0x31);
    emit_bytes(e, rorx_rdx_rdx_32, sizeof(rorx_rdx_rdx_32)); /* edx << 32 */
    emit_lea_r64(e, H_RAX, hmem_bi(H_RAX, H_RDX, 1, 0));
    emit_mov_r64_m64(e, HR_ADDR, VCPU_MEM(VOFF(tsc_offset)));
    emit_lea_r64(e, H_RAX, hmem_bi(H_RAX, HR_ADDR, 1, 0));
    emit_bytes(e, rorx_rdx_rax_32, sizeof(rorx_rdx_rax_32));
    emit_mov_r32_r32(e, H_RDX, H_RDX);
    emit_mov_r32_r32(e, H_RAX, H_RAX);
}

static void gen_0f(struct tctx *t)
{
    const struct insn *in = t->in;
    uint8_t op = insn_op(in, 1);
    int cls = class_0f(op);
    if (op == 0x31 && !(t->mode & MODE_TSD))
        gen_rdtsc(t);
    else if (cls < 0)
        gen_undefined(t);
    else if (cls > 0)
        gen_emulate(t);
    else if (op >= 0x80 && op <= 0x8f)
        gen_jcc(t, op & 0xf);
    else if (op == 0xae && in->reg >= 4 && in->mod != 3 && in->reg != 7)
        gen_undefined(t); /* XSAVE family: not in the CPU model */
    else if (op == 0xf7)
        gen_maskmov(t);
    else if (op >= 0x18 && op <= 0x1f && in->has_mem)
        ; /* PREFETCHh and the hint NOPs: no access, so no lookup either */
    else if (in->bit_offset)
        gen_bit_offset(t);
    else if (in->implicit_esp)
        gen_undefined(t);
    else
        gen_copy(t);
}

static void gen_group5(struct tctx *t)
{
    switch (t->in->reg) {
    case 2: gen_call_jmp_indirect(t, true); break;
    case 4: gen_call_jmp_indirect(t, false); break;
    case 6: gen_push_rm(t); break;
    case 3: case 5: gen_emulate(t); break; /* far call/jmp */
    case 7: gen_undefined(t); break;
    default: gen_copy(t); break;
    }
}

/*
 * The exception an x87, MMX or SSE instruction raises in this mode, or -1
 * (SDM "Exceptions ... CR0.EM/TS/MP and CR4.OSFXSR"): x87 and WAIT #NM
 * with TS (WAIT only with MP too), x87 #NM with EM; MMX/SSE #UD with EM,
 * SSE #UD without OSFXSR, otherwise #NM with TS.
 */
static int fpu_fault(const struct tctx *t)
{
    const struct insn *in = t->in;
    uint32_t m = t->mode;
    uint8_t op = insn_op(in, 0);
    bool fxsr_insn = op == 0x0f && insn_op(in, 1) == 0xae && in->mod != 3 &&
                     in->reg <= 3; /* FXSAVE FXRSTOR LDMXCSR STMXCSR */
    if (op == 0x9b) /* WAIT/FWAIT */
        return (m & MODE_TS) && (m & MODE_MP) ? EXC_NM : -1;
    if (in->groups & IG_X87)
        return (m & (MODE_TS | MODE_EM)) ? EXC_NM : -1;
    if (!(in->groups & IG_SIMD) && !fxsr_insn)
        return -1;
    /* MMX-register forms need no OSFXSR; SSE ones (XMM, MXCSR) do. */
    bool sse = fxsr_insn ? in->reg >= 2 : !(in->groups & IG_MMX);
    if (fxsr_insn && in->reg <= 1) /* FXSAVE/FXRSTOR: #NM with TS or EM */
        return (m & (MODE_TS | MODE_EM)) ? EXC_NM : -1;
    if (m & MODE_EM)
        return EXC_UD;
    if (sse && (m & MODE_NOFXSR))
        return EXC_UD;
    return (m & MODE_TS) ? EXC_NM : -1;
}

/* Leave translated code raising `vector` at this instruction. */
static void gen_raise(struct tctx *t, int vector)
{
    emit_mov_m64_imm32(t->e, VCPU_MEM(VCPU_OFF_EXIT_ARG), vector);
    gen_exit(t, t->in->eip, EXIT_EXCEPTION);
    t->kind = TR_MONITOR;
}

/* Translate one instruction (t->in) into host code. */
/* Does the instruction access memory through a segment that MODE_SEGCHK
 * marks restricted (its operand, the stack, a string's operands)? */
static bool uses_restricted_seg(const struct tctx *t)
{
    const struct insn *in = t->in;
    uint8_t op = insn_op(in, 0), op2 = op == 0x0f ? insn_op(in, 1) : 0;
    uint32_t m = t->mode;
    int ds = in->seg_override >= 0 ? in->seg_override : SEG_DS;
    bool no_access = op == 0x8d || /* LEA, hint NOPs, prefetches */
                     (op == 0x0f &&
                      (op2 == 0x18 || op2 == 0x1f || op2 == 0x0d));
    if (in->has_mem && !no_access && (m & MODE_SEGCHK(in->mem_seg)))
        return true;
    if (in->implicit_esp && (m & MODE_SEGCHK(SEG_SS)))
        return true;
    bool si, di;
    if (insn_string(in, &si, &di, NULL))
        return (si && (m & MODE_SEGCHK(ds))) ||
               (di && (m & MODE_SEGCHK(SEG_ES)));
    return op == 0xd7 && (m & MODE_SEGCHK(ds)); /* XLAT */
}

/* FNSTENV, FNSAVE (32-bit forms) and FXSAVE store the last x87
 * instruction's address, which under identity translation is a host
 * address: after the host's own store, the monitor puts the guest's EIP
 * and CS there (EXIT_FPU_ENV). */
static bool stores_fpu_env(const struct insn *in)
{
    uint8_t op = insn_op(in, 0);
    if (!in->has_mem)
        return false;
    if ((op == 0xd9 || op == 0xdd) && in->reg == 6)
        return !in->op16;
    return op == 0x0f && insn_op(in, 1) == 0xae && in->reg == 0;
}

static void gen_fpu_env_store(struct tctx *t)
{
    t->flags_live = true; /* the block ends: keep the flags in any glue */
    gen_copy(t);
    emit_mov_m32_imm32(t->e, VCPU_MEM(VCPU_OFF_EXIT_ARG), t->in->eip);
    emit_mov_m32_imm32(t->e, VCPU_MEM(VCPU_OFF_EXIT_ARG + 4), 0);
    gen_exit(t, next_eip(t), EXIT_FPU_ENV);
}

static void gen_insn(struct tctx *t)
{
    const struct insn *in = t->in;
    uint8_t op = insn_op(in, 0);
    t->kind = TR_REWRITE; /* unless a path below says otherwise */
    if (t->mode & (MODE_TS | MODE_EM | MODE_NOFXSR)) {
        int vector = fpu_fault(t);
        if (vector >= 0) {
            gen_raise(t, vector);
            return;
        }
    }
    if ((t->mode & MODE_SEGCHK_ALL) && !t->unchecked &&
        uses_restricted_seg(t)) {
        gen_exit(t, in->eip, EXIT_SEGCHECK);
        return;
    }
    if (stores_fpu_env(in)) {
        gen_fpu_env_store(t);
        return;
    }
    if (op == 0x0f) {
        gen_0f(t);
        return;
    }
    if ((op == 0xc4 || op == 0xc5 || op == 0x62) && !in->has_mem) {
        gen_undefined(t); /* VEX/EVEX: no AVX in the CPU model */
        return;
    }
    if (emulated_1byte(op) || (in->groups & (IG_PRIVILEGE | IG_INT | IG_IRET))) {
        gen_emulate(t);
        return;
    }
    if (op >= 0x40 && op <= 0x4f)
        gen_incdec(t, op);
    else if (op >= 0x50 && op <= 0x57)
        gen_push_reg(t, op & 7);
    else if (op >= 0x58 && op <= 0x5f)
        gen_pop_reg(t, op & 7);
    else if (op == 0x68 || op == 0x6a)
        gen_push_imm(t, opsize(t), imm_value(in));
    else if (op >= 0x70 && op <= 0x7f)
        gen_jcc(t, op & 0xf);
    else if (op == 0x8f)
        in->reg == 0 ? gen_pop_rm(t) : gen_undefined(t);
    else if ((op == 0xc6 || op == 0xc7) && in->reg != 0)
        gen_undefined(t); /* XABORT/XBEGIN on hosts with RTM: no TSX here */
    else if (op == 0xc3 || op == 0xc2)
        gen_ret(t, op == 0xc2 ? (uint16_t)imm_value(in) : 0);
    else if (op == 0xc9)
        gen_leave(t);
    else if (op >= 0xe0 && op <= 0xe3)
        gen_loop(t, op);
    else if (op == 0xe8)
        gen_call(t);
    else if (op == 0xe9 || op == 0xeb)
        gen_jmp(t);
    else if (op == 0xff)
        gen_group5(t);
    else if (op == 0xd7)
        gen_xlat(t);
    else if (op == 0x8d)
        gen_lea(t);
    else if ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf)) {
        if (!gen_string(t, op))
            gen_emulate(t);
    } else if (in->implicit_esp || (in->high_byte &&
               (in->esp_reg || in->esp_rm || in->esp_opreg)))
        gen_undefined(t);
    else
        gen_copy(t);
}

/* The block prologue: a load from the poll page, which the monitor makes
 * inaccessible to stop translated code at the next block boundary. */
static void gen_poll(struct tctx *t)
{
    emit_mov_r32_m32(t->e, HR_T0, VCPU_MEM(VOFF(poll_page)));
}

/*
 * Guest code bytes at linear la: up to 15 bytes copied into buf (through
 * the page tables when paging is on; an instruction may straddle a page).
 * Returns how many bytes are readable; 0 if the first one is not.
 */
size_t guest_code(struct vcpu *v, uint32_t la, uint8_t *buf)
{
    size_t n = 0;
    while (n < INSN_MAX_LEN) {
        uint32_t pa;
        if (!dbt_code_phys(v, la + (uint32_t)n, &pa) || pa >= v->ram_size)
            break;
        size_t in_page = 4096 - ((la + n) & 0xfff);
        size_t chunk = INSN_MAX_LEN - n < in_page ? INSN_MAX_LEN - n : in_page;
        if (chunk > v->ram_size - pa)
            chunk = v->ram_size - pa;
        memcpy(buf + n, v->ram + pa, chunk);
        n += chunk;
    }
    return n;
}

static bool block_full(const struct tctx *t, const struct block *b,
                       uint32_t linear, uint32_t n)
{
    size_t used = emit_offset(t->e) - (size_t)(b->host - t->e->start) +
                  (size_t)(t->nmstubs + t->nstubs + 3 * t->nmemos) * 64;
    return n >= BLOCK_MAX_INSNS || (linear >> 12) != t->page ||
           used > BLOCK_MAX_HOST - 1536 ||
           t->nmstubs + 2 * t->nmemos + 8 > MAX_MSTUBS;
}

/* Instructions after which guest flags must be assumed live: anything
 * that leaves translated code or transfers control. */
static bool flags_barrier(const struct insn *in)
{
    uint8_t op = insn_op(in, 0);
    if (in->groups & (IG_JUMP | IG_CALL | IG_RET | IG_INT | IG_IRET |
                      IG_PRIVILEGE))
        return true;
    if (op == 0x0f)
        return class_0f(insn_op(in, 1)) != 0;
    return emulated_1byte(op) || (op >= 0xa4 && op <= 0xaf);
}

#define FLAGS_ALL (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF)

/*
 * Decode ahead (to a barrier, a page change, an undecodable instruction
 * or max), and compute for each instruction whether guest flags are live
 * before it: live_in = read | (live_out & ~written), all live at the end.
 */
static uint32_t predecode(struct dbt *d, struct vcpu *v, uint32_t mode,
                          uint32_t eip, struct insn *ins, bool *live,
                          uint32_t max)
{
    uint32_t n = 0, cs_base = v->seg[SEG_CS].base, page = (cs_base + eip) >> 12;
    while (n < max) {
        uint8_t buf[INSN_MAX_LEN];
        if (n > 0 && vcpu_exec_breakpoints(v, cs_base + eip))
            break; /* the block ends before it (translate_block) */
        size_t avail = guest_code(v, cs_base + eip, buf);
        if (!avail || !decode_insn(d->dec, buf, avail, eip, mode & MODE_CODE32,
                                   &ins[n]))
            break;
        eip += ins[n].len;
        if (!(mode & MODE_CODE32))
            eip &= 0xffff;
        uint8_t op = insn_op(&ins[n], 0);
        bool string = op >= 0xa4 && op <= 0xaf; /* may run inline */
        bool rdtsc = op == 0x0f && insn_op(&ins[n], 1) == 0x31 &&
                     !(mode & MODE_TSD); /* runs inline (gen_rdtsc) */
        if ((flags_barrier(&ins[n++]) && !string && !rdtsc) ||
            ((cs_base + eip) >> 12) != page)
            break;
    }
    uint32_t flags = FLAGS_ALL;
    for (uint32_t i = n; i-- > 0;) {
        if (flags_barrier(&ins[i]))
            flags = FLAGS_ALL;
        else
            flags = ins[i].flags_read | (flags & ~ins[i].flags_written);
        live[i] = flags != 0;
    }
    return n;
}

/*
 * Does a guest ESP that is a multiple of 4 before the instruction stay one
 * after it? Yes when it moves ESP by a known multiple of 4 (esp_delta) or
 * ANDs it with one; anything else that names or moves ESP is taken to
 * lose the alignment.
 */
static bool keeps_esp_aligned(const struct insn *in)
{
    int32_t delta, imm;
    if (esp_delta(in, &delta))
        return (delta & 3) == 0;
    return esp_alu_imm(in, &imm) && in->reg == 4 && (imm & 3) == 0;
}

/* Does the instruction reach the stack through ESP (PUSH/POP-like, or an
 * [esp + disp] operand), so that knowing ESP's alignment saves checks? */
static bool uses_esp_slot(const struct insn *in)
{
    return in->implicit_esp || (in->has_mem && in->mem_base == R_ESP);
}

/*
 * With paging on, test once at block entry that ESP is a multiple of 4:
 * then the block's stack slots and [esp + aligned disp] operands need no
 * page-crossing checks until ESP loses that alignment. A block entered
 * with ESP unaligned exits, and the monitor looks up the variant made for
 * that case (MODE_ESP_UNALIGNED), which checks every access. Only for
 * blocks that reach the stack; flag-free where guest flags are live.
 * Where flags are dead and the block's stack slots lie at known offsets,
 * a memo test puts them all on one page instead, and the alignment test
 * stays only if some other stack access relies on it.
 */
static void gen_esp_check(struct tctx *t, const struct insn *ins,
                          const bool *live, uint32_t count)
{
    if ((t->mode & (MODE_PAGING | MODE_ESP_UNALIGNED | MODE_ONE)) !=
            MODE_PAGING || count == 0)
        return;
    /* Worth it if the stack is reached while ESP is still aligned; and
     * the stack bytes the block reaches at known offsets from ESP. */
    bool aligned = true, exact = true, useful = false, writes = false;
    bool need_align = false; /* an access relies on ESP's alignment */
    int32_t lo = INT32_MAX, hi = INT32_MIN, off = 0, a[2], b[2];
    int slots = 0;
    for (uint32_t i = 0; i < count && (aligned || exact); i++) {
        useful = useful || (aligned && uses_esp_slot(&ins[i]));
        bool in_slot = exact && esp_slot_range(&ins[i], off, &a[0], &b[0]);
        bool in_opnd = exact && esp_operand_range(&ins[i], off, &a[1], &b[1]);
        need_align = need_align ||
                     (aligned && uses_esp_slot(&ins[i]) &&
                      !((in_slot || in_opnd) && one_access(&ins[i])));
        for (int k = 0; k < 2; k++)
            if (k ? in_opnd : in_slot) {
                lo = a[k] < lo ? a[k] : lo;
                hi = b[k] > hi ? b[k] : hi;
            }
        slots += in_slot || in_opnd;
        writes = writes || (in_slot && a[0] < off) || /* a push */
                 (in_opnd && ins[i].mem_write);
        aligned = aligned && keeps_esp_aligned(&ins[i]);
        exact = exact && esp_step(&ins[i], &off);
    }
    if (!useful)
        return;
    struct emitter *e = t->e;
    if (!live[0]) {
        /* Two or more slots: all on ESP's page, so one lookup serves,
         * through a memo slot (gen_stack_memo_stub refills it). If every
         * stack access is one of those slots, ESP's alignment does not
         * matter: the range test says that none crosses a page. */
        bool one_page = slots >= 2 && hi - lo <= 4096 && t->v->shadow;
        if (need_align || !one_page) {
            emit_test_r32_imm32(e, HR_ESP, 3);
            t->esp_check[0] = emit_jcc_rel32(e, CC_NE, e->p);
            t->esp_aligned = true;
        }
        if (one_page) {
            unsigned slot = shadow_memo_deal(t->v->shadow, writes);
            emit_lea_r32(e, HR_T1, hmem_bd(HR_ESP, lo)); /* zero-extended */
            t->stack_memo.field =
                gen_memo_range_test(t, writes, slot, (unsigned)(hi - lo));
            t->stack_memo.back = emit_offset(e);
            t->stack_memo.lo = lo;
            t->stack_memo.span = hi - lo;
            t->stack_memo.write = writes;
            t->stack_memo.slot = slot;
            t->stack_page = true;
            t->t2_holds = writes ? T2_STACK_WRITE : T2_STACK_READ;
        }
    } else { /* flag-free: HR_T2 = ESP << 30 is zero iff aligned */
        emit_mov_r32_imm32(e, HR_T1, 30);
        emit_shlx_r32(e, HR_T2, HR_ESP, HR_T1);
        emit_xchg_r64_r64(e, HR_T2, H_RCX);
        size_t ok = emit_jrcxz_rel8(e);
        emit_xchg_r64_r64(e, HR_T2, H_RCX);
        t->esp_check[0] = emit_jmp_rel32(e, e->p);
        emit_bind_rel8(e, ok);
        emit_xchg_r64_r64(e, HR_T2, H_RCX);
        t->esp_aligned = true;
    }
    t->esp_exact = true;
    t->esp_off = 0;
}

/*
 * The refill of the block's stack-page memo slot: are the stack bytes
 * [ESP + lo, ESP + lo + span) on one page, and has it an entry? Then into
 * the slot with it. If not, the block leaves for its variant that
 * assumes nothing about ESP (as when ESP is unaligned), which looks each
 * access up; a miss there fills the entry at the instruction that needs
 * it.
 */
static void gen_stack_memo_stub(struct tctx *t)
{
    struct emitter *e = t->e;
    const struct stackmemo *m = &t->stack_memo;
    int32_t lo = m->lo, span = m->span;
    int32_t table = m->write ? (int32_t)SHADOW_WRITE_OFFSET : 0;
    if (!m->field)
        return;
    emit_patch_rel32(e->start + m->field, e->p);
    emit_lea_r32(e, HR_ADDR, hmem_bd(HR_ESP, lo)); /* scratch at entry */
    emit_lea_r32(e, HR_T2, hmem_bd(HR_ESP, lo + span - 1));
    emit_xor_r32_r32(e, HR_T2, HR_ADDR);
    emit_test_r32_imm32(e, HR_T2, 0xfffff000u);
    t->esp_check[1] = emit_jcc_rel32(e, CC_NE, e->p);
    emit_shrx_r32(e, HR_T1, HR_ADDR, HR_PAGE_SHIFT);
    emit_mov_r64_m64(e, HR_T2, hmem_bi(H_R13, HR_T1, 8, table));
    emit_test_r64_r64(e, HR_T2, HR_T2);
    t->esp_check[2] = emit_jcc_rel32(e, CC_E, e->p);
    gen_memo_fill(t, m->write, m->slot, HR_ADDR);
    emit_jmp_rel32(e, e->start + m->back);
}

/* The block at a linear address whose code cannot be fetched: it reports
 * the fetch to the monitor, which delivers the #PF. */
static void gen_fetch_fault(struct tctx *t, uint32_t eip, uint32_t la)
{
    emit_mov_m32_imm32(t->e, VCPU_MEM(VCPU_OFF_EXIT_ARG), la);
    emit_mov_m32_imm32(t->e, VCPU_MEM(VCPU_OFF_EXIT_ARG + 4),
                       (uint32_t)(PAGE_ARG_FETCH >> 32));
    emit_mov_m32_imm32(t->e, VCPU_MEM(VCPU_OFF_EIP), eip);
    emit_mov_m64_imm32(t->e, VCPU_MEM(VCPU_OFF_EXIT_REASON), EXIT_PAGE);
    emit_jmp_m64(t->e, VCPU_MEM(VCPU_OFF_EXIT_FN));
    t->end = true;
}

/* Emit the instruction that could not be decoded: a fetch fault if its
 * bytes are not all reachable, #UD otherwise. */
static void gen_undecodable(struct tctx *t, uint32_t eip)
{
    uint8_t buf[INSN_MAX_LEN];
    uint32_t la = t->v->seg[SEG_CS].base + eip;
    size_t avail = guest_code(t->v, la, buf);
    struct insn dummy = {.eip = eip};
    t->in = &dummy;
    if ((t->v->cr0 & CR0_PG) && avail < INSN_MAX_LEN)
        gen_fetch_fault(t, eip, la + (uint32_t)avail);
    else
        gen_undefined(t);
}

int dbt_classify(struct vcpu *v, const struct insn *in, uint32_t mode)
{
    static uint8_t scratch[BLOCK_MAX_HOST];
    struct emitter e;
    struct tctx t = {.e = &e, .v = v, .mode = mode, .in = in};
    emit_init(&e, scratch, sizeof(scratch));
    gen_insn(&t);
    return t.kind;
}

/*
 * The guest registers whose values come from memory within the block:
 * written by an instruction that loads (an operand or a pop) or computed
 * from such a register. Over the whole block, whatever the order, so that
 * in a loop the next pass sees what the last pass loaded. Not ESP.
 */
static uint8_t load_fed(const struct insn *ins, uint32_t n)
{
    uint8_t fed = 0, before;
    do {
        before = fed;
        for (uint32_t i = 0; i < n; i++) {
            const struct insn *in = &ins[i];
            bool loads = (in->has_mem && insn_op(in, 0) != 0x8d) ||
                         in->implicit_esp;
            if (loads || (in->gprs_read & fed))
                fed |= in->gprs_written;
        }
    } while (fed != before);
    return fed & (uint8_t)~(1u << R_ESP);
}

/* ---- Counted loops ----
 *
 * A block that jumps back to its own start, counted by one register, runs
 * its accesses through the shadow tables once per access and pass. When,
 * at the loop's entry, every address the whole loop can reach is known
 * and all of it lies in pages with one and the same shadow entry, none of
 * those lookups can miss or give another answer until the loop leaves
 * (only the monitor changes entries, and the loop does not leave for it
 * without leaving the twin). Then a second body, the twin, runs the loop
 * as with paging off, with R15 = that entry: [r15 + linear] is the host
 * address a lookup would give. The entry test (gen_run_test) finds out;
 * when it cannot tell, the first body runs as before, and its back edge
 * skips the test.
 */
struct counted {
    int ind;        /* the guest register counted */
    uint32_t upd;   /* the instruction that steps it */
    int step_reg;   /* guest register it is stepped by, or -1 ... */
    int32_t step;   /* ... for this constant */
    int cc;         /* CC_NE, CC_B or CC_L: the loop goes on while */
    int bound_reg;  /* register compared with, or -1 ... */
    uint32_t bound; /* ... for this constant (0 when the step's own
                       flags decide: DEC r; JNZ) */
    int jcc;        /* the back edge's condition */
};

/* May the instruction run in a twin: one explicit access at most, through
 * a flat segment, nothing that leaves translated code, and ESP only as a
 * memory operand's base (so the loop does not move it)? (Anything that
 * still produces an exit or a stub is caught in gen_run_twin.) */
static bool twin_insn_ok(const struct insn *in)
{
    uint8_t op = insn_op(in, 0);
    if (flags_barrier(in) || in->implicit_esp || in->esp_reg || in->esp_rm ||
        in->esp_opreg || in->bit_offset || stores_fpu_env(in) || op == 0xd7 ||
        ((op == 0xc6 || op == 0xc7) && in->reg != 0) ||
        (op == 0x0f && insn_op(in, 1) == 0xf7))
        return false;
    if (!in->has_mem)
        return !(op == 0xc4 || op == 0xc5 || op == 0x62);
    return !in->addr16 && in->mem_size >= 1 && in->mem_size <= 16 &&
           in->mem_seg != SEG_FS && in->mem_seg != SEG_GS &&
           in->mem_seg != SEG_CS;
}

/* Does the instruction access memory through its operand (not LEA, not
 * the prefetch hints)? */
static bool run_access(const struct insn *in)
{
    uint8_t op = insn_op(in, 0);
    return in->has_mem && op != 0x8d &&
           !(op == 0x0f && insn_op(in, 1) >= 0x18 && insn_op(in, 1) <= 0x1f);
}

/* ADD/SUB r, imm; INC/DEC r; ADD r, r2: the counter and its step. */
static bool loop_step(const struct insn *in, struct counted *c)
{
    uint8_t op = insn_op(in, 0);
    c->step_reg = -1;
    if (in->op16 || in->lock)
        return false;
    if (op >= 0x40 && op <= 0x4f) {
        c->ind = op & 7;
        c->step = op < 0x48 ? 1 : -1;
        return true;
    }
    if ((op == 0x83 || op == 0x81) && in->mod == 3 &&
        (in->reg == 0 || in->reg == 5)) {
        int32_t imm = (int32_t)imm_value(in);
        c->ind = in->rm;
        c->step = in->reg == 0 ? imm : -imm;
        return imm != INT32_MIN && imm != 0;
    }
    if (op == 0xff && in->mod == 3 && in->reg <= 1) { /* INC/DEC r/m */
        c->ind = in->rm;
        c->step = in->reg == 0 ? 1 : -1;
        return true;
    }
    if (op == 0x05 || op == 0x2d) { /* ADD/SUB EAX, imm32 */
        int32_t imm = (int32_t)imm_value(in);
        c->ind = R_EAX;
        c->step = op == 0x05 ? imm : -imm;
        return imm != INT32_MIN && imm != 0;
    }
    if ((op == 0x01 || op == 0x03) && in->mod == 3 && in->reg != in->rm) {
        c->ind = op == 0x01 ? in->rm : in->reg;
        c->step_reg = op == 0x01 ? in->reg : in->rm;
        c->step = 0;
        return true;
    }
    return false;
}

/* CMP counter, imm or CMP counter, r (either order for NE). */
static bool loop_compare(const struct insn *in, struct counted *c)
{
    uint8_t op = insn_op(in, 0);
    if (op == 0x3d && !in->op16 && c->ind == R_EAX) { /* CMP EAX, imm32 */
        c->bound_reg = -1;
        c->bound = imm_value(in);
        return true;
    }
    if (in->op16 || in->mod != 3)
        return false;
    if ((op == 0x83 || op == 0x81) && in->reg == 7 && in->rm == c->ind) {
        c->bound_reg = -1;
        c->bound = imm_value(in);
        return true;
    }
    if (op != 0x39 && op != 0x3b)
        return false;
    int a = op == 0x39 ? in->rm : in->reg, b = op == 0x39 ? in->reg : in->rm;
    if (a == b || (a != c->ind && (b != c->ind || c->cc != CC_NE)))
        return false; /* it must test the counter (on the left but for NE) */
    c->bound_reg = a == c->ind ? b : a;
    return true;
}

/* Is a step of s (either sign) one the entry test can count exactly
 * for JNE (a power of two, so that divisibility is a mask test)? */
static bool pow2_step(int32_t s)
{
    uint32_t a = s < 0 ? (uint32_t)-s : (uint32_t)s;
    return a && a <= 4096 && !(a & (a - 1));
}

/* Does the block end in a Jcc (rel8 or rel32) back to its own start?
 * Sets c->jcc, and c->cc for the conditions the entry test can count. */
static bool loop_back_edge(const struct insn *ins, uint32_t count,
                           uint32_t mode, struct counted *c)
{
    const struct insn *j = &ins[count - 1];
    uint8_t op = insn_op(j, 0);
    if (op >= 0x70 && op <= 0x7f)
        c->jcc = op & 0xf;
    else if (op == 0x0f && insn_op(j, 1) >= 0x80 && insn_op(j, 1) <= 0x8f)
        c->jcc = insn_op(j, 1) & 0xf;
    else
        return false;
    if (j->op16 || insn_target(j, mode) != ins[0].eip)
        return false;
    c->cc = c->jcc == CC_NE  ? CC_NE
            : c->jcc == CC_B ? CC_B
            : c->jcc == CC_L ? CC_L
                             : -1;
    return c->cc >= 0;
}

/*
 * May the loop body (all but the Jcc) run in a twin, with one to
 * RUN_MAX_ACCESSES accesses, and no x87/SSE instruction where CR0.TS/EM
 * or a clear CR4.OSFXSR make them fault? *written := the registers it writes,
 * *flagger := the last instruction that writes flags, after which nothing
 * may change them (a shift by CL writes them only when CL is not 0, so
 * its flags count as read, not written: only x87 and SSE instructions,
 * whose flag read is only the fault's, or ones that leave the flags
 * alone, may follow it).
 */
static bool loop_body_ok(const struct insn *ins, uint32_t count, uint32_t mode,
                         uint8_t *written, uint32_t *flagger)
{
    uint32_t accesses = 0;
    bool fpu_faults = mode & (MODE_TS | MODE_EM | MODE_NOFXSR);
    *written = 0;
    *flagger = count;
    for (uint32_t i = 0; i + 1 < count; i++) {
        if (!twin_insn_ok(&ins[i]) ||
            (fpu_faults && (ins[i].groups & (IG_X87 | IG_SIMD))))
            return false; /* the first body would end at its #NM or #UD */
        *written |= ins[i].gprs_written;
        if (ins[i].flags_written)
            *flagger = i;
        accesses += run_access(&ins[i]);
    }
    if (*flagger == count || accesses == 0 || accesses > RUN_MAX_ACCESSES)
        return false;
    for (uint32_t i = *flagger + 1; i + 1 < count; i++)
        if (ins[i].flags_read && !(ins[i].groups & (IG_X87 | IG_SIMD)))
            return false;
    return true;
}

/* The counter: a register written once, by a step, that the flagger
 * compares (or that the flagger steps, for JNE). */
static bool loop_counter(const struct insn *ins, uint32_t count,
                         uint32_t flagger, struct counted *c)
{
    for (uint32_t i = 0; i <= flagger; i++) {
        struct counted k = *c;
        if (!loop_step(&ins[i], &k) || k.ind == R_ESP)
            continue;
        uint8_t bit = (uint8_t)(1u << k.ind);
        bool once = true;
        for (uint32_t x = 0; x + 1 < count; x++)
            once = once && (x == i || !(ins[x].gprs_written & bit));
        k.upd = i;
        if (!once || (flagger == i ? k.cc != CC_NE || k.step_reg >= 0
                                   : !loop_compare(&ins[flagger], &k)))
            continue;
        *c = k;
        return true;
    }
    return false;
}

/* Are the bound, the step and every access's registers unchanged by the
 * block (the counter aside), and the step one the test can count? */
static bool loop_operands_fixed(const struct insn *ins, uint32_t count,
                                uint8_t written, const struct counted *c)
{
    uint8_t fixed = (uint8_t)~written;
    if ((c->bound_reg >= 0 && !(fixed & (1u << c->bound_reg))) ||
        (c->step_reg >= 0 &&
         (!(fixed & (1u << c->step_reg)) || c->cc == CC_NE)) ||
        (c->step_reg < 0 &&
         (c->cc == CC_NE ? !pow2_step(c->step) : c->step <= 0)))
        return false;
    uint8_t ok = fixed | (uint8_t)(1u << c->ind);
    for (uint32_t i = 0; i + 1 < count; i++) {
        const struct insn *in = &ins[i];
        if (run_access(in) &&
            ((in->mem_base >= 0 && !(ok & (1u << in->mem_base))) ||
             (in->mem_index >= 0 && !(ok & (1u << in->mem_index)))))
            return false;
    }
    return true;
}

/*
 * Is the block (count instructions, the last a Jcc) a counted loop the
 * entry test can cover? It must jump back to its start; the last
 * instruction before the Jcc to write flags must compare the counter
 * (after its one step) with a constant or an unchanged register, or be
 * the step itself for JNE; and every access's address must be made of
 * the counter and registers the block does not write.
 */
static bool find_counted_loop(const struct tctx *t, const struct insn *ins,
                              uint32_t count, struct counted *c)
{
    uint32_t m = t->mode, flagger;
    uint8_t written;
    if ((m & (MODE_PAGING | MODE_CODE32 | MODE_FLAT)) !=
            (MODE_PAGING | MODE_CODE32 | MODE_FLAT) ||
        (m & MODE_ONE) || (m & MODE_SEGCHK_ALL & ~MODE_SEGCHK(SEG_CS)) ||
        t->bounce || t->bounce_stack || count < 2 || count > RUN_MAX_INSNS)
        return false;
    c->bound_reg = -1;
    c->bound = 0;
    return loop_back_edge(ins, count, m, c) &&
           loop_body_ok(ins, count, m, &written, &flagger) &&
           loop_counter(ins, count, flagger, c) &&
           loop_operands_fixed(ins, count, written, c);
}

static void run_fail(struct tctx *t, size_t field)
{
    t->run_fails[t->nrun_fails++] = field;
}

/* JNE: the distance to the bound (r10d) must be a nonzero multiple of
 * the step; then R8/R9 := [v0, v0 + distance - step] counting up, or
 * [v0 - distance + step, v0] counting down (R10 = the bound on entry). */
static void gen_run_range_ne(struct tctx *t, const struct counted *c)
{
    struct emitter *e = t->e;
    int ind = host_reg(c->ind);
    bool up = c->step > 0;
    int32_t s = up ? c->step : -c->step;
    if (up) { /* r10d = bound - v0 */
        emit_alu_rr(e, false, 0x29, HR_T2, ind);
    } else { /* r10d = v0 - bound */
        emit_mov_r32_r32(e, HR_T1, ind);
        emit_alu_rr(e, false, 0x29, HR_T1, HR_T2);
        emit_mov_r32_r32(e, HR_T2, HR_T1);
    }
    run_fail(t, emit_jcc_rel32(e, CC_E, e->p));
    if (s > 1) {
        emit_test_r32_imm32(e, HR_T2, (uint32_t)s - 1);
        run_fail(t, emit_jcc_rel32(e, CC_NE, e->p));
    }
    if (up) {
        emit_movsxd_r64_r32(e, HR_T0, ind);
        emit_lea_r64(e, HR_T1, hmem_bi(HR_T0, HR_T2, 1, -s));
    } else {
        emit_movsxd_r64_r32(e, HR_T1, ind);
        emit_alu_rr(e, true, 0x89, HR_T0, HR_T1);
        emit_alu_rr(e, true, 0x29, HR_T0, HR_T2);
        emit_lea_r64(e, HR_T0, hmem_bd(HR_T0, s));
    }
}

/* JB/JL: every pass after the first saw counter < bound, so R8/R9 :=
 * [v0, max(v0, bound - 1)] (unsigned or signed), and the value after the
 * last step must not wrap (R10 = the bound on entry). */
static void gen_run_range_below(struct tctx *t, const struct counted *c)
{
    struct emitter *e = t->e;
    bool sign = c->cc == CC_L;
    if (sign) {
        emit_movsxd_r64_r32(e, HR_T0, host_reg(c->ind));
        emit_movsxd_r64_r32(e, HR_T2, HR_T2);
    } else {
        emit_mov_r32_r32(e, HR_T0, host_reg(c->ind));
    }
    emit_lea_r64(e, HR_T2, hmem_bd(HR_T2, -1));
    emit_alu_rr(e, true, 0x89, HR_T1, HR_T0);
    emit_alu_rr(e, true, 0x39, HR_T1, HR_T2);
    emit_cmov_r64_r64(e, CC_L, HR_T1, HR_T2); /* r9 = max(v0, bound-1) */
    if (c->step_reg >= 0) {
        int sr = host_reg(c->step_reg);
        if (sign)
            emit_movsxd_r64_r32(e, HR_T2, sr);
        else
            emit_mov_r32_r32(e, HR_T2, sr);
        emit_mov_m64_r64(e, VCPU_MEM(VOFF(run_step)), HR_T2);
        if (sign) {
            emit_test_r64_r64(e, HR_T2, HR_T2);
            run_fail(t, emit_jcc_rel32(e, CC_S, e->p));
        }
        emit_lea_r64(e, HR_T2, hmem_bi(HR_T1, HR_T2, 1, 0));
    } else {
        emit_lea_r64(e, HR_T2, hmem_bd(HR_T1, c->step));
    }
    if (sign) {
        emit_cmp_r64_imm32(e, HR_T2, INT32_MAX);
        run_fail(t, emit_jcc_rel32(e, CC_G, e->p));
    } else {
        emit_shr_r64_imm8(e, HR_T2, 32);
        run_fail(t, emit_jcc_rel32(e, CC_NE, e->p));
    }
}

/*
 * vcpu->run_lo/run_hi := the least and greatest value the counter has
 * before its step, over all passes, as exact 64-bit integers (so that an
 * address made from it is linear in it, and its 32-bit wrap can be seen).
 * Uses R8-R11; flags clobbered.
 */
static void gen_run_range(struct tctx *t, const struct counted *c)
{
    struct emitter *e = t->e;
    if (c->bound_reg >= 0)
        emit_mov_r32_r32(e, HR_T2, host_reg(c->bound_reg));
    else
        emit_mov_r32_imm32(e, HR_T2, c->bound);
    if (c->cc == CC_NE)
        gen_run_range_ne(t, c);
    else
        gen_run_range_below(t, c);
    emit_mov_m64_r64(e, VCPU_MEM(VOFF(run_lo)), HR_T0);
    emit_mov_m64_r64(e, VCPU_MEM(VOFF(run_hi)), HR_T1);
}

/* r = r * k for the k an address can give the counter (1-5, 8, 9). */
static void gen_times(struct emitter *e, int r, int k)
{
    if (k == 2 || k == 4 || k == 8)
        emit_lea_r64(e, r, hmem_bi(H_NONE, r, k, 0));
    else if (k == 3 || k == 5 || k == 9)
        emit_lea_r64(e, r, hmem_bi(r, r, k - 1, 0));
}

/* R9/R10 := the first and last byte one access of the loop can touch,
 * from the counter's range (64-bit: a value outside 0..4 GiB-1 means the
 * guest's address would wrap). The address's other registers wrap as the
 * guest's would; the displacement counts with its sign. */
static void gen_run_bytes(struct tctx *t, const struct counted *c,
                          const struct insn *in, bool post)
{
    struct emitter *e = t->e;
    int coef = (in->mem_base == c->ind ? 1 : 0) +
               (in->mem_index == c->ind ? in->mem_scale : 0);
    int base = in->mem_base != c->ind ? in->mem_base : -1;
    int index = in->mem_index != c->ind ? in->mem_index : -1;
    int32_t last = (int32_t)in->mem_size - 1;
    struct hmem step = VCPU_MEM(VOFF(run_step));
    gen_linear(t, SEG_DS, base, index, in->mem_scale, 0, false);
    emit_lea_r64(e, HR_ADDR, hmem_bd(HR_ADDR, in->mem_disp));
    if (!coef) {
        emit_mov_r32_r32(e, HR_T1, HR_ADDR);
        emit_lea_r64(e, HR_T2, hmem_bd(HR_ADDR, last));
        return;
    }
    emit_mov_r64_m64(e, HR_T1, VCPU_MEM(VOFF(run_lo)));
    emit_mov_r64_m64(e, HR_T2, VCPU_MEM(VOFF(run_hi)));
    if (post && c->step_reg >= 0) {
        emit_add_r64_m64(e, HR_T1, step);
        emit_add_r64_m64(e, HR_T2, step);
    } else if (post) {
        emit_lea_r64(e, HR_T1, hmem_bd(HR_T1, c->step));
        emit_lea_r64(e, HR_T2, hmem_bd(HR_T2, c->step));
    }
    gen_times(e, HR_T1, coef);
    gen_times(e, HR_T2, coef);
    emit_lea_r64(e, HR_T1, hmem_bi(HR_T1, HR_ADDR, 1, 0));
    emit_lea_r64(e, HR_T2, hmem_bi(HR_T2, HR_ADDR, 1, last));
}

/*
 * One access of the loop: its bytes (gen_run_bytes) within 0..4 GiB-1,
 * then every page between must have the entry vcpu->run_delta (the first
 * access sets it from its first page; a zero entry fails). Writes look in
 * the write table, so pages that are read-only or traced fail.
 */
static void gen_run_access(struct tctx *t, const struct counted *c,
                           const struct insn *in, bool post, bool first)
{
    struct emitter *e = t->e;
    int32_t table = in->mem_write ? (int32_t)SHADOW_WRITE_OFFSET : 0;
    gen_run_bytes(t, c, in, post);
    emit_test_r64_r64(e, HR_T1, HR_T1);
    run_fail(t, emit_jcc_rel32(e, CC_S, e->p));
    emit_alu_rr(e, true, 0x89, HR_T0, HR_T2);
    emit_shr_r64_imm8(e, HR_T0, 32);
    run_fail(t, emit_jcc_rel32(e, CC_NE, e->p));
    emit_shr_r64_imm8(e, HR_T1, 12);
    emit_shr_r64_imm8(e, HR_T2, 12);
    emit_alu_rr(e, true, 0x89, HR_T0, HR_T2);
    emit_alu_rr(e, true, 0x29, HR_T0, HR_T1);
    emit_cmp_r64_imm32(e, HR_T0, RUN_MAX_PAGES);
    run_fail(t, emit_jcc_rel32(e, CC_A, e->p));
    if (first) {
        emit_mov_r64_m64(e, HR_T0, hmem_bi(H_R13, HR_T1, 8, table));
        emit_test_r64_r64(e, HR_T0, HR_T0);
        run_fail(t, emit_jcc_rel32(e, CC_E, e->p));
        emit_mov_m64_r64(e, VCPU_MEM(VOFF(run_delta)), HR_T0);
    } else {
        emit_mov_r64_m64(e, HR_T0, VCPU_MEM(VOFF(run_delta)));
    }
    uint8_t *scan = e->p;
    emit_cmp_r64_m64(e, HR_T0, hmem_bi(H_R13, HR_T1, 8, table));
    run_fail(t, emit_jcc_rel32(e, CC_NE, e->p));
    emit_lea_r64(e, HR_T1, hmem_bd(HR_T1, 1));
    emit_alu_rr(e, true, 0x39, HR_T1, HR_T2);
    emit_jcc_rel32(e, CC_BE, scan);
}

/*
 * The entry test of a counted loop, at the block's start: on success on
 * to the twin's entry (t->run_go, patched by gen_run_twin), which sets
 * R15 := the one entry; otherwise on into the first body (also where
 * gen_run_abandon sends the success). The guest's flags are set aside
 * around it where they are live into the block.
 */
static void gen_run_test(struct tctx *t, const struct insn *ins, uint32_t count,
                         bool flags_in, const struct counted *c)
{
    struct emitter *e = t->e;
    if (flags_in)
        gen_save_flags(t);
    gen_run_range(t, c);
    bool first = true;
    for (uint32_t i = 0; i + 1 < count; i++) {
        if (!run_access(&ins[i]))
            continue;
        gen_run_access(t, c, &ins[i], i > c->upd, first);
        first = false;
    }
    t->run_go = emit_jmp_rel32(e, e->p);
    t->run_flags_in = flags_in;
    t->run_fail_at = emit_offset(e);
    for (int i = 0; i < t->nrun_fails; i++)
        emit_patch_rel32(e->start + t->run_fails[i], e->p);
    emit_add_m64_imm8(e, VCPU_MEM(VOFF(stats.shadow_run_declines)), 1);
    if (flags_in)
        gen_restore_flags(t);
    t->run_top = emit_offset(e);
}

/* The first body's back edge: poll, then past the entry test. */
static void gen_run_back(struct tctx *t)
{
    emit_patch_rel32(t->e->start + t->run_back, t->e->p);
    gen_poll(t);
    emit_jmp_rel32(t->e, t->e->start + t->run_top);
}

/*
 * The twin: its entry (count the run, R15 := the entry, the guest's
 * flags back), then the block's instructions again, translated as with
 * paging off, with a poll at its top, the back edge to itself, and the
 * exit through the first body's (R15 back to the page shift first). Its
 * PC map records follow the block's (pcm[count + i]). False, with
 * nothing emitted, if an instruction came out needing an exit or a stub
 * after all (gen_run_abandon then).
 */
static bool gen_run_twin(struct tctx *t, struct block *b, struct pcmap *pcm,
                         const struct insn *ins, const bool *live,
                         uint32_t count, const struct counted *c)
{
    struct emitter *e = t->e;
    if ((size_t)(e->end - e->p) < 64 * (size_t)count + 192)
        return false; /* no room left in the block's share of the cache */
    uint8_t *entry = e->p;
    emit_add_m64_imm8(e, VCPU_MEM(VOFF(stats.shadow_runs)), 1);
    emit_mov_r64_m64(e, HR_PBASE, VCPU_MEM(VOFF(run_delta)));
    if (t->run_flags_in)
        gen_restore_flags(t);
    uint8_t *top = e->p;
    int nstubs = t->nstubs, nmstubs = t->nmstubs, nmemos = t->nmemos;
    uint32_t mode = t->mode;
    bool ok = true;
    t->mode &= ~(uint32_t)MODE_PAGING;
    t->end = false;
    gen_poll(t);
    for (uint32_t i = 0; i + 1 < count && ok; i++) {
        pcm[count + i] =
            (struct pcmap){(uint32_t)(e->p - b->host), ins[i].eip, 0};
        t->insn_off = emit_offset(e);
        t->in = &ins[i];
        t->flags_live = live[i];
        t->pcflags = 0;
        gen_insn(t);
        pcm[count + i].flags = t->pcflags;
        ok = !t->end && t->nstubs == nstubs && t->nmstubs == nmstubs &&
             t->nmemos == nmemos;
    }
    t->mode = mode;
    t->pcflags = 0;
    if (ok) {
        pcm[2 * count - 1] =
            (struct pcmap){(uint32_t)(e->p - b->host), ins[count - 1].eip, 0};
        emit_jcc_rel32(e, c->jcc, top);
        emit_mov_r32_imm32(e, HR_PAGE_SHIFT, 12);
        emit_jmp_rel32(e, e->start + t->run_fall);
        emit_patch_rel32(e->start + t->run_go, entry);
        b->twin_off = (uint32_t)(entry - b->host);
        b->ntwin = count;
        return true;
    }
    e->p = entry;
    return false;
}

/* No twin after all: the entry test's success goes the way of a failure. */
static void gen_run_abandon(struct tctx *t)
{
    emit_patch_rel32(t->e->start + t->run_go, t->e->start + t->run_fail_at);
}

void translate_block(struct dbt *d, struct vcpu *v, uint32_t mode,
                     struct emitter *e, struct block *b, struct pcmap *pcm,
                     uint32_t max_insns, bool bounce, unsigned once)
{
    struct tctx t = {.e = e, .v = v, .mode = mode,
                     .bounce = bounce && !(once & ONCE_BOUNCE_STACK),
                     .bounce_stack = bounce && (once & ONCE_BOUNCE_STACK),
                     .unchecked = once & ONCE_UNCHECKED};
    bool past_bp = once & ONCE_PAST_BP;
    struct insn ins[BLOCK_MAX_INSNS];
    bool live[BLOCK_MAX_INSNS];
    uint32_t eip = v->eip, cs_base = v->seg[SEG_CS].base;
    uint32_t n = 0, count;

    t.page = (cs_base + eip) >> 12;
    b->eip = eip;
    b->mode = mode;
    b->host = e->p;
    b->pcmap = pcm;
    gen_poll(&t);
    count = predecode(d, v, mode, eip, ins, live, max_insns);
    t.load_fed = load_fed(ins, count);
    struct counted loop = {0};
    t.run = find_counted_loop(&t, ins, count, &loop);
    if (t.run) {
        t.run_eip = eip;
        gen_run_test(&t, ins, count, live[0], &loop);
    }
    gen_esp_check(&t, ins, live, count);
    for (;;) {
        bool bp = vcpu_exec_breakpoints(v, cs_base + eip) &&
                  !(n == 0 && past_bp);
        if (bp && n > 0) {
            gen_branch(&t, -1, eip);
            break;
        }
        pcm[n] = (struct pcmap){(uint32_t)(e->p - b->host), eip, 0};
        t.insn_off = emit_offset(e);
        if (bp) {
            gen_exit(&t, eip, EXIT_BREAKPOINT);
        } else if (n == count) {
            gen_undecodable(&t, eip);
        } else {
            t.in = &ins[n];
            t.flags_live = live[n];
            gen_insn(&t);
            t.esp_aligned = t.esp_aligned && keeps_esp_aligned(&ins[n]);
            int32_t lo, hi;
            t.esp_exact = t.esp_exact && esp_step(&ins[n], &t.esp_off);
            /* HR_T2 survives only translations whose lookups are all
             * accounted for (gen_guest_mem, gen_add_segbase), and LEA and
             * INC/DEC of a register, which use no scratch register. */
            if (t.kind != TR_COPY && !t.t2_untouched &&
                !esp_slot_range(&ins[n], 0, &lo, &hi))
                t.t2_holds = T2_NONE;
            t.t2_untouched = false;
            eip = next_eip(&t);
        }
        pcm[n++].flags = t.pcflags;
        t.pcflags = 0;
        if (t.end)
            break;
        if (n >= max_insns || block_full(&t, b, cs_base + eip, n)) {
            gen_branch(&t, -1, eip);
            break;
        }
    }
    gen_stubs(&t);
    gen_memo_stubs(&t);
    gen_stack_memo_stub(&t);
    gen_mstubs(&t);
    if (t.run) { /* a twin only for the whole loop, as predecoded */
        if (t.run_back)
            gen_run_back(&t);
        if (!(t.run_back && n == count &&
              gen_run_twin(&t, b, pcm, ins, live, count, &loop)))
            gen_run_abandon(&t);
    }
    /* An entry test failed: to the variant that assumes nothing about
     * ESP, chained there once the monitor has found it. */
    for (int i = 0; i < 3; i++) {
        if (!t.esp_check[i])
            continue;
        uint8_t *site = e->start + t.esp_check[i];
        emit_patch_rel32(site, e->p);
        emit_mov_m32_imm32(e, VCPU_MEM(VCPU_OFF_EIP), b->eip);
        emit_lea_r64_rip(e, HR_T0, site);
        emit_mov_m64_r64(e, VCPU_MEM(VCPU_OFF_EXIT_ARG), HR_T0);
        emit_mov_m64_imm32(e, VCPU_MEM(VCPU_OFF_EXIT_REASON),
                           EXIT_ESP_UNALIGNED);
        emit_jmp_m64(e, VCPU_MEM(VCPU_OFF_EXIT_FN));
    }
    b->ninsns = n;
    b->guest_len = eip - b->eip;
    b->host_len = (uint32_t)(e->p - b->host);
}
