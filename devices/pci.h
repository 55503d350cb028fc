/* SPDX-License-Identifier: MIT */
/* PCI bus 0 through configuration mechanism #1 (ports 0xCF8 and 0xCFC). */
#ifndef BT386_DEVICES_PCI_H
#define BT386_DEVICES_PCI_H

#include <stdint.h>

#include "devices/bus.h"

/* Registers: the type 0 configuration header */
#define PCI_VENDOR_ID      0x00 /* 16 bits */
#define PCI_DEVICE_ID      0x02 /* 16 bits */
#define PCI_COMMAND        0x04 /* 16 bits */
#define PCI_STATUS         0x06 /* 16 bits */
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09 /* programming interface */
#define PCI_CLASS_DEVICE   0x0A /* sub class, base class: 16 bits */
#define PCI_LATENCY_TIMER  0x0D
#define PCI_HEADER_TYPE    0x0E
#define PCI_BAR0           0x10 /* six 32-bit base address registers */
#define PCI_NUM_BARS       6
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN  0x3D
#define PCI_CONFIG_SIZE    256

/* Commands: command register */
#define PCI_COMMAND_IO     0x0001 /* decode I/O BARs */
#define PCI_COMMAND_MEMORY 0x0002 /* decode memory BARs */
#define PCI_COMMAND_MASTER 0x0004 /* may master the bus (DMA) */

/* Status: header type and BAR bits */
#define PCI_HEADER_MULTIFUNCTION 0x80 /* function 0 of a multi-function one */
#define PCI_BAR_IO               0x01 /* bit 0 of an I/O BAR */

/* A device number and function number as one 8-bit devfn. */
#define PCI_DEVFN(dev, fn) ((unsigned)(dev) << 3 | (unsigned)(fn))

struct pci_bus;
struct pci_func;

/* What never changes about a function. */
struct pci_ident {
    uint16_t vendor;
    uint16_t device;
    uint32_t class_code; /* base class << 16 | sub class << 8 | prog-if */
    uint8_t revision;
    uint8_t header_type; /* 0, or PCI_HEADER_MULTIFUNCTION on function 0 */
};

/*
 * Create bus 0 and claim ports 0xCF8-0xCFF on io: CONFIG_ADDRESS (32-bit
 * accesses only), the reset control register at 0xCF9 (bytes) and
 * CONFIG_DATA. Returns NULL when out of memory or when the bus refuses.
 *
 * Not thread-safe: port accesses and the calls below must be serialized.
 */
struct pci_bus *pci_create(struct io_bus *io);

/* Free the bus and its functions. The I/O bus has no unregister: destroy
 * it first. */
void pci_destroy(struct pci_bus *pci);

/* Every function's configuration space back to its reset values (the
 * ones its creator gave), and the BARs decoded accordingly. */
void pci_reset(struct pci_bus *pci);

/*
 * A write to 0xCF9 that sets bit 2 (reset CPU) calls request(opaque, hard)
 * with hard = bit 1 (system reset, rather than INIT only).
 */
void pci_set_reset_handler(struct pci_bus *pci,
                           void (*request)(void *opaque, int hard),
                           void *opaque);

/*
 * Add a function at devfn with id and a header whose only writable fields
 * are the command register's I/O, memory and bus master enables, the
 * latency timer and the interrupt line. Returns NULL when devfn is taken
 * or out of memory.
 */
struct pci_func *pci_add(struct pci_bus *pci, unsigned devfn,
                         const struct pci_ident *id);

/*
 * Set the reset value (now, too) and the writable bits of size (1, 2 or 4)
 * bytes at offset: for device-specific registers and for what firmware
 * would have set up.
 */
void pci_config_init(struct pci_func *f, unsigned offset, unsigned size,
                     uint32_t value, uint32_t wmask);

/*
 * Give BAR number bar an I/O range of size bytes (a power of two, 4 to
 * 256) reset to base (0 for unassigned). While the command register's I/O
 * enable is set and the BAR is nonzero, accesses at the BAR go to ops with
 * offsets from it. The I/O bus has no unregister, so each place the guest
 * moves the BAR to is claimed once and kept (up to a fixed number of
 * places; where the bus refuses one, the BAR decodes nothing). Returns 0,
 * or -1 for a bad bar or size.
 */
int pci_add_io_bar(struct pci_func *f, unsigned bar, uint32_t size,
                   uint16_t base, const struct io_ops *ops, void *opaque);

/* A configuration register as the guest would read it. */
uint32_t pci_config_read(struct pci_func *f, unsigned offset, unsigned size);

/* A configuration write as from the guest: writable bits only, and BAR
 * decoding follows. */
void pci_config_write(struct pci_func *f, unsigned offset, unsigned size,
                      uint32_t value);

#endif
