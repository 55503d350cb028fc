/* SPDX-License-Identifier: MIT */
/* The I/O bus: devices register port (or MMIO) ranges with read/write ops. */
#ifndef BT386_DEVICES_BUS_H
#define BT386_DEVICES_BUS_H

#include <stdint.h>

/*
 * One I/O shape for port I/O and MMIO. Offsets are relative to the base the
 * device was registered at; size is 1, 2 or 4 bytes.
 */
struct io_ops {
    uint32_t (*read)(void *opaque, uint32_t offset, unsigned size);
    void (*write)(void *opaque, uint32_t offset, unsigned size, uint32_t value);
};

struct io_bus;

struct io_bus *bus_create(const char *name);
void bus_destroy(struct io_bus *bus);

/*
 * Claim [base, base + len) for a device. Returns 0, or -1 (and registers
 * nothing) when the range is empty or overlaps a range already claimed.
 */
int bus_register(struct io_bus *bus, uint32_t base, uint32_t len,
                 const struct io_ops *ops, void *opaque, const char *name);

/*
 * Access the bus. A read nobody claims returns all ones (an open ISA bus
 * floats high); a write nobody claims is dropped. Accesses that straddle a
 * device's end are split into single bytes.
 */
uint32_t bus_read(struct io_bus *bus, uint32_t addr, unsigned size);
void bus_write(struct io_bus *bus, uint32_t addr, unsigned size,
               uint32_t value);

/* Count of accesses nobody claimed (for --stats). */
uint64_t bus_unclaimed(const struct io_bus *bus);

#endif
