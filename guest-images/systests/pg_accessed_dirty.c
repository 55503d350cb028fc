/* SPDX-License-Identifier: MIT */
/*
 * pg_accessed_dirty: the accessed and dirty bits the CPU writes into the
 * page tables (SDM 4.8). A read sets A in the PDE and the PTE and leaves
 * D clear; a write sets D (also when the TLB already holds the entry from
 * a read); an instruction fetch sets A; a not-present entry is never
 * written; a write that faults for lack of write permission does not set
 * D. (Whether A is set by an access that faults on its rights is not
 * specified, so it is not checked; the PDE's bit 6 is ignored for 4 KiB
 * pages and not checked either.)
 */
#include "lib/paging.h"
#include "lib/sys.h"

#define PAGE 0x40000000u
#define CODE 0x40001000u
#define PWU  (PTE_P | PTE_W | PTE_U)

static uint32_t *pd;
static volatile uint32_t *pde, *pte, *code_pte;
static uint32_t *frame, *code_frame;

/* Clear A and D in the PDE and the PTEs, and flush the TLB. */
static void ad_clear(void)
{
    *pde &= ~(PTE_A | PTE_D);
    *pte &= ~(PTE_A | PTE_D);
    *code_pte &= ~(PTE_A | PTE_D);
    cr3_write(cr3_read());
}

static uint32_t read_page(void)
{
    return *(volatile uint32_t *)(PAGE + 8);
}

static void write_page(uint32_t v)
{
    *(volatile uint32_t *)(PAGE + 8) = v;
}

static uint32_t user_write(uint32_t addr)
{
    TRY("movl %%eax, (%0)", : : "r"(addr), "a"(0x77) : "memory");
    return 0;
}

static void test_data(void)
{
    ad_clear();
    read_page();
    check_eq("read_sets_pte_a", PTE_A, *pte & PTE_A);
    check_eq("read_sets_pde_a", PTE_A, *pde & PTE_A);
    check_eq("read_leaves_pte_d", 0, *pte & PTE_D);

    write_page(1);
    check_eq("write_after_read_sets_pte_d", PTE_D, *pte & PTE_D);

    ad_clear();
    write_page(2);
    check_eq("write_sets_pte_a_and_d", PTE_A | PTE_D, *pte & (PTE_A | PTE_D));
    check_eq("write_sets_pde_a", PTE_A, *pde & PTE_A);
    check_eq("write_went_to_frame", 2, frame[2]);

    /* Bits the CPU sets stay set: software alone clears them. */
    read_page();
    check_eq("a_d_sticky", PTE_A | PTE_D, *pte & (PTE_A | PTE_D));
}

static void test_fetch(void)
{
    ad_clear();
    ((void (*)(void))CODE)();
    check_eq("fetch_sets_code_pte_a", PTE_A, *code_pte & PTE_A);
    check_eq("fetch_leaves_code_pte_d", 0, *code_pte & PTE_D);
}

static void test_faulting(void)
{
    /* Not present: the CPU must not write the entry (its other bits are
     * the software's). */
    const uint32_t np = ((uint32_t)frame | PTE_W | PTE_U | PTE_AVL) & ~PTE_P;
    *pte = np;
    cr3_write(cr3_read());
    TRY("movl (%0), %%eax", : : "r"(PAGE) : "eax", "memory");
    check_trap("not_present_read_faults", VEC_PF, 0, try_at);
    TRY("movl %%eax, (%0)", : : "r"(PAGE) : "memory");
    check_trap("not_present_write_faults", VEC_PF, PF_W, try_at);
    check_eq("not_present_pte_untouched", np, *pte);

    /* Read-only user page, written from CPL 3: #PF, and D stays clear. */
    *pte = (uint32_t)frame | PTE_P | PTE_U;
    ad_clear();
    user_call(user_write, PAGE + 8, EFL_FIXED);
    check_trap("readonly_user_write_faults", VEC_PF, PF_P | PF_W | PF_U,
               try_at);
    check_eq("faulting_write_leaves_d", 0, *pte & PTE_D);
    *pte = (uint32_t)frame | PWU;
    cr3_write(cr3_read());
}

void test_main(void)
{
    pd = pg_dir_new();
    frame = pg_alloc();
    code_frame = pg_alloc();
    *(volatile uint8_t *)code_frame = 0xC3; /* RET */
    pg_map(pd, PAGE, (uint32_t)frame, PWU);
    pg_map(pd, CODE, (uint32_t)code_frame, PWU);
    pte = pg_pte(pd, PAGE);
    code_pte = pg_pte(pd, CODE);
    pde = pg_pde(pd, PAGE);
    pg_enable(pd);
    test_data();
    test_fetch();
    test_faulting();
    pg_disable();
}
