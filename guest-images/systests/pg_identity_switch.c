/* SPDX-License-Identifier: MIT */
/*
 * pg_identity_switch: turning paging on and off while running on an
 * identity map. One page of the kernel's data (WINDOW) is mapped to a
 * different frame, so a read tells which translation is in force: with
 * paging off linear = physical, with it on the page tables decide. Turning
 * paging off invalidates the whole TLB (SDM 4.10.4.1), so a PTE changed
 * while paging is off is seen when it is turned on again with the same
 * CR3, without INVLPG. Paging can also come back with another directory.
 */
#include "lib/paging.h"
#include "lib/sys.h"

#define PWU (PTE_P | PTE_W | PTE_U)

static volatile uint32_t window[1024] __attribute__((aligned(4096)));

static uint32_t window_read(void)
{
    return window[7];
}

void test_main(void)
{
    uint32_t *pd = pg_dir_new(), *pd2 = pg_dir_new();
    uint32_t *frame1 = pg_alloc(), *frame2 = pg_alloc(), *frame3 = pg_alloc();
    uint32_t lin = (uint32_t)window;
    unsigned bad = 0;

    window[7] = 0x0FF;
    frame1[7] = 0x111;
    frame2[7] = 0x222;
    frame3[7] = 0x333;
    pg_unshare(pd, lin);
    pg_unshare(pd2, lin);
    pg_map(pd, lin, (uint32_t)frame1, PWU);
    pg_map(pd2, lin, (uint32_t)frame3, PWU);

    check_eq("paging_off_reads_physical", 0x0FF, window_read());
    pg_enable(pd);
    check_eq("cr0_pg_set", CR0_PG, cr0_read() & CR0_PG);
    check_eq("paging_on_reads_mapped_frame", 0x111, window_read());
    pg_disable();
    check_eq("cr0_pg_clear", 0, cr0_read() & CR0_PG);
    check_eq("paging_off_again_reads_physical", 0x0FF, window_read());

    /* PTE changed while paging is off; back on with CR0 alone. */
    *pg_pte(pd, lin) = (uint32_t)frame2 | PWU;
    cr0_write(cr0_read() | CR0_PG);
    check_eq("paging_off_flushed_tlb", 0x222, window_read());
    pg_disable();

    pg_enable(pd2);
    check_eq("paging_on_with_other_directory", 0x333, window_read());
    pg_disable();

    for (unsigned i = 0; i < 100; i++) {
        pg_enable(i & 1 ? pd2 : pd);
        bad += window_read() != (i & 1 ? 0x333u : 0x222u);
        pg_disable();
        bad += window_read() != 0x0FF;
    }
    check_eq("toggle_100_times", 0, bad);
}
