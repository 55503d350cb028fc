// SPDX-License-Identifier: MIT
/* The guest page-table walker (32-bit paging: 4 KiB pages, 4 MiB PSE). */
#include "mmu/walk.h"
#include "monitor/vcpu.h"

#include <string.h>

/* Page tables live in guest RAM; anything outside reads as not present. */
static uint32_t pt_read(const struct vcpu *v, uint32_t pa)
{
    uint32_t e = 0;
    if (pa <= v->ram_size - 4)
        memcpy(&e, v->ram + pa, 4);
    return e;
}

static void pt_set_bits(struct vcpu *v, uint32_t pa, uint32_t e, uint32_t bits)
{
    if ((e & bits) != bits && pa <= v->ram_size - 4) {
        e |= bits;
        memcpy(v->ram + pa, &e, 4);
    }
}

/* Is an access of kind acc allowed on a page with these combined bits? */
static bool allowed(const struct vcpu *v, unsigned acc, uint32_t bits)
{
    if ((acc & ACC_USER) && !(bits & PTE_U))
        return false;
    if (!(acc & ACC_WRITE) || (bits & PTE_W))
        return true;
    return !(acc & ACC_USER) && !(v->cr0 & CR0_WP);
}

static void fill(const struct vcpu *v, struct walk *w, unsigned acc,
                 uint32_t pa, uint32_t bits, uint32_t leaf)
{
    w->pa = pa;
    w->user = bits & PTE_U;
    w->writable = allowed(v, ACC_WRITE | (acc & ACC_USER), bits);
    w->global = (v->cr4 & CR4_PGE) && (leaf & PTE_G);
    w->dirty = leaf & PTE_D;
}

int mmu_walk(struct vcpu *v, uint32_t la, unsigned acc, struct walk *w,
             uint32_t *err)
{
    uint32_t ucode = acc & (ACC_WRITE | ACC_USER);
    if (!(v->cr0 & CR0_PG)) {
        memset(w, 0, sizeof(*w));
        w->pa = la;
        w->writable = w->user = w->dirty = true;
        return 0;
    }
    uint32_t pde_pa = (v->cr3 & ~0xfffu) + ((la >> 22) << 2);
    uint32_t pde = pt_read(v, pde_pa);
    if (!(pde & PTE_P))
        goto not_present;
    if ((pde & PTE_PS) && (v->cr4 & CR4_PSE)) {
        if (!allowed(v, acc, pde))
            goto protection;
        pt_set_bits(v, pde_pa, pde, PTE_A | ((acc & ACC_WRITE) ? PTE_D : 0));
        fill(v, w, acc, (pde & 0xffc00000u) | (la & 0x3fffff), pde, pde);
        w->dirty = w->dirty || (acc & ACC_WRITE);
        return 0;
    }
    uint32_t pte_pa = (pde & ~0xfffu) + (((la >> 12) & 0x3ff) << 2);
    uint32_t pte = pt_read(v, pte_pa);
    if (!(pte & PTE_P))
        goto not_present;
    uint32_t bits = (pde & pte) & (PTE_U | PTE_W);
    if (!allowed(v, acc, bits))
        goto protection;
    pt_set_bits(v, pde_pa, pde, PTE_A);
    pt_set_bits(v, pte_pa, pte, PTE_A | ((acc & ACC_WRITE) ? PTE_D : 0));
    fill(v, w, acc, (pte & ~0xfffu) | (la & 0xfff), bits, pte);
    w->dirty = w->dirty || (acc & ACC_WRITE);
    return 0;
not_present:
    *err = ucode;
    return -1;
protection:
    *err = ucode | PF_P;
    return -1;
}
