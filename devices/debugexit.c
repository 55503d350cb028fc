/* SPDX-License-Identifier: MIT */
/* isa-debug-exit, compatible with QEMU's hw/misc/debugexit.c. */
#include "devices/debugexit.h"

#include <stdlib.h>

/* No guest-visible state: the device only turns writes into exit requests. */
struct debugexit {
    void (*request_exit)(void *ctx, int status); /* board's exit hook */
    void *ctx;                                   /* its argument */
};

/*
 * QEMU reads as 0, not as an open bus's all ones; a guest can only tell the
 * device is there by that, so match it.
 */
static uint32_t debugexit_read(void *opaque, uint32_t offset, unsigned size)
{
    return 0;
}

/*
 * Any size, any offset. The status is (v << 1) | 1, as QEMU computes it, so
 * it is always odd and can never be mistaken for a clean exit (0); the OS
 * keeps its low 8 bits, so writing 0x10 gives exit status 33.
 */
static void debugexit_write(void *opaque, uint32_t offset, unsigned size,
                            uint32_t value)
{
    struct debugexit *d = opaque;
    uint32_t status = (value << 1) | 1;

    d->request_exit(d->ctx, (int)status);
}

static const struct io_ops debugexit_ops = {
    .read = debugexit_read,
    .write = debugexit_write,
};

struct debugexit *debugexit_create(struct io_bus *bus, uint16_t iobase,
                                   uint16_t iosize,
                                   void (*request_exit)(void *ctx, int status),
                                   void *ctx)
{
    struct debugexit *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->request_exit = request_exit;
    d->ctx = ctx;
    if (bus_register(bus, iobase, iosize, &debugexit_ops, d, "debugexit")) {
        free(d);
        return NULL;
    }
    return d;
}

void debugexit_destroy(struct debugexit *d)
{
    free(d);
}
