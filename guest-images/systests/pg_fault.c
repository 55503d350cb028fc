/* SPDX-License-Identifier: MIT */
/*
 * pg_fault: page-fault error codes and CR2. Every combination of present
 * (P), read/write (W) and user/supervisor (U) in the error code, for reads,
 * writes and instruction fetches at CPL 0 and CPL 3, with the PDE's and the
 * PTE's rights combined; supervisor writes to read-only pages succeeding
 * with CR0.WP = 0 and faulting with CR0.WP = 1; a faulting write leaving
 * memory unchanged.
 *
 * With 32-bit paging and no SMEP the error code's I/D bit stays 0 for
 * instruction fetches (SDM 4.7), so fetch faults report like reads.
 */
#include "lib/paging.h"
#include "lib/sys.h"

#define PAGE    0x40000000u /* the linear page under test */
#define OFFSET  0x120u      /* where in it the accesses go */
#define PATTERN 0xC0FFEE00u

enum access { KREAD, KWRITE, UREAD, UWRITE, KFETCH, UFETCH };
#define NO_FAULT 0xFFFFFFFFu

static uint32_t *pd;
static volatile uint32_t *pde, *pte; /* the entries mapping PAGE */
static uint32_t *frame; /* physical page behind PAGE (identity-mapped) */

static uint32_t user_read(uint32_t addr)
{
    TRY(TRY_MARK "movl (%0), %%eax", : : "r"(addr) : "eax", "memory");
    return 0;
}

static uint32_t user_write(uint32_t addr)
{
    TRY(TRY_MARK "movl %%eax, (%0)", : : "r"(addr), "a"(0x11111111) : "memory");
    return 0;
}

/* Call addr: a fetch fault is at addr itself, after the CALL pushed its
 * return address (so ESP is restored after); the page holds RET at its
 * start, so a successful fetch comes straight back. */
static uint32_t user_fetch(uint32_t addr)
{
    TRY_FIX("movl %0, try_mark\n\t"
            "movl %%esp, %%ebx\n\t"
            "call *%0",
            "movl %%ebx, %%esp",
            :
            : "r"(addr)
            : "eax", "ebx", "ecx", "edx", "memory");
    return 0;
}

/* Run one access; a fault is expected at try_mark. */
static void access_run(enum access a)
{
    switch (a) {
    case KREAD:
        user_read(PAGE + OFFSET);
        break;
    case KWRITE:
        user_write(PAGE + OFFSET);
        break;
    case UREAD:
        user_call(user_read, PAGE + OFFSET, EFL_FIXED);
        break;
    case UWRITE:
        user_call(user_write, PAGE + OFFSET, EFL_FIXED);
        break;
    case KFETCH:
        user_fetch(PAGE);
        break;
    case UFETCH:
        user_call(user_fetch, PAGE, EFL_FIXED);
        break;
    }
}

/* Set the PDE and PTE rights of PAGE and CR0.WP, flush, run the access,
 * and check the fault (error code err, CR2) or its absence. */
static void pf_case(const char *name, uint32_t pde_rights, uint32_t pte_rights,
                    bool wp, enum access a, uint32_t err)
{
    uint32_t cr0 = cr0_read();

    *pde = (*pde & PTE_ADDR) | pde_rights;
    *pte = (uint32_t)frame | pte_rights;
    cr0_write(wp ? cr0 | CR0_WP : cr0 & ~CR0_WP);
    cr3_write(cr3_read()); /* drop the cached PDE and PTE */
    frame[0] = 0xC3;       /* RET, for the fetches */
    frame[OFFSET / 4] = PATTERN;
    access_run(a);
    cr0_write(cr0);
    if (err == NO_FAULT) {
        check_no_trap(name);
        return;
    }
    uint32_t addr = (a == KFETCH || a == UFETCH) ? PAGE : PAGE + OFFSET;
    if (caught.count == 1 && caught.vector == VEC_PF && caught.error == err &&
        caught.cr2 == addr && caught.eip == try_mark) {
        check_ok(name);
        return;
    }
    check_fail(name);
    kprintf("expected #PF(%x) cr2 %08x at %08x got %u exceptions: vector %u "
            "error %x cr2 %08x at %08x\n",
            err, addr, try_mark, caught.count, caught.vector, caught.error,
            caught.cr2, caught.eip);
}

#define PWU (PTE_P | PTE_W | PTE_U)

static void test_not_present(void)
{
    pf_case("np_kernel_read", PWU, 0, false, KREAD, 0);
    pf_case("np_kernel_write", PWU, 0, false, KWRITE, PF_W);
    pf_case("np_user_read", PWU, 0, false, UREAD, PF_U);
    pf_case("np_user_write", PWU, 0, false, UWRITE, PF_U | PF_W);
    pf_case("np_kernel_fetch", PWU, 0, false, KFETCH, 0);
    pf_case("np_user_fetch", PWU, 0, false, UFETCH, PF_U);
    /* Only the P bit matters: the other bits of the entry are free. */
    pf_case("np_pte_with_other_bits", PWU, PTE_W | PTE_U | PTE_AVL, false,
            UWRITE, PF_U | PF_W);
    pf_case("np_pde_kernel_read", PTE_W | PTE_U, PWU, false, KREAD, 0);
    pf_case("np_pde_user_write", PTE_W | PTE_U, PWU, false, UWRITE,
            PF_U | PF_W);
}

static void test_protection(void)
{
    /* Supervisor read-only page. */
    pf_case("s_ro_kernel_read", PWU, PTE_P, true, KREAD, NO_FAULT);
    pf_case("s_ro_kernel_write_wp0", PWU, PTE_P, false, KWRITE, NO_FAULT);
    check_eq("s_ro_kernel_write_wp0_stored", 0x11111111, frame[OFFSET / 4]);
    pf_case("s_ro_kernel_write_wp1", PWU, PTE_P, true, KWRITE, PF_P | PF_W);
    check_eq("s_ro_faulting_write_stores_nothing", PATTERN, frame[OFFSET / 4]);
    pf_case("s_ro_user_read", PWU, PTE_P, false, UREAD, PF_P | PF_U);
    pf_case("s_ro_user_write", PWU, PTE_P, false, UWRITE, PF_P | PF_W | PF_U);
    /* Supervisor read/write page. */
    pf_case("s_rw_kernel_write", PWU, PTE_P | PTE_W, true, KWRITE, NO_FAULT);
    pf_case("s_rw_user_read", PWU, PTE_P | PTE_W, false, UREAD, PF_P | PF_U);
    pf_case("s_rw_user_write", PWU, PTE_P | PTE_W, false, UWRITE,
            PF_P | PF_W | PF_U);
    pf_case("s_rw_kernel_fetch", PWU, PTE_P | PTE_W, false, KFETCH, NO_FAULT);
    pf_case("s_rw_user_fetch", PWU, PTE_P | PTE_W, false, UFETCH, PF_P | PF_U);
    /* User read-only page. */
    pf_case("u_ro_user_read", PWU, PTE_P | PTE_U, false, UREAD, NO_FAULT);
    pf_case("u_ro_user_write", PWU, PTE_P | PTE_U, false, UWRITE,
            PF_P | PF_W | PF_U);
    check_eq("u_ro_faulting_write_stores_nothing", PATTERN, frame[OFFSET / 4]);
    pf_case("u_ro_user_write_wp0_too", PWU, PTE_P | PTE_U, false, UWRITE,
            PF_P | PF_W | PF_U);
    pf_case("u_ro_kernel_write_wp0", PWU, PTE_P | PTE_U, false, KWRITE,
            NO_FAULT);
    pf_case("u_ro_kernel_write_wp1", PWU, PTE_P | PTE_U, true, KWRITE,
            PF_P | PF_W);
    pf_case("u_ro_user_fetch", PWU, PTE_P | PTE_U, false, UFETCH, NO_FAULT);
    /* User read/write page. */
    pf_case("u_rw_user_write", PWU, PWU, true, UWRITE, NO_FAULT);
    pf_case("u_rw_kernel_write_wp1", PWU, PWU, true, KWRITE, NO_FAULT);
}

/* The PDE's rights and the PTE's combine: the stricter wins. */
static void test_combined(void)
{
    pf_case("pde_super_pte_user_user_read", PTE_P | PTE_W, PWU, false, UREAD,
            PF_P | PF_U);
    pf_case("pde_super_pte_user_kernel_read", PTE_P | PTE_W, PWU, false, KREAD,
            NO_FAULT);
    pf_case("pde_ro_pte_rw_user_write", PTE_P | PTE_U, PWU, false, UWRITE,
            PF_P | PF_W | PF_U);
    pf_case("pde_ro_pte_rw_user_read", PTE_P | PTE_U, PWU, false, UREAD,
            NO_FAULT);
    pf_case("pde_ro_pte_rw_kernel_write_wp0", PTE_P | PTE_U, PWU, false, KWRITE,
            NO_FAULT);
    pf_case("pde_ro_pte_rw_kernel_write_wp1", PTE_P | PTE_U, PWU, true, KWRITE,
            PF_P | PF_W);
    pf_case("pde_rw_pte_ro_kernel_write_wp1", PWU, PTE_P | PTE_U, true, KWRITE,
            PF_P | PF_W);
}

void test_main(void)
{
    pd = pg_dir_new();
    frame = pg_alloc();
    pte = pg_pte(pd, PAGE);
    pde = pg_pde(pd, PAGE);
    pg_enable(pd);
    test_not_present();
    test_protection();
    test_combined();
    pg_disable();
}
