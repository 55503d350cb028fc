/* SPDX-License-Identifier: MIT */
/* The 8042 keyboard controller with a PS/2 keyboard, and port 0x92. */
#ifndef BT386_DEVICES_I8042_H
#define BT386_DEVICES_I8042_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

struct i8042;

/*
 * Create the controller and claim ports 0x60 (data), 0x64 (status and
 * command) and 0x92 (system control port A, which shares the A20 gate and
 * the reset line) on bus. Keyboard bytes drive irq1, auxiliary-port bytes
 * irq12; the AUX port is there but has no device on it. reset(opaque) is
 * called for each pulse of the CPU reset line (command 0xFE and friends,
 * output port bit 0 written as 0, port 0x92 bit 0 set); the guest may pulse
 * it several times in a row. Returns NULL when out of memory or when the
 * bus refuses a port.
 *
 * Not thread-safe: port accesses and the calls below must be serialized.
 */
struct i8042 *i8042_create(struct io_bus *bus, struct irq_line irq1,
                           struct irq_line irq12, void (*reset)(void *opaque),
                           void *opaque);

/* Free the controller. The bus has no unregister: destroy the bus first. */
void i8042_destroy(struct i8042 *k);

/*
 * The state a BIOS leaves: command byte 0x45 (translation, system flag,
 * keyboard interrupt), A20 on, buffers empty, the keyboard reset and
 * scanning; port 0x92 reads 0. IRQs 1 and 12 are lowered.
 */
void i8042_reset(struct i8042 *k);

/*
 * Key events from the host: n bytes of scan code set 1, as a PC reads
 * them through the controller's set 2 to set 1 translation (make codes,
 * break codes with bit 7 set, 0xE0 / 0xE1 prefixes). They are dropped
 * while the keyboard is not scanning (after 0xF5, before 0xF4); bytes that
 * find the keyboard's buffer full are lost, and the keyboard reports the
 * overrun with 0xFF.
 */
void i8042_key(struct i8042 *k, const uint8_t *scancodes, size_t n);

/* The A20 gate: output port bit 1 or port 0x92 bit 1. */
bool i8042_a20(const struct i8042 *k);

#endif
