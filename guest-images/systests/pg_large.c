/* SPDX-License-Identifier: MIT */
/*
 * pg_large: 4 MiB pages (CR4.PSE, if CPUID advertises PSE). A PDE with PS
 * maps 4 MiB directly: reads and writes reach base + offset, A and D are
 * set in the PDE, faults report as for 4 KiB pages; with CR4.PSE clear the
 * PS bit is ignored and the PDE points to a page table. 4 KiB pages keep
 * working beside the large ones (the kernel runs on them).
 */
#include "lib/paging.h"
#include "lib/sys.h"

#define LARGE      0x40000000u /* linear 4 MiB region */
#define LARGE_PHYS 0x00800000u /* physical 8 MiB..12 MiB, identity-mapped */
#define OFFSET     0x00123450u /* an offset beyond the first 4 KiB page */
#define PWU        (PTE_P | PTE_W | PTE_U)

static uint32_t *pd;
static volatile uint32_t *pde;

static volatile uint32_t *phys(uint32_t offset)
{
    return (volatile uint32_t *)(LARGE_PHYS + offset);
}

static volatile uint32_t *lin(uint32_t offset)
{
    return (volatile uint32_t *)(LARGE + offset);
}

static void pde_set(uint32_t v)
{
    *pde = v;
    cr3_write(cr3_read());
}

static uint32_t user_read(uint32_t addr)
{
    TRY("movl (%0), %%eax", : : "r"(addr) : "eax", "memory");
    return 0;
}

static uint32_t user_write(uint32_t addr)
{
    TRY("movl %%eax, (%0)", : : "r"(addr), "a"(0x99) : "memory");
    return 0;
}

static void test_map(void)
{
    *phys(OFFSET) = 0x4D4D4D4D;
    *phys(0x3FFFFC) = 0x1A57;
    pde_set(LARGE_PHYS | PWU | PTE_PS);
    check_eq("large_read_base_plus_offset", 0x4D4D4D4D, *lin(OFFSET));
    check_eq("large_read_last_dword", 0x1A57, *lin(0x3FFFFC));
    check_eq("large_read_sets_pde_a", PTE_A, *pde & PTE_A);
    check_eq("large_read_leaves_pde_d", 0, *pde & PTE_D);
    *lin(OFFSET + 4) = 0xD1D1D1D1;
    check_eq("large_write_reaches_frame", 0xD1D1D1D1, *phys(OFFSET + 4));
    check_eq("large_write_sets_pde_d", PTE_D, *pde & PTE_D);
}

static void test_faults(void)
{
    pde_set((LARGE_PHYS | PTE_W | PTE_U | PTE_PS) & ~PTE_P);
    TRY("movl (%0), %%eax", : : "r"(lin(OFFSET)) : "eax", "memory");
    check_trap("large_not_present_read", VEC_PF, 0, try_at);
    check_eq("large_not_present_cr2", (uint32_t)lin(OFFSET), caught.cr2);

    pde_set(LARGE_PHYS | PTE_P | PTE_W | PTE_PS);
    user_call(user_read, (uint32_t)lin(OFFSET), EFL_FIXED);
    check_trap("large_supervisor_user_read", VEC_PF, PF_P | PF_U, try_at);

    pde_set(LARGE_PHYS | PTE_P | PTE_U | PTE_PS);
    user_call(user_read, (uint32_t)lin(OFFSET), EFL_FIXED);
    check_no_trap("large_readonly_user_read");
    user_call(user_write, (uint32_t)lin(OFFSET), EFL_FIXED);
    check_trap("large_readonly_user_write", VEC_PF, PF_P | PF_W | PF_U, try_at);
    check_eq("large_readonly_user_write_cr2", (uint32_t)lin(OFFSET),
             caught.cr2);
    pde_set(LARGE_PHYS | PWU | PTE_PS);
}

/* With CR4.PSE clear, PS is ignored: bits 31:12 of the PDE address a page
 * table, here the first 4 KiB of the region, holding one PTE. */
static void test_pse_off(void)
{
    uint32_t *frame = pg_alloc();
    volatile uint32_t *table = phys(0);

    frame[5] = 0x7AB1E;
    for (int i = 0; i < 1024; i++)
        table[i] = 0;
    table[(OFFSET >> 12) & 1023] = (uint32_t)frame | PWU;
    cr4_write(cr4_read() & ~CR4_PSE);
    pde_set(LARGE_PHYS | PWU | PTE_PS);
    check_eq("pse_off_ps_ignored_page_table", 0x7AB1E,
             *lin((OFFSET & ~0xFFFu) + 20));
    cr4_write(cr4_read() | CR4_PSE);
    cr3_write(cr3_read());
    *phys((OFFSET & ~0xFFFu) + 20) = 0x1A26E;
    check_eq("pse_on_again_large_page", 0x1A26E, *lin((OFFSET & ~0xFFFu) + 20));
}

void test_main(void)
{
    if (!(cpuid_features() & CPUID_PSE)) {
        check_skip("large_pages", "PSE not advertised");
        return;
    }
    pd = pg_dir_new();
    pde = pg_pde(pd, LARGE);
    cr4_write(cr4_read() | CR4_PSE);
    pg_enable(pd);
    test_map();
    test_faults();
    test_pse_off();
    pg_disable();
}
