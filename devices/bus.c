/* SPDX-License-Identifier: MIT */
/* The I/O bus: a sorted table of claimed ranges, looked up by binary search. */
#include "devices/bus.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* One claimed range [base, base + len). */
struct bus_range {
    uint32_t base;            /* first address claimed */
    uint32_t len;             /* number of addresses claimed, never 0 */
    const struct io_ops *ops; /* the device's callbacks */
    void *opaque;             /* first argument to the callbacks */
    char *name;               /* device name, for diagnostics */
};

struct io_bus {
    char *name;               /* "io" or "mmio", for diagnostics */
    struct bus_range *ranges; /* sorted by base, never overlapping */
    unsigned count;           /* ranges in use */
    unsigned capacity;        /* ranges allocated */
    uint64_t unclaimed;       /* accesses nobody claimed */
};

/* All ones in the low `size` bytes: what a floating data bus reads as. */
static uint32_t bus_ones(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

struct io_bus *bus_create(const char *name)
{
    struct io_bus *bus = calloc(1, sizeof(*bus));

    if (!bus)
        return NULL;
    bus->name = strdup(name ? name : "bus");
    if (!bus->name) {
        free(bus);
        return NULL;
    }
    return bus;
}

void bus_destroy(struct io_bus *bus)
{
    if (!bus)
        return;
    for (unsigned i = 0; i < bus->count; i++)
        free(bus->ranges[i].name);
    free(bus->ranges);
    free(bus->name);
    free(bus);
}

/* Index of the first range whose base is above addr (0..count). */
static unsigned bus_upper_bound(const struct io_bus *bus, uint32_t addr)
{
    unsigned lo = 0, hi = bus->count;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (bus->ranges[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The range holding addr, or NULL when nobody claims it. */
static const struct bus_range *bus_find(const struct io_bus *bus, uint32_t addr)
{
    unsigned i = bus_upper_bound(bus, addr);
    const struct bus_range *r;

    if (i == 0)
        return NULL;
    r = &bus->ranges[i - 1];
    return addr - r->base < r->len ? r : NULL;
}

/* Room for one more range; false when out of memory. */
static bool bus_grow(struct io_bus *bus)
{
    unsigned cap = bus->capacity ? bus->capacity * 2 : 16;
    struct bus_range *r;

    if (bus->count < bus->capacity)
        return true;
    r = realloc(bus->ranges, cap * sizeof(*r));
    if (!r)
        return false;
    bus->ranges = r;
    bus->capacity = cap;
    return true;
}

/*
 * True when [base, end) overlaps nothing already claimed. Only the neighbours
 * of the insertion point i can overlap, because the table is sorted and
 * itself free of overlaps.
 */
static bool bus_range_free(const struct io_bus *bus, unsigned i, uint32_t base,
                           uint64_t end)
{
    if (i > 0) {
        const struct bus_range *prev = &bus->ranges[i - 1];
        if ((uint64_t)prev->base + prev->len > base)
            return false;
    }
    return i == bus->count || bus->ranges[i].base >= end;
}

/*
 * Also rejects (returns -1) a range that runs past the end of the 32-bit
 * address space. ops and opaque must outlive the bus: there is no unregister.
 */
int bus_register(struct io_bus *bus, uint32_t base, uint32_t len,
                 const struct io_ops *ops, void *opaque, const char *name)
{
    uint64_t end = (uint64_t)base + len;
    unsigned i = bus_upper_bound(bus, base);
    struct bus_range r;

    if (len == 0 || end > 0x100000000ull || !ops || !ops->read || !ops->write)
        return -1;
    if (!bus_range_free(bus, i, base, end) || !bus_grow(bus))
        return -1;
    r = (struct bus_range){base, len, ops, opaque, strdup(name ? name : "?")};
    if (!r.name)
        return -1;
    memmove(&bus->ranges[i + 1], &bus->ranges[i],
            (bus->count - i) * sizeof(bus->ranges[0]));
    bus->ranges[i] = r;
    bus->count++;
    return 0;
}

/* The range covering all of [addr, addr + size), or NULL. */
static const struct bus_range *bus_find_whole(const struct io_bus *bus,
                                              uint32_t addr, unsigned size)
{
    const struct bus_range *r = bus_find(bus, addr);

    if (r && (uint64_t)(addr - r->base) + size <= r->len)
        return r;
    return NULL;
}

/* True when some byte of [addr, addr + size) is claimed. */
static bool bus_any_claimed(const struct io_bus *bus, uint32_t addr,
                            unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        if (bus_find(bus, addr + i))
            return true;
    return false;
}

/*
 * An access that one device covers whole goes to it as is. One that nobody
 * claims at all reads all ones and counts once. Anything else straddles a
 * device boundary and is split into byte accesses, little-endian, as an ISA
 * bus splits a wide cycle for an 8-bit device; each unclaimed byte of it
 * reads 0xFF and counts.
 */
uint32_t bus_read(struct io_bus *bus, uint32_t addr, unsigned size)
{
    const struct bus_range *r = bus_find_whole(bus, addr, size);
    uint32_t value = 0;

    if (r)
        return r->ops->read(r->opaque, addr - r->base, size) & bus_ones(size);
    if (size == 1 || !bus_any_claimed(bus, addr, size)) {
        bus->unclaimed++;
        return bus_ones(size);
    }
    for (unsigned i = 0; i < size; i++)
        value |= bus_read(bus, addr + i, 1) << (8 * i);
    return value;
}

/* Same dispatch as bus_read; unclaimed writes are dropped and counted. */
void bus_write(struct io_bus *bus, uint32_t addr, unsigned size, uint32_t value)
{
    const struct bus_range *r = bus_find_whole(bus, addr, size);

    value &= bus_ones(size);
    if (r) {
        r->ops->write(r->opaque, addr - r->base, size, value);
        return;
    }
    if (size == 1 || !bus_any_claimed(bus, addr, size)) {
        bus->unclaimed++;
        return;
    }
    for (unsigned i = 0; i < size; i++)
        bus_write(bus, addr + i, 1, (value >> (8 * i)) & 0xFF);
}

uint64_t bus_unclaimed(const struct io_bus *bus)
{
    return bus->unclaimed;
}
