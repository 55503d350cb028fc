/* SPDX-License-Identifier: MIT */
/* The guest page-table walker (32-bit paging: 4 KiB pages, 4 MiB PSE). */
#ifndef BT386_MMU_WALK_H
#define BT386_MMU_WALK_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* Access kinds. */
#define ACC_WRITE 0x2 /* same bit as the #PF error code's W/R */
#define ACC_USER  0x4 /* same bit as the #PF error code's U/S */
#define ACC_FETCH 0x8

/* Page-table entry bits. */
#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_U   0x004
#define PTE_A   0x020
#define PTE_D   0x040
#define PTE_PS  0x080 /* in a PDE: 4 MiB page */
#define PTE_G   0x100

/* #PF error code bits. */
#define PF_P 0x1 /* protection violation (else: not present) */
#define PF_W 0x2
#define PF_U 0x4

/* What a successful walk found. */
struct walk {
    uint32_t pa;       /* physical address of the linear address walked */
    bool writable;     /* a write at this privilege would be allowed */
    bool user;         /* the page is user-accessible */
    bool global;       /* G bit (with CR4.PGE) */
    bool dirty;        /* D is set (writes need no A/D update) */
};

/*
 * Translate linear address la for an access of kind `acc` (ACC_* bits)
 * through the guest's page tables at CR3, honouring CR0.WP and CR4.PSE.
 * On success fills *w, sets the Accessed bits (and Dirty for a write) in
 * guest memory, and returns 0. On a fault returns -1 with the #PF error
 * code in *err, and changes nothing. With paging off, la is physical.
 */
int mmu_walk(struct vcpu *v, uint32_t la, unsigned acc, struct walk *w,
             uint32_t *err);

#endif
