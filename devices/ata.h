/* SPDX-License-Identifier: MIT */
/* An ATA (IDE) channel: up to two hard disks, PIO and bus-master DMA. */
#ifndef BT386_DEVICES_ATA_H
#define BT386_DEVICES_ATA_H

#include <stdint.h>

#include "devices/bus.h"
#include "devices/disk.h"
#include "devices/dma.h"
#include "devices/irq.h"

/* The legacy (compatibility mode) channels of a PC. */
#define ATA_PRIMARY_BASE   0x1F0 /* command block, 8 ports */
#define ATA_PRIMARY_CTL    0x3F6 /* control block: one port */
#define ATA_PRIMARY_IRQ    14
#define ATA_SECONDARY_BASE 0x170
#define ATA_SECONDARY_CTL  0x376
#define ATA_SECONDARY_IRQ  15
#define ATA_BMDMA_PORTS    8 /* bus-master registers of one channel */

struct ata_channel;

/*
 * Create a channel and claim its command block [base, base + 8) and its
 * control block port base2 on bus; INTRQ drives irq. master and slave are
 * the disks of device 0 and 1 (NULL for none; a slave needs a master). With
 * no disk at all the channel is an empty cable: every register reads 0x7F.
 * The channel never closes the disks: close them after ata_destroy. ram is
 * what bus-master DMA reaches (the struct is copied; the memory and the
 * written hook must outlive the channel; NULL for no DMA, and IDENTIFY
 * then offers none). INTRQ is a level: it rises when the device wants
 * attention and falls when the host reads Status (not Alternate Status)
 * or writes a command. Returns NULL when out of memory, on a slave without
 * a master, or when the bus refuses.
 *
 * Not thread-safe: port accesses and the calls below must be serialized.
 */
struct ata_channel *ata_create(struct io_bus *bus, uint16_t base,
                               uint16_t base2, struct irq_line irq,
                               struct disk *master, struct disk *slave,
                               const struct dma_ram *ram);

/* Free the channel. The bus has no unregister: destroy the bus first. */
void ata_destroy(struct ata_channel *ch);

/*
 * Hardware reset: both devices to power-on defaults (signature in the
 * taskfile, DRDY, multiple mode 16, write cache on), the DMA engine idle,
 * INTRQ low.
 */
void ata_reset(struct ata_channel *ch);

/*
 * The channel's eight bus-master IDE registers (command, status, PRD table
 * address), for the controller to decode where its BAR puts them; offset
 * 0..7, size 1, 2 or 4. Setting the start bit runs a pending READ/WRITE DMA
 * to completion before returning.
 */
uint32_t ata_bmdma_read(struct ata_channel *ch, uint32_t offset, unsigned size);
void ata_bmdma_write(struct ata_channel *ch, uint32_t offset, unsigned size,
                     uint32_t value);

#endif
