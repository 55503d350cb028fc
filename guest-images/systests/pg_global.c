/* SPDX-License-Identifier: MIT */
/*
 * pg_global: global pages (CR4.PGE, if CPUID advertises PGE). Only what
 * the SDM guarantees is checked (4.10.4.1): after INVLPG, or after CR4.PGE
 * is toggled, a changed global mapping is seen; after a CR3 load a changed
 * non-global mapping is seen. Whether a global entry survives a CR3 load
 * is up to the implementation (it may, it need not): reported as "info".
 */
#include "lib/paging.h"
#include "lib/sys.h"

#define GLOBAL 0x40000000u /* mapped with G */
#define LOCAL  0x40001000u /* mapped without G */
#define PWU    (PTE_P | PTE_W | PTE_U)

static uint32_t *frames[4];

/* Frame i holds the value 0x100 + i in its first dword. */
static uint32_t tag(uint32_t linear)
{
    return *(volatile uint32_t *)linear;
}

void test_main(void)
{
    uint32_t *pd, cr4;
    volatile uint32_t *gpte, *lpte;

    if (!(cpuid_features() & CPUID_PGE)) {
        check_skip("global_pages", "PGE not advertised");
        return;
    }
    for (int i = 0; i < 4; i++) {
        frames[i] = pg_alloc();
        frames[i][0] = 0x100 + (uint32_t)i;
    }
    pd = pg_dir_new();
    pg_map(pd, GLOBAL, (uint32_t)frames[0], PWU | PTE_G);
    pg_map(pd, LOCAL, (uint32_t)frames[0], PWU);
    gpte = pg_pte(pd, GLOBAL);
    lpte = pg_pte(pd, LOCAL);
    cr4 = cr4_read();
    cr4_write(cr4 | CR4_PGE);
    pg_enable(pd);

    check_eq("global_mapping_read", 0x100, tag(GLOBAL));
    *gpte = (uint32_t)frames[1] | PWU | PTE_G;
    invlpg(GLOBAL);
    check_eq("invlpg_flushes_global_entry", 0x101, tag(GLOBAL));

    *gpte = (uint32_t)frames[2] | PWU | PTE_G;
    cr4_write(cr4 & ~CR4_PGE);
    cr4_write(cr4 | CR4_PGE);
    check_eq("pge_toggle_flushes_global_entry", 0x102, tag(GLOBAL));

    *gpte = (uint32_t)frames[3] | PWU | PTE_G;
    cr3_write(cr3_read());
    kprintf("info global entry %s a CR3 load\n",
            tag(GLOBAL) == 0x102 ? "survived" : "did not survive");
    invlpg(GLOBAL);
    check_eq("invlpg_after_cr3_load", 0x103, tag(GLOBAL));

    check_eq("local_mapping_read", 0x100, tag(LOCAL));
    *lpte = (uint32_t)frames[1] | PWU;
    cr3_write(cr3_read());
    check_eq("cr3_load_flushes_non_global_entry", 0x101, tag(LOCAL));

    /* A global page whose PTE loses G: INVLPG, then CR3 loads flush it. */
    *gpte = (uint32_t)frames[0] | PWU;
    invlpg(GLOBAL);
    check_eq("global_cleared_read", 0x100, tag(GLOBAL));
    *gpte = (uint32_t)frames[2] | PWU;
    cr3_write(cr3_read());
    check_eq("no_longer_global_flushed_by_cr3", 0x102, tag(GLOBAL));

    pg_disable();
    cr4_write(cr4);
}
