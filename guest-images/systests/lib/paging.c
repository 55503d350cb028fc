/* SPDX-License-Identifier: MIT */
/* System tests: 32-bit page tables over an identity map of low memory. */
#include "paging.h"
#include "cpu.h"
#include "debugexit.h"
#include "io.h"
#include "kprintf.h"
#include "kstring.h"

#define POOL_PAGES      96
#define IDENTITY_TABLES (PG_IDENTITY_BYTES >> 22)

static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(4096)));
static unsigned pool_used;
static uint32_t *identity_tables[IDENTITY_TABLES];

/* Out of pool pages is a bug in a test kernel: stop loudly. */
uint32_t *pg_alloc(void)
{
    if (pool_used == POOL_PAGES) {
        kprintf("FAIL paging pool exhausted\nFAIL\n");
        debug_exit(0x11);
        halt_forever();
    }
    uint32_t *p = (uint32_t *)pool[pool_used++];
    memset(p, 0, PAGE_SIZE);
    return p;
}

/* The shared page tables of the identity map, built on first use. */
static void identity_build(void)
{
    for (uint32_t t = 0; t < IDENTITY_TABLES; t++) {
        uint32_t *pt = pg_alloc();
        for (uint32_t i = 0; i < 1024; i++)
            pt[i] = ((t << 22) | (i << 12)) | PTE_P | PTE_W | PTE_U;
        identity_tables[t] = pt;
    }
    identity_tables[0][0] = 0; /* page 0: null pointers fault */
}

uint32_t *pg_dir_new(void)
{
    uint32_t *pd = pg_alloc();

    if (!identity_tables[0])
        identity_build();
    for (uint32_t t = 0; t < IDENTITY_TABLES; t++)
        pd[t] = (uint32_t)identity_tables[t] | PTE_P | PTE_W | PTE_U;
    return pd;
}

void pg_unshare(uint32_t *pd, uint32_t linear)
{
    uint32_t *copy = pg_alloc();

    memcpy(copy, (void *)(pd[linear >> 22] & PTE_ADDR), PAGE_SIZE);
    pd[linear >> 22] = (uint32_t)copy | (pd[linear >> 22] & ~PTE_ADDR);
}

volatile uint32_t *pg_pde(uint32_t *pd, uint32_t linear)
{
    return &pd[linear >> 22];
}

volatile uint32_t *pg_pte(uint32_t *pd, uint32_t linear)
{
    volatile uint32_t *pde = pg_pde(pd, linear);

    if (!(*pde & PTE_P))
        *pde = (uint32_t)pg_alloc() | PTE_P | PTE_W | PTE_U;
    uint32_t *pt = (uint32_t *)(*pde & PTE_ADDR);
    return &pt[(linear >> 12) & 1023];
}

void pg_map(uint32_t *pd, uint32_t linear, uint32_t phys, uint32_t flags)
{
    *pg_pte(pd, linear) = (phys & PTE_ADDR) | flags;
}

void pg_enable(uint32_t *pd)
{
    cr3_write((uint32_t)pd);
    cr0_write(cr0_read() | CR0_PG);
}

void pg_disable(void)
{
    cr0_write(cr0_read() & ~CR0_PG);
}
