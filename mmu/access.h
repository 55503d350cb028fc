/* SPDX-License-Identifier: MIT */
/* The software access path: guest linear memory reached from C. */
#ifndef BT386_MMU_ACCESS_H
#define BT386_MMU_ACCESS_H

#include <stdint.h>

struct vcpu;

/*
 * Read or write size bytes (1..16) at guest linear address `linear`.
 * With paging off, linear is physical: RAM is read and written, anything
 * else reads as all ones (an open bus) and drops writes. Returns 0, or -1
 * when the access must fault (the caller raises the exception; paging).
 */
int mmu_read(struct vcpu *v, uint32_t linear, void *buf, unsigned size);
int mmu_write(struct vcpu *v, uint32_t linear, const void *buf, unsigned size);

#endif
