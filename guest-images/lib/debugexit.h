/* SPDX-License-Identifier: MIT */
/* Guest side: leave the emulator through QEMU's isa-debug-exit device. */
#ifndef GUEST_DEBUGEXIT_H
#define GUEST_DEBUGEXIT_H

#include <stdint.h>

/* The port bt386's and QEMU's test setups put the device at. */
#define DEBUG_EXIT_PORT 0xF4

/*
 * Write value to the debug-exit port: the emulator exits with status
 * (value << 1) | 1. Returns only when no such device is present.
 */
void debug_exit(uint32_t value);

#endif
