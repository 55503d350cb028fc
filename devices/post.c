/* SPDX-License-Identifier: MIT */
/* POST code port: a BIOS writes its progress here for a POST card to show. */
#include "devices/post.h"

#include <stdlib.h>

/* Guest-visible state. */
struct post_regs {
    uint8_t code; /* last POST code written */
};

struct post {
    struct post_regs regs;
};

/* Reads give back the last code, like the latch on a POST card. */
static uint32_t post_read(void *opaque, uint32_t offset, unsigned size)
{
    const struct post *p = opaque;

    return p->regs.code;
}

/*
 * Linux (outb_p, slow_down_io) and BIOSes write port 0x80 as a short I/O
 * delay, often, so a write must be accepted quietly and cost nothing more.
 * The bus splits a wider write into bytes; this port sees the low one.
 */
static void post_write(void *opaque, uint32_t offset, unsigned size,
                       uint32_t value)
{
    struct post *p = opaque;

    p->regs.code = value & 0xFF;
}

static const struct io_ops post_ops = {
    .read = post_read,
    .write = post_write,
};

struct post *post_create(struct io_bus *bus, uint16_t port)
{
    struct post *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    if (bus_register(bus, port, 1, &post_ops, p, "post")) {
        free(p);
        return NULL;
    }
    return p;
}

void post_destroy(struct post *p)
{
    free(p);
}

uint8_t post_last(const struct post *p)
{
    return p->regs.code;
}
