// SPDX-License-Identifier: MIT
/* Shadow paging tests: page tables built here, guest code that turns
 * paging on and accesses memory, run as real translated code. */
#include "tests/harness/harness.h"
#include "mmu/shadow.h"
#include "mmu/walk.h"
#include "monitor/vcpu.h"

#include "tests/check_main.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define CODE 0x00100000u
#define STACK 0x00308000u
#define PD1 0x00010000u   /* page directory */
#define PD2 0x00020000u   /* a second address space */
#define PT_LOW 0x00011000u /* identity map of 0..4 MiB */
#define PT_HIGH 0x00012000u /* maps 0x40000000.. */
#define PT_HIGH2 0x00022000u
#define LIN 0x40000000u
#define FRAME_A 0x00300000u
#define FRAME_B 0x00500000u

static struct harness *h;
static struct harness_state st;
static struct harness_result res;
static uint8_t code[256];
static size_t ncode;

static void put32(uint32_t addr, uint32_t v)
{
    harness_write(h, addr, &v, 4);
}

static uint32_t get32(uint32_t addr)
{
    uint32_t v;
    harness_read(h, addr, &v, 4);
    return v;
}

static void emit(const void *b, size_t n)
{
    memcpy(code + ncode, b, n);
    ncode += n;
}

static void emit_imm(uint8_t op, uint32_t imm) /* op imm32 */
{
    emit(&op, 1);
    emit(&imm, 4);
}

static void emit_modrm_abs(const uint8_t *op, size_t n, uint32_t addr)
{
    emit(op, n);
    emit(&addr, 4);
}

/* mov eax, pd; mov cr3, eax; mov eax, cr0; or eax, PG|extra; mov cr0, eax */
static void emit_enable_paging(uint32_t pd, uint32_t cr0_extra)
{
    static const uint8_t mov_cr3[] = {0x0f, 0x22, 0xd8};
    static const uint8_t get_cr0[] = {0x0f, 0x20, 0xc0};
    static const uint8_t set_cr0[] = {0x0f, 0x22, 0xc0};
    emit_imm(0xb8, pd);
    emit(mov_cr3, 3);
    emit(get_cr0, 3);
    emit_imm(0x0d, CR0_PG | cr0_extra);
    emit(set_cr0, 3);
}

static void emit_hlt(void)
{
    static const uint8_t hlt = 0xf4;
    emit(&hlt, 1);
}

/* Map linear page la to frame pa with flags in the tables of pd. */
static void map(uint32_t pd, uint32_t pt, uint32_t la, uint32_t pa,
                uint32_t flags)
{
    put32(pd + (la >> 22) * 4, pt | PTE_P | PTE_W | PTE_U);
    put32(pt + ((la >> 12) & 0x3ff) * 4, pa | flags);
}

/* LIN and LIN+0x1000 on frames far apart (A, B): an access across the
 * page boundary must reach both. */
static void map_two_frames(void)
{
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P | PTE_W);
    map(PD1, PT_HIGH, LIN + 0x1000, FRAME_B, PTE_P | PTE_W);
}

/*
 * Call S (the n bytes at s) three times: twice with ESP at LIN+0x1100,
 * so that its block is made for that and the second call is chained to
 * it, then with ESP at esp_last; then HLT.
 */
static void emit_call_thrice(uint32_t esp_last, const uint8_t *s, size_t n)
{
    uint8_t drive[] = {
        0xbf, 0x00, 0x11, 0x00, 0x40, /* mov edi, LIN+0x1100 */
        0xbe, 0x00, 0x11, 0x00, 0x40, /* mov esi, LIN+0x1100 */
        0xbd, 0x03, 0x00, 0x00, 0x00, /* mov ebp, 3 */
        0x89, 0xfc,                   /* again: mov esp, edi */
        0xe8, 0x0b, 0x00, 0x00, 0x00, /* call S */
        0x89, 0xf7,                   /* mov edi, esi */
        0xbe, 0, 0, 0, 0,             /* mov esi, esp_last */
        0x4d,                         /* dec ebp */
        0x75, 0xef,                   /* jnz again */
        0xf4,                         /* hlt */
    };
    memcpy(&drive[25], &esp_last, 4);
    emit(drive, sizeof(drive));
    emit(s, n);
}

static void setup(void)
{
    h = harness_create(16);
    ck_assert_ptr_nonnull(h);
    memset(harness_ram(h), 0, harness_ram_size(h));
    memset(&st, 0, sizeof(st));
    st.eip = CODE;
    st.regs[R_ESP] = STACK;
    harness_default_fpu(h, st.fpu);
    for (uint32_t a = 0; a < 0x400000; a += 4096)
        map(PD1, PT_LOW, a, a, PTE_P | PTE_W);
    ncode = 0;
}

static void teardown(void)
{
    harness_destroy(h);
}

static void run(void)
{
    harness_write(h, CODE, code, ncode);
    harness_run(h, &st, &res);
}

START_TEST(read_write_sets_accessed_and_dirty)
{
    static const uint8_t store[] = {0xc7, 0x05}; /* mov dword [LIN+16], imm */
    static const uint8_t load[] = {0x8b, 0x1d};  /* mov ebx, [LIN+16] */
    static const uint8_t load2[] = {0x8b, 0x0d}; /* mov ecx, [LIN+0x1000] */
    uint32_t v = 0x12345678;
    map_two_frames();
    emit_enable_paging(PD1, 0);
    emit_modrm_abs(store, 2, LIN + 16);
    emit(&v, 4);
    emit_modrm_abs(load, 2, LIN + 16);
    emit_modrm_abs(load2, 2, LIN + 0x1000);
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(get32(FRAME_A + 16), v);
    ck_assert_uint_eq(st.regs[R_EBX], v);
    uint32_t pte_a = get32(PT_HIGH), pte_b = get32(PT_HIGH + 4);
    ck_assert(pte_a & PTE_A);
    ck_assert(pte_a & PTE_D);
    ck_assert(pte_b & PTE_A);
    ck_assert(!(pte_b & PTE_D)); /* only read */
    ck_assert(get32(PD1 + (LIN >> 22) * 4) & PTE_A);
    /* --stats: one miss and fill per page (the store filled the read
     * entry too). */
    const struct vcpu_stats *s = &harness_vcpu(h)->stats;
    ck_assert_uint_eq(s->shadow_miss_stub + s->shadow_miss_fault, 2);
    ck_assert_uint_eq(s->shadow_fills, 2);
    ck_assert_uint_eq(s->shadow_true_pf, 0);
}
END_TEST

START_TEST(not_present_gives_pf_with_cr2)
{
    static const uint8_t load[] = {0x8b, 0x1d}; /* mov ebx, [LIN+0x2004] */
    static const uint8_t store[] = {0x89, 0x1d}; /* mov [LIN+0x3008], ebx */
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P | PTE_W);
    emit_enable_paging(PD1, 0);
    size_t at = ncode;
    emit_modrm_abs(load, 2, LIN + 0x2004);
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, EXC_PF);
    ck_assert_int_eq(res.error, 0); /* not present, read, supervisor */
    ck_assert_uint_eq(harness_vcpu(h)->cr2, LIN + 0x2004);
    ck_assert_uint_eq(st.eip, CODE + at);
    /* The same for a write: error code W. */
    teardown();
    setup();
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P | PTE_W);
    emit_enable_paging(PD1, 0);
    emit_modrm_abs(store, 2, LIN + 0x3008);
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, EXC_PF);
    ck_assert_int_eq(res.error, PF_W);
    ck_assert_uint_eq(harness_vcpu(h)->cr2, LIN + 0x3008);
    ck_assert_uint_eq(harness_vcpu(h)->stats.shadow_true_pf, 1);
}
END_TEST

START_TEST(write_protect_honours_cr0_wp)
{
    static const uint8_t store[] = {0x89, 0x05}; /* mov [LIN], eax */
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P); /* read-only */
    emit_enable_paging(PD1, 0);             /* WP = 0 */
    emit_modrm_abs(store, 2, LIN);
    emit_hlt();
    st.regs[R_EAX] = 0; /* overwritten by the paging prologue anyway */
    run();
    ck_assert_int_eq(res.vector, -1); /* supervisor writes ignore R/W */
    ck_assert(get32(PT_HIGH) & PTE_D);
    teardown();
    setup();
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P);
    emit_enable_paging(PD1, CR0_WP);
    emit_modrm_abs(store, 2, LIN);
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, EXC_PF);
    ck_assert_int_eq(res.error, PF_P | PF_W);
    ck_assert(!(get32(PT_HIGH) & PTE_D));
}
END_TEST

START_TEST(page_crossing_access_uses_both_frames)
{
    static const uint8_t store[] = {0xc7, 0x05}; /* mov dword [LIN+0xffe], imm */
    static const uint8_t load[] = {0x8b, 0x1d};  /* mov ebx, [LIN+0xffe] */
    uint32_t v = 0xaabbccdd;
    map_two_frames();
    emit_enable_paging(PD1, 0);
    emit_modrm_abs(store, 2, LIN + 0xffe);
    emit(&v, 4);
    emit_modrm_abs(load, 2, LIN + 0xffe);
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(get32(FRAME_A + 0xffc) >> 16, 0xccdd);
    ck_assert_uint_eq(get32(FRAME_B) & 0xffff, 0xaabb);
    ck_assert_uint_eq(st.regs[R_EBX], v);
    ck_assert_uint_ge(harness_vcpu(h)->stats.slow_accesses, 2);
}
END_TEST

START_TEST(crossing_into_a_missing_page_faults_on_it)
{
    static const uint8_t load[] = {0x8b, 0x1d}; /* mov ebx, [LIN+0xffe] */
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P | PTE_W);
    emit_enable_paging(PD1, 0);
    emit_modrm_abs(load, 2, LIN + 0xffe);
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, EXC_PF);
    ck_assert_uint_eq(harness_vcpu(h)->cr2, LIN + 0x1000);
}
END_TEST

START_TEST(invlpg_makes_a_new_mapping_visible)
{
    static const uint8_t load_a[] = {0xa1};       /* mov eax, [LIN] */
    static const uint8_t set_pte[] = {0xc7, 0x05}; /* mov dword [PT_HIGH], imm */
    static const uint8_t invlpg[] = {0x0f, 0x01, 0x3d}; /* invlpg [LIN] */
    static const uint8_t load_b[] = {0x8b, 0x1d};  /* mov ebx, [LIN] */
    uint32_t pte_b = FRAME_B | PTE_P | PTE_W;
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P | PTE_W);
    put32(FRAME_A, 0xaaaa);
    put32(FRAME_B, 0xbbbb);
    emit_enable_paging(PD1, 0);
    emit_modrm_abs(load_a, 1, LIN);
    emit_modrm_abs(set_pte, 2, PT_HIGH);
    emit(&pte_b, 4);
    emit_modrm_abs(invlpg, 3, LIN);
    emit_modrm_abs(load_b, 2, LIN);
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX], 0xaaaa);
    ck_assert_uint_eq(st.regs[R_EBX], 0xbbbb);
    ck_assert_uint_eq(harness_vcpu(h)->stats.shadow_invlpgs, 1);
}
END_TEST

START_TEST(cr3_switch_changes_address_space)
{
    static const uint8_t load_a[] = {0x8b, 0x1d}; /* mov ebx, [LIN] */
    static const uint8_t mov_cr3[] = {0x0f, 0x22, 0xd8};
    static const uint8_t load_b[] = {0x8b, 0x0d}; /* mov ecx, [LIN] */
    for (uint32_t a = 0; a < 0x400000; a += 4096)
        map(PD2, PT_LOW, a, a, PTE_P | PTE_W);
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P | PTE_W);
    map(PD2, PT_HIGH2, LIN, FRAME_B, PTE_P | PTE_W);
    put32(FRAME_A, 0x1111);
    put32(FRAME_B, 0x2222);
    emit_enable_paging(PD1, 0);
    emit_modrm_abs(load_a, 2, LIN);
    emit_imm(0xb8, PD2); /* mov eax, PD2 */
    emit(mov_cr3, 3);
    emit_modrm_abs(load_b, 2, LIN);
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EBX], 0x1111);
    ck_assert_uint_eq(st.regs[R_ECX], 0x2222);
    /* Two CR3 loads without CR4.PGE, each dropping every entry. */
    ck_assert_uint_ge(harness_vcpu(h)->stats.shadow_flushes, 2);
    ck_assert_uint_eq(harness_vcpu(h)->stats.shadow_flushes_nonglobal, 0);
}
END_TEST

/*
 * The loop body at `again` reads [EBX] into ECX (flags dead: a memo slot
 * serves the site), stores it at [EDI] and moves EDI on; `between` runs
 * after, then the loop goes round `passes` times in all, each pass
 * through the same block. The reads land at 0x2000, 0x2004, ...
 */
static void emit_memo_loop(uint32_t ebx, uint32_t passes, const uint8_t *between,
                           size_t n)
{
    static const uint8_t body[] = {
        0x8b, 0x0b,       /* again: mov ecx, [ebx] */
        0x39, 0xc0,       /* cmp eax, eax */
        0x89, 0x0f,       /* mov [edi], ecx */
        0x83, 0xc7, 0x04, /* add edi, 4 */
    };
    emit_imm(0xbb, ebx);    /* mov ebx, imm */
    emit_imm(0xbf, 0x2000); /* mov edi, 0x2000 */
    emit_imm(0xbe, passes); /* mov esi, passes */
    static const uint8_t jmp_next[] = {0xeb, 0x00}; /* every pass, one block */
    emit(jmp_next, 2);
    size_t again = ncode;
    emit(body, sizeof(body));
    emit(between, n);
    uint8_t tail[] = {0x4e, 0x75, 0}; /* dec esi; jnz again */
    tail[2] = (uint8_t)(again - (ncode + 3));
    emit(tail, 3);
    emit_hlt();
}

/* LIN holds 0x1111 (frame A) on the first pass; `between` maps it to
 * frame B (0x2222), which the second pass must read, not the slot's A. */
static void run_memo_remap(const uint8_t *between, size_t n)
{
    put32(FRAME_A, 0x1111);
    put32(FRAME_B, 0x2222);
    emit_enable_paging(PD1, 0);
    emit_memo_loop(LIN, 2, between, n);
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(get32(0x2000), 0x1111);
    ck_assert_uint_eq(get32(0x2004), 0x2222);
    ck_assert_uint_ge(harness_vcpu(h)->stats.shadow_memo_refills, 2);
}

START_TEST(memo_slot_is_dropped_by_invlpg)
{
    uint8_t between[] = {
        0xc7, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, /* mov dword [PT_HIGH], pte */
        0x0f, 0x01, 0x3b,                   /* invlpg [ebx] */
    };
    uint32_t pt = PT_HIGH, pte_b = FRAME_B | PTE_P | PTE_W;
    memcpy(&between[2], &pt, 4);
    memcpy(&between[6], &pte_b, 4);
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P | PTE_W);
    run_memo_remap(between, sizeof(between));
}
END_TEST

START_TEST(memo_slot_is_dropped_by_a_cr3_load)
{
    static const uint8_t between[] = {
        0xb8, 0x00, 0x00, 0x02, 0x00, /* mov eax, PD2 */
        0x0f, 0x22, 0xd8,             /* mov cr3, eax */
    };
    for (uint32_t a = 0; a < 0x400000; a += 4096)
        map(PD2, PT_LOW, a, a, PTE_P | PTE_W);
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P | PTE_W);
    map(PD2, PT_HIGH2, LIN, FRAME_B, PTE_P | PTE_W);
    run_memo_remap(between, sizeof(between));
}
END_TEST

/* The guest moves LIN to frame B without INVLPG, then writes it: the
 * write walks again and takes B (as a TLB entry not yet dirty does), and
 * the read slot must follow, not keep frame A. */
START_TEST(memo_slot_follows_a_write_walk)
{
    uint8_t between[] = {
        0xc7, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, /* mov dword [PT_HIGH], pte */
        0xc7, 0x03, 0x33, 0x33, 0, 0,       /* mov dword [ebx], 0x3333 */
    };
    uint32_t pt = PT_HIGH, pte_b = FRAME_B | PTE_P | PTE_W;
    memcpy(&between[2], &pt, 4);
    memcpy(&between[6], &pte_b, 4);
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P | PTE_W);
    put32(FRAME_A, 0x1111);
    emit_enable_paging(PD1, 0);
    emit_memo_loop(LIN, 2, between, sizeof(between));
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(get32(0x2000), 0x1111);
    ck_assert_uint_eq(get32(FRAME_B), 0x3333);
    ck_assert_uint_eq(get32(0x2004), 0x3333); /* read from frame B */
}
END_TEST

/* The slot holds LIN's page from the first pass; the second reads across
 * its end, which its range test must send to the slow path. */
START_TEST(memo_range_test_catches_a_crossing)
{
    uint8_t between[] = {0xbb, 0, 0, 0, 0}; /* mov ebx, LIN + 0xffe */
    uint32_t next = LIN + 0xffe;
    memcpy(&between[1], &next, 4);
    map_two_frames();
    put32(FRAME_A + 0x10, 0x12345678);
    put32(FRAME_A + 0xffc, 0xccdd0000);
    put32(FRAME_B, 0x0000aabb);
    emit_enable_paging(PD1, 0);
    emit_memo_loop(LIN + 0x10, 2, between, sizeof(between));
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(get32(0x2000), 0x12345678);
    ck_assert_uint_eq(get32(0x2004), 0xaabbccdd);
    ck_assert_uint_ge(harness_vcpu(h)->stats.slow_accesses, 1);
}
END_TEST

/* The memo's own bookkeeping: INVLPG empties the slots of its page, a
 * flush all of them, in both views. */
START_TEST(memo_slots_emptied_by_invlpg_and_flush)
{
    struct shadow s;
    ck_assert_int_eq(shadow_init(&s), 0);
    unsigned r[4], w[6];
    for (int i = 0; i < 4; i++)
        r[i] = shadow_memo_deal(&s, false);
    for (int i = 0; i < 6; i++)
        w[i] = shadow_memo_deal(&s, true);
    ck_assert_uint_eq(r[3], 3);
    ck_assert_uint_eq(w[5], 5); /* slot numbers within each table */
    unsigned a = r[3], b = SHADOW_MEMO_SLOTS + w[5];
    for (int view = 0; view < 2; view++) {
        struct shadow_memo *m = shadow_memo(&s, view);
        ck_assert(m->page[0] == SHADOW_MEMO_NONE);
        ck_assert_uint_eq(m->pagenum[SHADOW_MEMO_N - 1], ~0u);
        m->page[a] = 0x40000000u;
        m->pagenum[a] = 0x40000;
        m->entry[a] = 0x1000;
        m->page[b] = 0x50000000u;
        m->pagenum[b] = 0x50000;
        m->entry[b] = 0x2000;
    }
    shadow_invlpg(&s, 0x40000abc);
    for (int view = 0; view < 2; view++) {
        struct shadow_memo *m = shadow_memo(&s, view);
        ck_assert(m->page[a] == SHADOW_MEMO_NONE);
        ck_assert_uint_eq(m->pagenum[a], ~0u);
        ck_assert(m->page[b] == 0x50000000u);
    }
    shadow_flush(&s);
    for (int view = 0; view < 2; view++) {
        ck_assert(shadow_memo(&s, view)->page[b] == SHADOW_MEMO_NONE);
        ck_assert_uint_eq(shadow_memo(&s, view)->pagenum[b], ~0u);
    }
    shadow_destroy(&s);
}
END_TEST

/* An [esp + disp] operand with a displacement far outside any frame is no
 * stack slot: counting it in the block's stack range overflowed that
 * range, and the memo test at entry then passed for a slot holding no
 * page (the block faulted for ever). */
START_TEST(far_esp_displacement_is_not_a_stack_slot)
{
    static const uint8_t prog[] = {
        0x68, 0x78, 0x56, 0x34, 0x12,             /* push 0x12345678 */
        0x0f, 0x1f, 0x84, 0x24, 0xff, 0xff, 0xff, 0x7f, /* nop [esp+7fffffff] */
        0x58,                                     /* pop eax */
        0x39, 0xc0,                               /* cmp eax, eax */
        0xf4,                                     /* hlt */
    };
    emit_enable_paging(PD1, 0);
    emit(prog, sizeof(prog));
    harness_write(h, CODE, code, ncode);
    harness_run_budget(h, &st, &res, 2000000); /* a hang fails, not waits */
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX], 0x12345678);
    ck_assert_uint_eq(st.regs[R_ESP], STACK);
}
END_TEST

/*
 * A block that starts with an SSE instruction and reaches the stack: its
 * entry test must not clobber the flags, though the block overwrites them
 * later (TEST), since the DIVSD may raise #XM first and the #XM frame holds
 * the guest's flags (CF set here by STC).
 */
START_TEST(sse_fault_at_block_entry_sees_the_guests_flags)
{
    static const uint8_t prog[] = {
        0xf9,                   /* stc */
        0xeb, 0x00,             /* jmp next: the block starts below */
        0xf2, 0x0f, 0x5e, 0xc1, /* next: divsd xmm0, xmm1 (1 / 0) */
        0x50,                   /* push eax */
        0x58,                   /* pop eax */
        0x85, 0xc0,             /* test eax, eax */
        0xf4,                   /* hlt */
    };
    const double one = 1.0, zero = 0.0;
    const uint32_t mxcsr = 0x1f80 & ~0x200u; /* #Z unmasked */
    memcpy(st.fpu + 24, &mxcsr, 4);
    memcpy(st.fpu + 160, &one, 8);  /* XMM0 */
    memcpy(st.fpu + 176, &zero, 8); /* XMM1 */
    emit_enable_paging(PD1, 0);
    size_t at = ncode + 3;
    emit(prog, sizeof(prog));
    run();
    ck_assert_int_eq(res.vector, EXC_XM);
    ck_assert_uint_eq(st.eip, CODE + at);
    ck_assert_uint_eq(st.eflags & EFL_CF, EFL_CF);
    ck_assert_uint_eq(st.eflags & EFL_ZF, 0);
}
END_TEST

START_TEST(large_pages_with_pse)
{
    static const uint8_t get_cr4[] = {0x0f, 0x20, 0xe0}; /* mov eax, cr4 */
    static const uint8_t set_cr4[] = {0x0f, 0x22, 0xe0}; /* mov cr4, eax */
    static const uint8_t load[] = {0x8b, 0x1d};          /* mov ebx, [..] */
    put32(PD1 + (0x80000000u >> 22) * 4, 0x00400000u | PTE_P | PTE_W | PTE_PS);
    put32(0x00400010, 0x4444);
    emit(get_cr4, 3);
    emit_imm(0x0d, 0x10); /* or eax, CR4.PSE */
    emit(set_cr4, 3);
    emit_enable_paging(PD1, 0);
    emit_modrm_abs(load, 2, 0x80000010u);
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EBX], 0x4444);
    ck_assert(get32(PD1 + (0x80000000u >> 22) * 4) & PTE_A);
}
END_TEST

START_TEST(self_modifying_code_through_an_alias)
{
    /* The code page is also mapped at LIN; a store through the alias
     * rewrites the immediate of the next instruction. */
    static const uint8_t store[] = {0xc6, 0x05}; /* mov byte [LIN+off], 42 */
    static const uint8_t mov_al[] = {0xb0, 0x01}; /* mov al, 1 */
    map(PD1, PT_HIGH, LIN, CODE, PTE_P | PTE_W);
    emit_enable_paging(PD1, 0);
    uint32_t imm_at = (uint32_t)ncode + 7 + 1; /* after the store */
    emit_modrm_abs(store, 2, LIN + imm_at);
    uint8_t v = 42;
    emit(&v, 1);
    emit(mov_al, 2);
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX] & 0xff, 42);
}
END_TEST

/* A stack with no RAM behind it is an open bus, as on a PC: pushes are
 * dropped and pops read all ones; PUSH, POP and CALL still move ESP.
 * code: push imm; pop eax; call next; next: pop ebx; push [STACK]; pop ecx */
static void emit_open_bus_stack(void)
{
    static const uint8_t pop_eax = 0x58, pop_ebx = 0x5b, pop_ecx = 0x59;
    static const uint8_t call0[] = {0xe8, 0, 0, 0, 0};
    static const uint8_t push_m[] = {0xff, 0x35};
    emit_imm(0x68, 0x12345678);
    emit(&pop_eax, 1);
    emit(call0, sizeof(call0));
    emit(&pop_ebx, 1);
    emit_modrm_abs(push_m, 2, STACK);
    emit(&pop_ecx, 1);
    emit_hlt();
}

/* Run it: the three pops read all ones and ESP ends where it began. */
static void run_open_bus_stack(uint32_t esp)
{
    run();
    ck_assert_int_eq(res.status, 0);
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX], 0xffffffffu);
    ck_assert_uint_eq(st.regs[R_EBX], 0xffffffffu);
    ck_assert_uint_eq(st.regs[R_ECX], 0xffffffffu);
    ck_assert_uint_eq(st.regs[R_ESP], esp);
}

START_TEST(stack_outside_ram_is_open_bus)
{
    put32(STACK, 0xCAFEF00D);
    st.regs[R_ESP] = 0x02000800u; /* 32 MiB: the machine has 16 */
    emit_open_bus_stack();
    run_open_bus_stack(0x02000800u);
}
END_TEST

START_TEST(stack_outside_ram_is_open_bus_paged)
{
    map(PD1, PT_HIGH, LIN, 0x02000000u, PTE_P | PTE_W); /* no RAM there */
    put32(STACK, 0xCAFEF00D);
    emit_enable_paging(PD1, 0);
    static const uint8_t mov_esp[] = {0xbc};
    emit_modrm_abs(mov_esp, 1, LIN + 0x800);
    emit_open_bus_stack();
    run_open_bus_stack(LIN + 0x800);
}
END_TEST

START_TEST(unaligned_stack_in_a_block_made_for_an_aligned_one)
{
    /*
     * S is called twice with ESP aligned, so its block counts on that and
     * checks no stack access for a page crossing, and the second call is
     * chained to it. The third time ESP is 2 off and S's slots straddle
     * LIN+0x1000: the block's entry test must send it to the variant that
     * checks.
     */
    static const uint8_t sub[] = {
        0x68, 0x44, 0x33, 0x22, 0x11, /* S: push 0x11223344 */
        0x8b, 0x1c, 0x24,             /* mov ebx, [esp] */
        0x59,                         /* pop ecx */
        0xc3,                         /* ret */
    };
    map_two_frames();
    emit_enable_paging(PD1, 0);
    emit_call_thrice(LIN + 0x1006, sub, sizeof(sub));
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EBX], 0x11223344);
    ck_assert_uint_eq(st.regs[R_ECX], 0x11223344);
    ck_assert_uint_eq(st.regs[R_ESP], LIN + 0x1006);
    ck_assert_uint_eq(get32(FRAME_A + 0xffc) >> 16, 0x3344);
    ck_assert_uint_eq(get32(FRAME_B) & 0xffff, 0x1122);
    ck_assert_uint_ge(harness_vcpu(h)->stats.exits[EXIT_ESP_UNALIGNED], 1);
}
END_TEST

START_TEST(write_miss_with_live_flags)
{
    /*
     * NOT changes no flags, so the ZF of the CMP is live across it: its
     * lookup may not test the entry. The read fills only the read entry
     * (the page is clean), so NOT's write lookup misses; the miss must
     * fill the write entry and set Dirty, and ZF must survive.
     */
    static const uint8_t body[] = {
        0xa1, 0x10, 0x00, 0x00, 0x40,             /* mov eax, [LIN+0x10] */
        0x31, 0xc9,                               /* xor ecx, ecx */
        0x39, 0xc0,                               /* cmp eax, eax */
        0xf7, 0x15, 0x10, 0x00, 0x00, 0x40,       /* not dword [LIN+0x10] */
        0x0f, 0x94, 0xc1,                         /* sete cl */
        0xf4,                                     /* hlt */
    };
    map(PD1, PT_HIGH, LIN, FRAME_A, PTE_P | PTE_W);
    put32(FRAME_A + 0x10, 0x0f0f0f0f);
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX], 0x0f0f0f0f);
    ck_assert_uint_eq(st.regs[R_ECX], 1);
    ck_assert_uint_eq(get32(FRAME_A + 0x10), 0xf0f0f0f0);
    ck_assert_uint_ne(get32(PT_HIGH) & PTE_D, 0);
}
END_TEST

START_TEST(push_and_pop_memory_with_a_crossing_stack_slot)
{
    /*
     * PUSH m and POP m have two accesses, and here the stack slot
     * straddles LIN+0x1000 (frames A and B): the slow path must do the
     * whole instruction (it once bounced the operand, and the slot's
     * crossing exited again for ever).
     */
    static const uint8_t body[] = {
        0xbc, 0x02, 0x10, 0x00, 0x40,       /* mov esp, LIN+0x1002 */
        0xff, 0x35, 0x10, 0x20, 0x00, 0x40, /* push dword [LIN+0x2010] */
        0x8f, 0x05, 0x20, 0x20, 0x00, 0x40, /* pop dword [LIN+0x2020] */
        0xf4,                               /* hlt */
    };
    map_two_frames();
    map(PD1, PT_HIGH, LIN + 0x2000, FRAME_B + 0x1000, PTE_P | PTE_W);
    put32(FRAME_B + 0x1010, 0xcafef00d);
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_ESP], LIN + 0x1002);
    ck_assert_uint_eq(get32(FRAME_A + 0xffc) >> 16, 0xf00d);
    ck_assert_uint_eq(get32(FRAME_B) & 0xffff, 0xcafe);
    ck_assert_uint_eq(get32(FRAME_B + 0x1020), 0xcafef00d);
}
END_TEST

START_TEST(crossing_with_live_flags)
{
    /*
     * Where guest flags are live (across the MOV here; always for x87
     * operands) lookups leave them alone; an x87 one has no tests at all:
     * its first touch of FRAME_B's page is a zero entry's fault, and a
     * crossing into another frame must still reach both (the lookup
     * makes the address non-canonical and the #GP takes the slow path).
     */
    static const uint8_t body[] = {
        0xbb, 0x00, 0x00, 0x00, 0x40,       /* mov ebx, LIN */
        0xd9, 0x83, 0x10, 0x10, 0x00, 0x00, /* fld dword [ebx+0x1010] */
        0xd9, 0x1d, 0x10, 0x20, 0x00, 0x00, /* fstp dword [0x2010] */
        0x31, 0xd2,                         /* xor edx, edx */
        0x39, 0xc0,                         /* cmp eax, eax */
        0x8b, 0x8b, 0xfe, 0x0f, 0x00, 0x00, /* mov ecx, [ebx+0xffe] */
        0x0f, 0x94, 0xc2,                   /* sete dl */
        0xdd, 0x83, 0xfc, 0x0f, 0x00, 0x00, /* fld qword [ebx+0xffc] */
        0xdd, 0x1d, 0x00, 0x20, 0x00, 0x00, /* fstp qword [0x2000] */
        0xf4,                               /* hlt */
    };
    map_two_frames();
    put32(FRAME_A + 0xffc, 0x33445566);
    put32(FRAME_B, 0x77881122);
    put32(FRAME_B + 0x10, 0x3f800000); /* 1.0f */
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    unsigned long long signals = harness_vcpu(h)->stats.signals;
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_ECX], 0x11223344);
    ck_assert_uint_eq(st.regs[R_EDX], 1);
    ck_assert_uint_eq(get32(0x2000), 0x33445566);
    ck_assert_uint_eq(get32(0x2004), 0x77881122);
    ck_assert_uint_ge(harness_vcpu(h)->stats.slow_accesses, 2);
    ck_assert_uint_eq(get32(0x2010), 0x3f800000);
    if (shadow_zero_faults()) /* the miss and the x87 crossing faulted */
        ck_assert_uint_ge(harness_vcpu(h)->stats.signals, signals + 2);
}
END_TEST

START_TEST(leave_with_a_crossing_pop)
{
    /* LEAVE pops at EBP, here straddling LIN+0x1000: the slow path does
     * it in C (it once stopped the machine: "not emulated"). */
    static const uint8_t body[] = {
        0xbd, 0xfe, 0x0f, 0x00, 0x40, /* mov ebp, LIN+0xffe */
        0xc9,                         /* leave */
        0xf4,                         /* hlt */
    };
    map_two_frames();
    put32(FRAME_A + 0xffc, 0x55660000);
    put32(FRAME_B, 0x00003344);
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_int_eq(res.status, 0);
    ck_assert_uint_eq(st.regs[R_EBP], 0x33445566);
    ck_assert_uint_eq(st.regs[R_ESP], LIN + 0x1002);
}
END_TEST

START_TEST(stack_page_test_sends_a_straddling_block_elsewhere)
{
    /*
     * S reaches three stack slots, [esp], [esp+4], [esp+8]: on one page,
     * one lookup serves them all. Called twice away from a page end, its
     * block is chained; the third time its slots straddle LIN+0x1000
     * (ESP still aligned): the block's entry test must send it to the
     * variant that looks every slot up, or [esp+4] would be read from
     * FRAME_A's neighbour instead of FRAME_B.
     */
    static const uint8_t sub[] = {
        0x31, 0xc9,                   /* S: xor ecx, ecx */
        0x8b, 0x44, 0x24, 0x04,       /* mov eax, [esp+4] */
        0x89, 0x44, 0x24, 0x08,       /* mov [esp+8], eax */
        0xc3,                         /* ret */
    };
    map_two_frames();
    put32(FRAME_B + 0x100, 0x11111111);
    put32(FRAME_B, 0xabcdef01);
    emit_enable_paging(PD1, 0);
    emit_call_thrice(LIN + 0x1000, sub, sizeof(sub));
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX], 0xabcdef01);
    ck_assert_uint_eq(get32(FRAME_B + 4), 0xabcdef01);
    ck_assert_uint_eq(get32(FRAME_B + 0x104), 0x11111111);
    ck_assert_uint_ge(harness_vcpu(h)->stats.exits[EXIT_ESP_UNALIGNED], 1);
}
END_TEST

START_TEST(pop_memory_after_a_push_on_the_stack_page)
{
    /*
     * PUSH and POP m share the block's stack page. POP m's operand is on
     * a page not yet filled: its miss resumes POP m from its start, so
     * POP m must not have reused the PUSH's entry for its slot (it was
     * gone after the exit, and the instruction faulted for ever).
     */
    static const uint8_t body[] = {
        0xbc, 0x00, 0x18, 0x00, 0x40,       /* mov esp, LIN+0x1800 */
        0xb8, 0x78, 0x56, 0x34, 0x12,       /* mov eax, 0x12345678 */
        0xe9, 0x00, 0x00, 0x00, 0x00,       /* jmp next (a new block) */
        0x31, 0xc9,                         /* next: xor ecx, ecx */
        0x50,                               /* push eax */
        0x8f, 0x05, 0x10, 0x20, 0x00, 0x40, /* pop dword [LIN+0x2010] */
        0xf4,                               /* hlt */
    };
    map(PD1, PT_HIGH, LIN + 0x1000, FRAME_B, PTE_P | PTE_W);
    map(PD1, PT_HIGH, LIN + 0x2000, FRAME_A, PTE_P | PTE_W);
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(get32(FRAME_A + 0x10), 0x12345678);
    ck_assert_uint_eq(st.regs[R_ESP], LIN + 0x1800);
}
END_TEST

START_TEST(stack_and_calls_with_paging)
{
    /* The stack lives in a mapped page: push, call, ret through shadows. */
    static const uint8_t body[] = {
        0xbc, 0x00, 0x20, 0x00, 0x40, /* mov esp, LIN+0x2000 */
        0x6a, 0x07,                   /* push 7 */
        0xe8, 0x01, 0x00, 0x00, 0x00, /* call +1 */
        0xf4,                         /* hlt */
        0x8b, 0x5c, 0x24, 0x04,       /* mov ebx, [esp+4] */
        0xc3,                         /* ret */
    };
    map(PD1, PT_HIGH, LIN + 0x1000, FRAME_B, PTE_P | PTE_W);
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EBX], 7);
    ck_assert_uint_eq(get32(FRAME_B + 0xffc), 7);
}
END_TEST

START_TEST(single_string_insns_through_shadow_tables)
{
    /* LODSB, SCASB, MOVSD and STOSB without REP on pages whose frames are
     * not where their linear addresses would say: each operand goes
     * through the shadow tables; MOVSD crosses two pages on both sides. */
    static const uint8_t body[] = {
        0xbe, 0xfe, 0x0f, 0x00, 0x40, /* mov esi, LIN+0xffe */
        0xbf, 0xfe, 0x1f, 0x00, 0x40, /* mov edi, LIN+0x1ffe */
        0xac,                         /* lodsb */
        0xae,                         /* scasb: ZF = (al == [edi]) */
        0x0f, 0x94, 0xc3,             /* setz bl */
        0xa5,                         /* movsd (crosses on both sides) */
        0xaa,                         /* stosb */
        0xf4,                         /* hlt */
    };
    static const uint8_t src[4] = {0x11, 0x22, 0x33, 0x44};
    map_two_frames();
    map(PD1, PT_HIGH, LIN + 0x2000, FRAME_A + 0x2000, PTE_P | PTE_W);
    harness_write(h, FRAME_A + 0xffe, "\x5a\x11", 2);
    harness_write(h, FRAME_B, src + 1, 3);
    harness_write(h, FRAME_B + 0xffe, "\x5a", 1);
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    st.regs[R_EBX] = 0;
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX] & 0xff, 0x5a);
    ck_assert_uint_eq(st.regs[R_EBX] & 0xff, 1);
    ck_assert_uint_eq(st.regs[R_ESI], LIN + 0x1003);
    ck_assert_uint_eq(st.regs[R_EDI], LIN + 0x2004);
    uint8_t got[5];
    harness_read(h, FRAME_B + 0xfff, got, 1);
    harness_read(h, FRAME_A + 0x2000, got + 1, 4);
    ck_assert_mem_eq(got, src, 4);
    ck_assert_uint_eq(got[4], 0x5a);
}
END_TEST

START_TEST(rep_movs_across_scattered_frames)
{
    /* 3 KiB copied from LIN+0x800 (frames A, then B) to LIN+0x2800 (frames
     * C, then A+0x4000), forward and then backward (STD). */
    static const uint8_t body[] = {
        0xbe, 0x00, 0x08, 0x00, 0x40, /* mov esi, LIN+0x800 */
        0xbf, 0x00, 0x28, 0x00, 0x40, /* mov edi, LIN+0x2800 */
        0xb9, 0x00, 0x03, 0x00, 0x00, /* mov ecx, 0x300 */
        0xf3, 0xa5,                   /* rep movsd */
        0xfd,                         /* std */
        0xbe, 0xfc, 0x13, 0x00, 0x40, /* mov esi, LIN+0x13fc (last dword) */
        0xbf, 0xfc, 0x53, 0x00, 0x40, /* mov edi, LIN+0x53fc */
        0xb9, 0x00, 0x03, 0x00, 0x00, /* mov ecx, 0x300 */
        0xf3, 0xa5,                   /* rep movsd (down) */
        0xfc,                         /* cld */
        0xf4,                         /* hlt */
    };
    map_two_frames();
    map(PD1, PT_HIGH, LIN + 0x2000, FRAME_A + 0x2000, PTE_P | PTE_W);
    map(PD1, PT_HIGH, LIN + 0x3000, FRAME_A + 0x4000, PTE_P | PTE_W);
    map(PD1, PT_HIGH, LIN + 0x4000, FRAME_B + 0x3000, PTE_P | PTE_W);
    map(PD1, PT_HIGH, LIN + 0x5000, FRAME_A + 0x7000, PTE_P | PTE_W);
    for (uint32_t i = 0; i < 0x300; i++) {
        uint32_t la_off = 0x800 + i * 4;
        uint32_t pa = la_off < 0x1000 ? FRAME_A + la_off : FRAME_B + la_off - 0x1000;
        put32(pa, 0xc0de0000 + i);
    }
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, -1);
    /* Forward copy: dst dword i at LIN+0x2800+4i. */
    ck_assert_uint_eq(get32(FRAME_A + 0x2800), 0xc0de0000);
    ck_assert_uint_eq(get32(FRAME_A + 0x2ffc), 0xc0de0000 + 0x1ff);
    ck_assert_uint_eq(get32(FRAME_A + 0x4000), 0xc0de0000 + 0x200);
    ck_assert_uint_eq(get32(FRAME_A + 0x43fc), 0xc0de0000 + 0x2ff);
    /* Backward copy of the same 0x300 dwords to LIN+0x4800..0x53ff. */
    ck_assert_uint_eq(get32(FRAME_A + 0x73fc), 0xc0de0000 + 0x2ff);
    ck_assert_uint_eq(get32(FRAME_A + 0x7000), 0xc0de0000 + 0x200);
    ck_assert_uint_eq(get32(FRAME_B + 0x3800), 0xc0de0000);
    ck_assert_uint_eq(st.regs[R_ECX], 0);
    ck_assert_uint_eq(st.regs[R_EDI], LIN + 0x4800 - 4);
}
END_TEST

/* The frame behind linear address la in the maps of the two tests below. */
static uint32_t run_frame(uint32_t la)
{
    uint32_t page = la & ~0xfffu, off = la & 0xfff;
    if (page >= LIN + 0x10000 && page < LIN + 0x14000)
        return FRAME_A + 0x10000 + (page - LIN - 0x10000) + off;
    if (page == LIN + 0x14000)
        return FRAME_B + 0x8000 + off;
    if (page >= LIN + 0x20000 && page < LIN + 0x23000)
        return FRAME_A + 0x40000 + (page - LIN - 0x20000) + off;
    if (page == LIN + 0x23000)
        return FRAME_B + 0x20000 + off;
    return FRAME_A + 0x43000 + off; /* LIN + 0x24000 */
}

START_TEST(rep_movs_runs_over_contiguous_pages)
{
    /* 18 KiB from LIN+0x10000 (four contiguous frames, then one elsewhere)
     * to LIN+0x20002 (three contiguous, one elsewhere, one more), twice:
     * the first pass fills the entries page by page, the second finds
     * them and copies whole runs of pages at once. Between the passes
     * the guest changes source dwords at the ends of the runs. The dword
     * at LIN+0x22ffe straddles two frames that are not contiguous. */
    static const uint8_t copy[] = {
        0xbe, 0x00, 0x00, 0x01, 0x40, /* mov esi, LIN+0x10000 */
        0xbf, 0x02, 0x00, 0x02, 0x40, /* mov edi, LIN+0x20002 */
        0xb9, 0x00, 0x12, 0x00, 0x00, /* mov ecx, 0x1200 */
        0xf3, 0xa5,                   /* rep movsd */
    };
    static const uint8_t change[] = {
        0xc7, 0x05, 0x00, 0x00, 0x01, 0x40, 0xef, 0xbe, 0xad, 0xde,
        /* mov dword [LIN+0x10000], 0xdeadbeef */
        0xc7, 0x05, 0xfc, 0x3f, 0x01, 0x40, 0x01, 0x00, 0xfe, 0xca,
        /* mov dword [LIN+0x13ffc], 0xcafe0001 */
        0xc7, 0x05, 0x00, 0x40, 0x01, 0x40, 0x02, 0x00, 0xfe, 0xca,
        /* mov dword [LIN+0x14000], 0xcafe0002 */
        0xc7, 0x05, 0xfc, 0x2f, 0x01, 0x40, 0x03, 0x00, 0xfe, 0xca,
        /* mov dword [LIN+0x12ffc], 0xcafe0003 (lands at LIN+0x22ffe) */
    };
    for (uint32_t la = LIN + 0x10000; la < LIN + 0x15000; la += 0x1000)
        map(PD1, PT_HIGH, la, run_frame(la), PTE_P | PTE_W);
    for (uint32_t la = LIN + 0x20000; la < LIN + 0x25000; la += 0x1000)
        map(PD1, PT_HIGH, la, run_frame(la), PTE_P | PTE_W);
    for (uint32_t i = 0; i < 0x4800; i += 4)
        put32(run_frame(LIN + 0x10000 + i), 0x51000000 + i);
    emit_enable_paging(PD1, 0);
    emit(copy, sizeof(copy));
    emit(change, sizeof(change));
    emit(copy, sizeof(copy));
    emit_hlt();
    run();
    ck_assert_int_eq(res.vector, -1);
    for (uint32_t i = 0; i < 0x4800; i += 4) {
        uint32_t want = 0x51000000 + i;
        if (i == 0)
            want = 0xdeadbeef;
        else if (i == 0x3ffc)
            want = 0xcafe0001;
        else if (i == 0x4000)
            want = 0xcafe0002;
        else if (i == 0x2ffc)
            want = 0xcafe0003;
        uint32_t got = 0;
        for (unsigned b = 0; b < 4; b++) { /* byte by byte: it may straddle */
            uint8_t byte;
            harness_read(h, run_frame(LIN + 0x20002 + i + b), &byte, 1);
            got |= (uint32_t)byte << (8 * b);
        }
        ck_assert_msg(got == want, "dword %#x: %#x, not %#x", i, got, want);
    }
    ck_assert_uint_eq(get32(run_frame(LIN + 0x20000)) & 0xffff, 0);
    ck_assert_uint_eq(st.regs[R_ESI], LIN + 0x14800);
    ck_assert_uint_eq(st.regs[R_EDI], LIN + 0x24802);
    ck_assert_uint_eq(st.regs[R_ECX], 0);
}
END_TEST

START_TEST(rep_stos_run_stops_at_a_read_only_page)
{
    /* LIN+0x30000..0x32fff on contiguous frames, the last one read-only
     * (CR0.WP set). Once the first two have write entries and the third
     * a read entry, a REP STOSD over all three fills the first two in one
     * run and faults at the third with EDI and ECX exact. */
    static const uint8_t body[] = {
        0x8b, 0x1d, 0x00, 0x20, 0x03, 0x40, /* mov ebx, [LIN+0x32000] */
        0xbf, 0x00, 0x00, 0x03, 0x40,       /* mov edi, LIN+0x30000 */
        0xb9, 0x00, 0x08, 0x00, 0x00,       /* mov ecx, 0x800 */
        0x31, 0xc0,                         /* xor eax, eax */
        0xf3, 0xab,                         /* rep stosd */
        0xbf, 0x00, 0x00, 0x03, 0x40,       /* mov edi, LIN+0x30000 */
        0xb9, 0x00, 0x0c, 0x00, 0x00,       /* mov ecx, 0xc00 */
        0xb8, 0x5a, 0x5a, 0x5a, 0x5a,       /* mov eax, 0x5a5a5a5a */
        0xf3, 0xab,                         /* rep stosd */
        0xf4,                               /* hlt */
    };
    map(PD1, PT_HIGH, LIN + 0x30000, FRAME_A + 0x60000, PTE_P | PTE_W);
    map(PD1, PT_HIGH, LIN + 0x31000, FRAME_A + 0x61000, PTE_P | PTE_W);
    map(PD1, PT_HIGH, LIN + 0x32000, FRAME_A + 0x62000, PTE_P);
    put32(FRAME_A + 0x62000, 0x600d600d);
    emit_enable_paging(PD1, CR0_WP);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, EXC_PF);
    ck_assert_int_eq(res.error, PF_P | PF_W);
    ck_assert_uint_eq(harness_vcpu(h)->cr2, LIN + 0x32000);
    ck_assert_uint_eq(st.regs[R_EDI], LIN + 0x32000);
    ck_assert_uint_eq(st.regs[R_ECX], 0x400);
    ck_assert_uint_eq(st.regs[R_EBX], 0x600d600d);
    for (uint32_t off = 0; off < 0x2000; off += 4)
        ck_assert_uint_eq(get32(FRAME_A + 0x60000 + off), 0x5a5a5a5a);
    ck_assert_uint_eq(get32(FRAME_A + 0x62000), 0x600d600d);
}
END_TEST

START_TEST(rep_stos_run_stops_at_the_top_of_the_address_space)
{
    /* The last two pages of the 4 GiB on contiguous frames: once their
     * entries are filled, a REP STOSD from 0xffffe800 takes both in one
     * run, which must end at 0xffffffff; EDI wraps to 0 and the rest goes
     * to linear 0 (identity-mapped), as on a CPU with 32-bit addresses. */
    static const uint8_t body[] = {
        0xbf, 0x00, 0xe0, 0xff, 0xff, /* mov edi, 0xffffe000 */
        0xb9, 0x00, 0x08, 0x00, 0x00, /* mov ecx, 0x800 */
        0xb8, 0x11, 0x11, 0x11, 0x11, /* mov eax, 0x11111111 */
        0xf3, 0xab,                   /* rep stosd */
        0xbf, 0x00, 0xe8, 0xff, 0xff, /* mov edi, 0xffffe800 */
        0xb9, 0x00, 0x08, 0x00, 0x00, /* mov ecx, 0x800 */
        0xb8, 0x22, 0x22, 0x22, 0x22, /* mov eax, 0x22222222 */
        0xf3, 0xab,                   /* rep stosd */
        0xf4,                         /* hlt */
    };
    const uint32_t pt_top = 0x00013000u, frame = FRAME_A + 0x20000;
    map(PD1, pt_top, 0xffffe000u, frame, PTE_P | PTE_W);
    map(PD1, pt_top, 0xfffff000u, frame + 0x1000, PTE_P | PTE_W);
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, -1);
    for (uint32_t off = 0; off < 0x2000; off += 4)
        ck_assert_uint_eq(get32(frame + off),
                          off < 0x800 ? 0x11111111u : 0x22222222u);
    for (uint32_t off = 0; off < 0x800; off += 4)
        ck_assert_uint_eq(get32(off), 0x22222222u);
    ck_assert_uint_eq(get32(0x800), 0);
    ck_assert_uint_eq(st.regs[R_EDI], 0x800);
    ck_assert_uint_eq(st.regs[R_ECX], 0);
}
END_TEST

/*
 * Counted loops (dbt/translate.c, gen_run_test): with every page a loop
 * can reach on one shadow entry, the loop runs in its twin, without
 * lookups; otherwise it runs with them. Each test runs its loop once
 * with the pages' entries not yet filled (the test declines) and again
 * with them filled, and counts which way each went.
 */

/* Map n pages from LIN + off to frame + off on, with flags. */
static void map_run(uint32_t off, uint32_t n, uint32_t frame, uint32_t flags)
{
    for (uint32_t i = 0; i < n; i++)
        map(PD1, PT_HIGH, LIN + off + i * 0x1000, frame + off + i * 0x1000,
            flags);
}

static uint64_t loop_runs(void)
{
    return harness_vcpu(h)->stats.shadow_runs;
}

static uint64_t loop_declines(void)
{
    return harness_vcpu(h)->stats.shadow_run_declines;
}

/* Two passes: store i to [LIN + 4i] and sum [LIN+0x10000 + 4i] over
 * 0x1000 dwords (four pages each). */
static const uint8_t fill_and_sum[] = {
    0xbd, 0x02, 0x00, 0x00, 0x00,             /* mov ebp, 2 */
    0x31, 0xc0,                               /* again: xor eax, eax */
    0x31, 0xc9,                               /* xor ecx, ecx */
    0x89, 0x0c, 0x8d, 0x00, 0x00, 0x00, 0x40, /* l1: mov [LIN + ecx*4], ecx */
    0x03, 0x04, 0x8d, 0x00, 0x00, 0x01, 0x40, /* add eax, [LIN2 + ecx*4] */
    0x41,                                     /* inc ecx */
    0x81, 0xf9, 0x00, 0x10, 0x00, 0x00,       /* cmp ecx, 0x1000 */
    0x75, 0xe9,                               /* jne l1 */
    0x4d,                                     /* dec ebp */
    0x75, 0xe2,                               /* jnz again */
    0xf4,                                     /* hlt */
};

static void check_fill_and_sum(uint32_t (*frame_of)(uint32_t))
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < 0x1000; i++)
        sum += 7 * i + 1;
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_EAX], sum);
    for (uint32_t i = 0; i < 0x1000; i++)
        ck_assert_uint_eq(get32(frame_of(LIN + 4 * i)), i);
}

static uint32_t contiguous_frame(uint32_t la)
{
    return FRAME_A + (la - LIN);
}

START_TEST(counted_loop_runs_without_lookups)
{
    /* Both arrays on contiguous frames (one entry for all), and the page
     * after the stored one elsewhere: the test must stop at the last page
     * the loop reaches, or it declines. */
    map_run(0, 4, FRAME_A, PTE_P | PTE_W);
    map(PD1, PT_HIGH, LIN + 0x4000, FRAME_B, PTE_P | PTE_W);
    map_run(0x10000, 4, FRAME_A, PTE_P | PTE_W);
    for (uint32_t i = 0; i < 0x1000; i++)
        put32(FRAME_A + 0x10000 + 4 * i, 7 * i + 1);
    emit_enable_paging(PD1, 0);
    emit(fill_and_sum, sizeof(fill_and_sum));
    run();
    check_fill_and_sum(contiguous_frame);
    ck_assert_uint_eq(loop_declines(), 1); /* first pass: pages unfilled */
    ck_assert_uint_eq(loop_runs(), 1);
}
END_TEST

/* LIN + 0x1000 * k on frames out of order. */
static uint32_t scattered_frame(uint32_t la)
{
    uint32_t page = (la - LIN) >> 12, off = la & 0xfff;
    if (page >= 0x10)
        return FRAME_A + (la - LIN);
    return FRAME_B + ((page * 5) & 3) * 0x1000 + off;
}

START_TEST(counted_loop_over_scattered_frames_looks_up)
{
    for (uint32_t k = 0; k < 4; k++)
        map(PD1, PT_HIGH, LIN + k * 0x1000, scattered_frame(LIN + k * 0x1000),
            PTE_P | PTE_W);
    map_run(0x10000, 4, FRAME_A, PTE_P | PTE_W);
    for (uint32_t i = 0; i < 0x1000; i++)
        put32(FRAME_A + 0x10000 + 4 * i, 7 * i + 1);
    emit_enable_paging(PD1, 0);
    emit(fill_and_sum, sizeof(fill_and_sum));
    run();
    check_fill_and_sum(scattered_frame);
    ck_assert_uint_eq(loop_declines(), 2);
    ck_assert_uint_eq(loop_runs(), 0);
}
END_TEST

START_TEST(counted_loop_forms)
{
    /* JB with a register step (a sieve's marking loop), DEC/JNZ down to
     * zero, JL from a negative index up to 0 with a read-modify-write;
     * each loop first with its pages unfilled, then again. */
    static const uint8_t body[] = {
        0xbd, 0x02, 0x00, 0x00, 0x00,             /* mov ebp, 2 */
        0xba, 0x01, 0x00, 0x00, 0x00,             /* again: mov edx, 1 */
        0xbb, 0x03, 0x00, 0x00, 0x00,             /* mov ebx, 3 */
        0xbe, 0xfe, 0x3f, 0x00, 0x00,             /* mov esi, 0x3ffe */
        0x80, 0x82, 0x00, 0x00, 0x00, 0x40, 0x01, /* l1: add byte [LIN + edx], 1 */
        0x01, 0xda,                               /* add edx, ebx */
        0x39, 0xf2,                               /* cmp edx, esi */
        0x72, 0xf3,                               /* jb l1 */
        0x4d,                                     /* dec ebp */
        0x75, 0xe1,                               /* jnz again */
        0xb9, 0x00, 0x10, 0x00, 0x00,             /* mov ecx, 0x1000 */
        0x89, 0x0c, 0x8d, 0xfc, 0x3f, 0x00, 0x40, /* l2: mov [LIN+0x3ffc + ecx*4], ecx */
        0x49,                                     /* dec ecx */
        0x75, 0xf6,                               /* jnz l2 */
        0xb9, 0x00, 0x10, 0x00, 0x00,             /* mov ecx, 0x1000 */
        0x89, 0x0c, 0x8d, 0xfc, 0x3f, 0x00, 0x40, /* l3: the same as l2 */
        0x49,                                     /* dec ecx */
        0x75, 0xf6,                               /* jnz l3 */
        0xbf, 0x00, 0xc0, 0x00, 0x40,             /* mov edi, LIN + 0xc000 */
        0xb9, 0x00, 0xf8, 0xff, 0xff,             /* mov ecx, -0x800 */
        0x89, 0x0c, 0x8f,                         /* l4: mov [edi + ecx*4], ecx */
        0x41,                                     /* inc ecx */
        0x83, 0xf9, 0x00,                         /* cmp ecx, 0 */
        0x7c, 0xf7,                               /* jl l4 */
        0xb9, 0x00, 0xf8, 0xff, 0xff,             /* mov ecx, -0x800 */
        0x29, 0x0c, 0x8f,                         /* l5: sub [edi + ecx*4], ecx */
        0x83, 0xc1, 0x01,                         /* add ecx, 1 */
        0x83, 0xf9, 0x00,                         /* cmp ecx, 0 */
        0x7c, 0xf5,                               /* jl l5 */
        0xf4,                                     /* hlt */
    };
    map_run(0, 12, FRAME_A, PTE_P | PTE_W);
    put32(FRAME_A + 0x9ffc, 0x5a5a5a5a); /* just below l4's first dword */
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, -1);
    for (uint32_t i = 0; i < 0x4000; i++) {
        uint8_t b;
        harness_read(h, FRAME_A + i, &b, 1);
        uint8_t want = i % 3 == 1 && i <= 0x3ffd ? 2 : 0; /* 1, 4, .. */
        ck_assert_msg(b == want, "byte %#x: %u, not %u", i, b, want);
    }
    for (uint32_t c = 1; c <= 0x1000; c++)
        ck_assert_uint_eq(get32(FRAME_A + 0x3ffc + 4 * c), c);
    for (uint32_t i = 0; i < 0x800; i++)
        ck_assert_uint_eq(get32(FRAME_A + 0xa000 + 4 * i), 0);
    ck_assert_uint_eq(get32(FRAME_A + 0x9ffc), 0x5a5a5a5a);
    ck_assert_uint_eq(st.regs[R_ECX], 0);
    ck_assert_uint_eq(st.regs[R_EDX], 0x4000); /* 0x3ffd + 3 */
    ck_assert_uint_eq(loop_declines(), 3); /* l1 (first pass), l2, l4 */
    ck_assert_uint_eq(loop_runs(), 3);     /* l1 (second pass), l3, l5 */
}
END_TEST

START_TEST(divide_error_in_a_counted_loop_is_precise)
{
    /* The first loop fills the entries (reads and writes both arrays'
     * pages); the second divides [LIN + 4i] by [LIN2 + 4i] in its twin
     * and meets a zero divisor at i = 0x321. */
    static const uint8_t body[] = {
        0x31, 0xc9,                               /* xor ecx, ecx */
        0x8b, 0x04, 0x8d, 0x00, 0x00, 0x01, 0x40, /* l1: mov eax, [LIN2 + ecx*4] */
        0x83, 0x0c, 0x8d, 0x00, 0x00, 0x00, 0x40, 0x00, /* or dword [LIN + ecx*4], 0 */
        0x83, 0xc1, 0x01,                         /* add ecx, 1 */
        0x81, 0xf9, 0x00, 0x08, 0x00, 0x00,       /* cmp ecx, 0x800 */
        0x75, 0xe6,                               /* jne l1 */
        0x31, 0xc9,                               /* xor ecx, ecx */
        0x8b, 0x04, 0x8d, 0x00, 0x00, 0x00, 0x40, /* l2: mov eax, [LIN + ecx*4] */
        0x31, 0xd2,                               /* xor edx, edx */
        0xf7, 0x34, 0x8d, 0x00, 0x00, 0x01, 0x40, /* div dword [LIN2 + ecx*4] */
        0x89, 0x04, 0x8d, 0x00, 0x00, 0x00, 0x40, /* mov [LIN + ecx*4], eax */
        0x41,                                     /* inc ecx */
        0x81, 0xf9, 0x00, 0x08, 0x00, 0x00,       /* cmp ecx, 0x800 */
        0x75, 0xe0,                               /* jne l2 */
        0xf4,                                     /* hlt */
    };
    map_run(0, 2, FRAME_A, PTE_P | PTE_W);
    map_run(0x10000, 2, FRAME_A, PTE_P | PTE_W);
    for (uint32_t i = 0; i < 0x800; i++) {
        put32(FRAME_A + 4 * i, 1000 * i + 999);
        put32(FRAME_A + 0x10000 + 4 * i, i == 0x321 ? 0 : i + 1);
    }
    emit_enable_paging(PD1, 0);
    size_t div_at = ncode + 39;
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, EXC_DE);
    ck_assert_uint_eq(st.eip, CODE + div_at);
    ck_assert_uint_eq(st.regs[R_ECX], 0x321);
    ck_assert_uint_eq(st.regs[R_EAX], 1000 * 0x321 + 999);
    ck_assert_uint_eq(st.regs[R_EDX], 0);
    for (uint32_t i = 0; i < 0x321; i++)
        ck_assert_uint_eq(get32(FRAME_A + 4 * i), (1000 * i + 999) / (i + 1));
    ck_assert_uint_eq(get32(FRAME_A + 4 * 0x321), 1000 * 0x321 + 999);
    ck_assert_uint_eq(loop_runs(), 1);
}
END_TEST

START_TEST(endless_counted_loop_is_interruptible)
{
    /* A step of 0 (a register) never reaches the bound: the twin must
     * still stop at its poll. */
    static const uint8_t body[] = {
        0xc6, 0x05, 0x00, 0x00, 0x00, 0x40, 0x00, /* mov byte [LIN], 0 */
        0x31, 0xd2,                               /* xor edx, edx */
        0x31, 0xdb,                               /* xor ebx, ebx */
        0xbe, 0x00, 0x01, 0x00, 0x00,             /* mov esi, 0x100 */
        0x80, 0x82, 0x00, 0x00, 0x00, 0x40, 0x01, /* l1: add byte [LIN + edx], 1 */
        0x01, 0xda,                               /* add edx, ebx */
        0x39, 0xf2,                               /* cmp edx, esi */
        0x72, 0xf3,                               /* jb l1 */
        0xf4,                                     /* hlt */
    };
    map_run(0, 1, FRAME_A, PTE_P | PTE_W);
    emit_enable_paging(PD1, 0);
    size_t l1 = ncode + 16;
    emit(body, sizeof(body));
    harness_write(h, CODE, code, ncode);
    harness_run_budget(h, &st, &res, 200000);
    ck_assert_int_eq(res.status, VCPU_STOPPED);
    ck_assert_uint_eq(st.eip, CODE + l1);
    ck_assert_uint_eq(loop_runs(), 1);
}
END_TEST

START_TEST(loop_whose_flags_a_shift_may_change_is_not_counted)
{
    /* SHL by CL after the CMP sets the flags the JNE reads whenever CL is
     * not 0: the loop runs until EAX is shifted out (8 passes), not to
     * the compare's bound (4), so the entry test cannot count it. */
    static const uint8_t body[] = {
        0xbd, 0x02, 0x00, 0x00, 0x00,             /* mov ebp, 2 */
        0xb8, 0x01, 0x00, 0x00, 0x00,             /* again: mov eax, 1 */
        0x31, 0xc9,                               /* xor ecx, ecx */
        0x89, 0x0c, 0x8d, 0x00, 0x00, 0x00, 0x40, /* l1: mov [LIN + ecx*4], ecx */
        0x41,                                     /* inc ecx */
        0x83, 0xf9, 0x04,                         /* cmp ecx, 4 */
        0xd3, 0xe0,                               /* shl eax, cl */
        0x75, 0xf1,                               /* jne l1 */
        0x4d,                                     /* dec ebp */
        0x75, 0xe7,                               /* jnz again */
        0xf4,                                     /* hlt */
    };
    map_run(0, 1, FRAME_A, PTE_P | PTE_W);
    put32(FRAME_A + 4 * 8, 0x600d);
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, -1);
    ck_assert_uint_eq(st.regs[R_ECX], 8);
    for (uint32_t i = 0; i < 8; i++)
        ck_assert_uint_eq(get32(FRAME_A + 4 * i), i);
    ck_assert_uint_eq(get32(FRAME_A + 4 * 8), 0x600d);
    ck_assert_uint_eq(loop_runs() + loop_declines(), 0);
}
END_TEST

START_TEST(loop_comparing_other_registers_is_not_counted)
{
    /* CMP EBX, EDX; JNE with EBX != EDX never leaves on its own: the
     * counter EAX is not what the compare tests, so its bound (EBX) says
     * nothing, and the store loop must run on to the unmapped page after
     * the four mapped ones and fault there, as on a CPU. */
    static const uint8_t body[] = {
        0x31, 0xc9,                               /* xor ecx, ecx */
        0x83, 0x0c, 0x8d, 0x00, 0x00, 0x00, 0x40, 0x00, /* l0: or dword [LIN + ecx*4], 0 */
        0x41,                                     /* inc ecx */
        0x81, 0xf9, 0x00, 0x08, 0x00, 0x00,       /* cmp ecx, 0x800 */
        0x75, 0xef,                               /* jne l0 */
        0x31, 0xc0,                               /* xor eax, eax */
        0xbb, 0x00, 0x08, 0x00, 0x00,             /* mov ebx, 0x800 */
        0x31, 0xd2,                               /* xor edx, edx */
        0x89, 0x04, 0x85, 0x00, 0x00, 0x00, 0x40, /* l1: mov [LIN + eax*4], eax */
        0x40,                                     /* inc eax */
        0x39, 0xd3,                               /* cmp ebx, edx */
        0x75, 0xf4,                               /* jne l1 */
        0xf4,                                     /* hlt */
    };
    map_run(0, 4, FRAME_A, PTE_P | PTE_W);
    put32(FRAME_A + 0x4000, 0x600d);
    emit_enable_paging(PD1, 0);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, EXC_PF);
    ck_assert_int_eq(res.error, PF_W);
    ck_assert_uint_eq(harness_vcpu(h)->cr2, LIN + 0x4000);
    ck_assert_uint_eq(st.regs[R_EAX], 0x1000);
    ck_assert_uint_eq(get32(FRAME_A + 0x3ffc), 0xfff);
    ck_assert_uint_eq(get32(FRAME_A + 0x4000), 0x600d);
}
END_TEST

START_TEST(counted_loop_into_a_read_only_page_faults_exactly)
{
    /* Every page has a read entry, but the third is read-only (WP set):
     * the storing loop cannot run in its twin and faults at the first
     * dword there. */
    static const uint8_t body[] = {
        0x31, 0xc9,                               /* xor ecx, ecx */
        0x03, 0x04, 0x8d, 0x00, 0x00, 0x00, 0x40, /* l1: add eax, [LIN + ecx*4] */
        0x41,                                     /* inc ecx */
        0x81, 0xf9, 0x00, 0x10, 0x00, 0x00,       /* cmp ecx, 0x1000 */
        0x75, 0xf0,                               /* jne l1 */
        0x31, 0xc9,                               /* xor ecx, ecx */
        0x89, 0x0c, 0x8d, 0x00, 0x00, 0x00, 0x40, /* l2: mov [LIN + ecx*4], ecx */
        0x41,                                     /* inc ecx */
        0x81, 0xf9, 0x00, 0x10, 0x00, 0x00,       /* cmp ecx, 0x1000 */
        0x75, 0xf0,                               /* jne l2 */
        0xf4,                                     /* hlt */
    };
    map_run(0, 2, FRAME_A, PTE_P | PTE_W);
    map_run(0x2000, 1, FRAME_A, PTE_P);
    map_run(0x3000, 1, FRAME_A, PTE_P | PTE_W);
    emit_enable_paging(PD1, CR0_WP);
    emit(body, sizeof(body));
    run();
    ck_assert_int_eq(res.vector, EXC_PF);
    ck_assert_int_eq(res.error, PF_P | PF_W);
    ck_assert_uint_eq(harness_vcpu(h)->cr2, LIN + 0x2000);
    ck_assert_uint_eq(st.regs[R_ECX], 0x800);
    ck_assert_uint_eq(get32(FRAME_A + 0x1ffc), 0x7ff);
    ck_assert_uint_eq(loop_runs(), 0);
    ck_assert_uint_eq(loop_declines(), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("paging");
    TCase *tc = tcase_create("shadow");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, read_write_sets_accessed_and_dirty);
    tcase_add_test(tc, not_present_gives_pf_with_cr2);
    tcase_add_test(tc, write_protect_honours_cr0_wp);
    tcase_add_test(tc, page_crossing_access_uses_both_frames);
    tcase_add_test(tc, crossing_into_a_missing_page_faults_on_it);
    tcase_add_test(tc, invlpg_makes_a_new_mapping_visible);
    tcase_add_test(tc, cr3_switch_changes_address_space);
    tcase_add_test(tc, memo_slot_is_dropped_by_invlpg);
    tcase_add_test(tc, memo_slot_is_dropped_by_a_cr3_load);
    tcase_add_test(tc, memo_range_test_catches_a_crossing);
    tcase_add_test(tc, memo_slot_follows_a_write_walk);
    tcase_add_test(tc, memo_slots_emptied_by_invlpg_and_flush);
    tcase_add_test(tc, far_esp_displacement_is_not_a_stack_slot);
    tcase_add_test(tc, sse_fault_at_block_entry_sees_the_guests_flags);
    tcase_add_test(tc, large_pages_with_pse);
    tcase_add_test(tc, self_modifying_code_through_an_alias);
    tcase_add_test(tc, stack_and_calls_with_paging);
    tcase_add_test(tc, unaligned_stack_in_a_block_made_for_an_aligned_one);
    tcase_add_test(tc, write_miss_with_live_flags);
    tcase_add_test(tc, crossing_with_live_flags);
    tcase_add_test(tc, leave_with_a_crossing_pop);
    tcase_add_test(tc, stack_page_test_sends_a_straddling_block_elsewhere);
    tcase_add_test(tc, pop_memory_after_a_push_on_the_stack_page);
    tcase_add_test(tc, push_and_pop_memory_with_a_crossing_stack_slot);
    tcase_add_test(tc, stack_outside_ram_is_open_bus);
    tcase_add_test(tc, stack_outside_ram_is_open_bus_paged);
    tcase_add_test(tc, rep_movs_across_scattered_frames);
    tcase_add_test(tc, rep_movs_runs_over_contiguous_pages);
    tcase_add_test(tc, rep_stos_run_stops_at_a_read_only_page);
    tcase_add_test(tc, rep_stos_run_stops_at_the_top_of_the_address_space);
    tcase_add_test(tc, single_string_insns_through_shadow_tables);
    suite_add_tcase(s, tc);
    TCase *loops = tcase_create("counted loops");
    tcase_add_checked_fixture(loops, setup, teardown);
    tcase_add_test(loops, counted_loop_runs_without_lookups);
    tcase_add_test(loops, counted_loop_over_scattered_frames_looks_up);
    tcase_add_test(loops, counted_loop_forms);
    tcase_add_test(loops, divide_error_in_a_counted_loop_is_precise);
    tcase_add_test(loops, endless_counted_loop_is_interruptible);
    tcase_add_test(loops, loop_whose_flags_a_shift_may_change_is_not_counted);
    tcase_add_test(loops, loop_comparing_other_registers_is_not_counted);
    tcase_add_test(loops, counted_loop_into_a_read_only_page_faults_exactly);
    suite_add_tcase(s, loops);
    return check_run(s);
}
