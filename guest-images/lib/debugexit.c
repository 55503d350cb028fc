/* SPDX-License-Identifier: MIT */
/* Guest side: leave the emulator through QEMU's isa-debug-exit device. */
#include "debugexit.h"
#include "io.h"

/*
 * A 32-bit write, so the guest works with iosize=4 as in the usual
 * "-device isa-debug-exit,iobase=0xf4,iosize=0x04"; QEMU takes the value
 * of whatever width was written.
 */
void debug_exit(uint32_t value)
{
    outl(DEBUG_EXIT_PORT, value);
}
