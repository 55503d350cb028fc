/* SPDX-License-Identifier: MIT */
/* System tests: 32-bit (non-PAE) page tables over an identity map. */
#ifndef SYSTESTS_PAGING_H
#define SYSTESTS_PAGING_H

#include <stdint.h>

/* Page-directory and page-table entry bits. */
#define PTE_P    0x001u /* present */
#define PTE_W    0x002u /* writable */
#define PTE_U    0x004u /* user */
#define PTE_PWT  0x008u
#define PTE_PCD  0x010u
#define PTE_A    0x020u /* accessed */
#define PTE_D    0x040u /* dirty (PTE, or PDE of a 4 MiB page) */
#define PTE_PS   0x080u /* PDE: 4 MiB page (with CR4.PSE) */
#define PTE_G    0x100u /* global (with CR4.PGE) */
#define PTE_AVL  0xE00u /* ignored by the CPU, free for software */
#define PTE_ADDR 0xFFFFF000u

#define PAGE_SIZE         4096u
#define PG_IDENTITY_BYTES (16u << 20) /* linear = physical below 16 MiB */

/* #PF error code bits. */
#define PF_P 0x1u /* 1: protection violation, 0: not present */
#define PF_W 0x2u /* write */
#define PF_U 0x4u /* CPL 3 */

/* A zeroed 4 KiB page from a static pool (its linear address is its
 * physical address: the pool is in the identity-mapped kernel image). */
uint32_t *pg_alloc(void);

/* A new page directory: 0..16 MiB identity-mapped with P|W|U 4 KiB pages
 * (page tables shared by every directory), except page 0 (not present, so
 * a null pointer faults). */
uint32_t *pg_dir_new(void);

/* Give pd its own copy of the page table that maps linear (the identity
 * map's tables are shared by every directory), so that mapping changes in
 * that 4 MiB region affect pd alone. */
void pg_unshare(uint32_t *pd, uint32_t linear);

/* The PTE for linear in directory pd; the page table is allocated (PDE
 * P|W|U) if the PDE is not present. */
volatile uint32_t *pg_pte(uint32_t *pd, uint32_t linear);
/* The PDE for linear. */
volatile uint32_t *pg_pde(uint32_t *pd, uint32_t linear);

/* Map the 4 KiB page at linear to phys with flags (PTE_P etc.). The caller
 * flushes the TLB (invlpg) if the page may be cached. */
void pg_map(uint32_t *pd, uint32_t linear, uint32_t phys, uint32_t flags);

/* Load CR3 with pd and set CR0.PG; and back. */
void pg_enable(uint32_t *pd);
void pg_disable(void);

#endif
