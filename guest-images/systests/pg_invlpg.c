/* SPDX-License-Identifier: MIT */
/*
 * pg_invlpg: changing page tables under a running TLB. After a PTE change
 * and INVLPG the new mapping (or its absence, or its new rights) is seen;
 * a PTE going from not present to present needs no flush (no TLB entry
 * exists for a not-present page); a write to a page made writable without
 * a flush either succeeds or faults once, after which the fault itself has
 * dropped the stale entry (SDM 4.10.4.3); INVLPG after pointing the PDE at
 * another page table is seen; INVLPG of an unmapped address does not
 * fault.
 */
#include "lib/paging.h"
#include "lib/sys.h"

#define PAGE  0x40000000u
#define PAGES 8
#define PWU   (PTE_P | PTE_W | PTE_U)

static uint32_t *pd;
static uint32_t *frames[2][PAGES];

static uint32_t read_at(uint32_t linear)
{
    return *(volatile uint32_t *)linear;
}

static void test_remap(void)
{
    volatile uint32_t *pte = pg_pte(pd, PAGE);
    unsigned bad = 0;

    check_eq("first_mapping", 0xA000, read_at(PAGE));
    *pte = (uint32_t)frames[1][0] | PWU;
    invlpg(PAGE);
    check_eq("invlpg_new_mapping_seen", 0xB000, read_at(PAGE));

    for (unsigned i = 0; i < PAGES; i++)
        read_at(PAGE + i * PAGE_SIZE);
    for (unsigned i = 0; i < PAGES; i++) {
        *pg_pte(pd, PAGE + i * PAGE_SIZE) = (uint32_t)frames[i % 2][i] | PWU;
        invlpg(PAGE + i * PAGE_SIZE);
    }
    for (unsigned i = 0; i < PAGES; i++)
        bad += read_at(PAGE + i * PAGE_SIZE) != (i % 2 ? 0xB000 : 0xA000) + i;
    check_eq("invlpg_each_of_8_pages", 0, bad);
}

static void test_presence(void)
{
    volatile uint32_t *pte = pg_pte(pd, PAGE);

    read_at(PAGE);
    *pte = 0;
    invlpg(PAGE);
    TRY("movl (%0), %%eax", : : "r"(PAGE) : "eax", "memory");
    check_trap("invlpg_unmapped_page_faults", VEC_PF, 0, try_at);
    *pte = (uint32_t)frames[0][0] | PWU; /* no flush needed */
    TRY("movl (%0), %%eax", : : "r"(PAGE) : "eax", "memory");
    check_no_trap("not_present_to_present_needs_no_invlpg");
    check_eq("not_present_to_present_value", 0xA000, read_at(PAGE));
    TRY("invlpg (%0)", : : "r"(0x7FFFF000) : "memory");
    check_no_trap("invlpg_unmapped_address_no_fault");
}

static void test_rights(void)
{
    volatile uint32_t *pte = pg_pte(pd, PAGE);
    unsigned faults;

    /* CR0.WP: read-only pages are read-only for CPL 0 too. */
    cr0_write(cr0_read() | CR0_WP);
    *(volatile uint32_t *)PAGE = 1;
    *pte = (uint32_t)frames[0][0] | PTE_P | PTE_U;
    invlpg(PAGE);
    TRY("movl %%eax, (%0)", : : "r"(PAGE), "a"(2) : "memory");
    check_trap("invlpg_now_read_only_write_faults", VEC_PF, PF_P | PF_W,
               try_at);

    /* Cache the read-only entry again (the fault dropped it), make the
     * page writable without a flush: at most one fault, then it works. */
    read_at(PAGE);
    *pte = (uint32_t)frames[0][0] | PWU;
    TRY("movl %%eax, (%0)", : : "r"(PAGE), "a"(3) : "memory");
    faults = caught.count;
    if (faults)
        TRY("movl %%eax, (%0)", : : "r"(PAGE), "a"(3) : "memory");
    check_no_trap("page_fault_drops_stale_entry");
    check_eq("stale_write_landed", 3, frames[0][0][0]);
    kprintf("info write through a stale read-only entry: %s\n",
            faults ? "faulted once" : "no fault");
    cr0_write(cr0_read() & ~CR0_WP);
}

static void test_pde(void)
{
    uint32_t *table = pg_alloc();

    read_at(PAGE);
    table[0] = (uint32_t)frames[1][3] | PWU;
    *pg_pde(pd, PAGE) = (uint32_t)table | PWU;
    invlpg(PAGE);
    check_eq("invlpg_after_pde_change", 0xB003, read_at(PAGE));
}

void test_main(void)
{
    for (unsigned f = 0; f < 2; f++)
        for (unsigned i = 0; i < PAGES; i++) {
            frames[f][i] = pg_alloc();
            frames[f][i][0] = (f ? 0xB000 : 0xA000) + i;
        }
    pd = pg_dir_new();
    for (unsigned i = 0; i < PAGES; i++)
        pg_map(pd, PAGE + i * PAGE_SIZE, (uint32_t)frames[0][i], PWU);
    pg_enable(pd);
    test_remap();
    test_presence();
    test_rights();
    test_pde();
    pg_disable();
}
