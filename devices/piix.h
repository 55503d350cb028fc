/* SPDX-License-Identifier: MIT */
/* The 440FX/PIIX3 chipset's PCI side: host bridge, ISA bridge, IDE. */
#ifndef BT386_DEVICES_PIIX_H
#define BT386_DEVICES_PIIX_H

#include "devices/ata.h"
#include "devices/bus.h"
#include "devices/disk.h"
#include "devices/dma.h"
#include "devices/irq.h"
#include "devices/pci.h"

/* Drive positions, the index into piix_create's disks[]. */
#define PIIX_PRIMARY_MASTER   0
#define PIIX_PRIMARY_SLAVE    1
#define PIIX_SECONDARY_MASTER 2
#define PIIX_SECONDARY_SLAVE  3
#define PIIX_DRIVES           4

/* Where the bus-master registers (BAR4) are at reset: SeaBIOS's choice. */
#define PIIX_BMIDE_BASE 0xC000

struct piix;

/*
 * Create PCI bus 0 (ports 0xCF8-0xCFF) with the 440FX host bridge at
 * 00:00.0, the PIIX3 ISA bridge at 00:01.0 and the PIIX3 IDE function at
 * 00:01.1, and both IDE channels in legacy mode: primary at 0x1F0-0x1F7 and
 * 0x3F6 on irq14, secondary at 0x170-0x177 and 0x376 on irq15, whatever
 * the BARs say. disks[] holds PIIX_DRIVES entries by position (NULL for
 * none; a slave needs its master); the PIIX never closes them: close them
 * after piix_destroy. ram is what IDE bus-master DMA reaches (NULL leaves
 * BAR4 at 0, and the guest driver falls back to PIO).
 *
 * No BIOS runs before the guest, so configuration space comes up as one
 * would leave it: IDE I/O and bus mastering enabled, BAR4 at
 * PIIX_BMIDE_BASE, both channels' decode enable bits set in IDETIM.
 *
 * Returns NULL when out of memory, on a slave without a master, or when
 * the bus refuses a port range. Not thread-safe: port accesses and the
 * calls below must be serialized.
 */
struct piix *piix_create(struct io_bus *io, struct irq_line irq14,
                         struct irq_line irq15,
                         struct disk *const disks[PIIX_DRIVES],
                         const struct dma_ram *ram);

/* Free the chipset. The I/O bus has no unregister: destroy it first. */
void piix_destroy(struct piix *p);

/* Reset: configuration space as above, both IDE channels reset. */
void piix_reset(struct piix *p);

/* The PCI bus, to add further functions or a 0xCF9 reset handler. */
struct pci_bus *piix_pci(struct piix *p);

#endif
