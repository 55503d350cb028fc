/* SPDX-License-Identifier: MIT */
/* The POST diagnostic port (0x80 on a PC): keeps the last code written. */
#ifndef BT386_DEVICES_POST_H
#define BT386_DEVICES_POST_H

#include <stdint.h>

#include "devices/bus.h"

struct post;

/* Claim one port on bus. NULL when out of memory or the bus refuses it. */
struct post *post_create(struct io_bus *bus, uint16_t port);

/* The bus has no unregister: destroy the bus first, or stop accessing it. */
void post_destroy(struct post *p);

/* The last code the guest wrote (0 before the first write). */
uint8_t post_last(const struct post *p);

#endif
