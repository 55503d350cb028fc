/* SPDX-License-Identifier: MIT */
/* Bus-master IDE DMA (SFF-8038i) for one channel: registers and PRD walk. */
#ifndef BT386_DEVICES_BMDMA_H
#define BT386_DEVICES_BMDMA_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/dma.h"

#define BMDMA_PORTS 8 /* command, status, PRD table address, per channel */

/* Guest-visible registers of one channel's bus master. */
struct bmdma {
    uint8_t cmd;    /* command: start/stop and direction */
    uint8_t status; /* status: active, error, interrupt, DMA capable */
    uint32_t prdt;  /* physical address of the PRD table */
};

/* Where a transfer is in the PRD table. */
struct prd_cursor {
    uint32_t next; /* address of the next descriptor */
    uint32_t addr; /* next byte of the current region */
    uint32_t left; /* bytes left in the current region */
    bool eot;      /* the current region is the table's last */
};

/* Register access, offset 0..7, size 1, 2 or 4. bmdma_write returns true
 * when it set the start bit, so the caller can run a pending command. */
uint32_t bmdma_read(const struct bmdma *bm, uint32_t offset, unsigned size);
bool bmdma_write(struct bmdma *bm, uint32_t offset, unsigned size,
                 uint32_t value);

/* Started, and set to write memory (a device-to-memory transfer). */
bool bmdma_started(const struct bmdma *bm);
bool bmdma_to_memory(const struct bmdma *bm);

/* The channel's INTRQ rose: latch it in the status register. */
void bmdma_interrupt(struct bmdma *bm);

/* A cursor at the start of the PRD table. */
struct prd_cursor bmdma_begin(const struct bmdma *bm);

/*
 * Move len bytes between buf and the memory regions the PRD table
 * describes, from where c is. Returns 0, or -1 when the table ends first
 * or a descriptor or region lies outside ram (a master abort on the PIIX).
 */
int bmdma_move(const struct dma_ram *ram, struct prd_cursor *c, uint8_t *buf,
               uint32_t len, bool to_ram);

/*
 * The device finished: ACTIVE clears when the table was used up exactly
 * (a longer table is still a valid completion, ACTIVE left set) or on a
 * bus error, which also sets ERROR.
 */
void bmdma_end(struct bmdma *bm, const struct prd_cursor *c, bool bus_error);

#endif
