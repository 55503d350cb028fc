/* SPDX-License-Identifier: MIT */
/* The software access path: guest linear memory reached from C. */
#ifndef BT386_MMU_ACCESS_H
#define BT386_MMU_ACCESS_H

#include <stdint.h>

struct vcpu;

/*
 * Read or write size bytes (up to two pages' worth) at guest linear
 * address `linear`, at the vCPU's current privilege, through the guest's
 * page tables when paging is on. Physical addresses without RAM read as
 * all ones (an open bus) and drop writes. Returns 0, or -1 after raising
 * #PF (CR2 set) when a page is not accessible; a failed write writes
 * nothing.
 */
int mmu_read(struct vcpu *v, uint32_t linear, void *buf, unsigned size);
int mmu_write(struct vcpu *v, uint32_t linear, const void *buf, unsigned size);

#endif
