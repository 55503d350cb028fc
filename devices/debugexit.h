/* SPDX-License-Identifier: MIT */
/* QEMU's isa-debug-exit: a guest write ends the run with a chosen status. */
#ifndef BT386_DEVICES_DEBUGEXIT_H
#define BT386_DEVICES_DEBUGEXIT_H

#include <stdint.h>

#include "devices/bus.h"

struct debugexit;

/*
 * Claim ports [iobase, iobase + iosize) on bus (QEMU's defaults are 0x501
 * and 2; lab Makefiles commonly pass iobase=0xf4,iosize=0x04). A write of
 * value v calls request_exit(ctx, (v << 1) | 1), which the board should
 * turn into the process exit status. A wide write that straddles the end of
 * the range arrives as byte writes, each calling request_exit, so the board
 * should keep the first request. Returns NULL when out of memory or when the
 * bus refuses the range.
 */
struct debugexit *debugexit_create(struct io_bus *bus, uint16_t iobase,
                                   uint16_t iosize,
                                   void (*request_exit)(void *ctx, int status),
                                   void *ctx);

/* The bus has no unregister: destroy the bus first, or stop accessing it. */
void debugexit_destroy(struct debugexit *d);

#endif
