/* SPDX-License-Identifier: MIT */
/* 16550A UART: a PC COM port, eight byte-wide registers at a base port. */
#ifndef BT386_DEVICES_UART_H
#define BT386_DEVICES_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/irq.h"

struct uart;

/*
 * Create a UART and claim ports [base, base + 8) on bus. Transmitted bytes
 * are written to out_fd at once (-1 discards them); in_fd (-1 for none) is
 * only recorded: input is read by the board's console (monitor/console.c)
 * on the vCPU thread, which calls uart_receive as the FIFO has room. The
 * UART never closes either fd. Returns NULL when out of memory or when the bus
 * refuses the ports.
 *
 * Not thread-safe: port accesses, uart_receive and uart_reset must be
 * serialized by the caller.
 */
struct uart *uart_create(struct io_bus *bus, uint16_t base, struct irq_line irq,
                         int out_fd, int in_fd);

/* Master reset, as the MR pin: registers to their datasheet reset values. */
void uart_reset(struct uart *u);

/*
 * Free the UART. The bus has no unregister, so destroy the bus first or never
 * access these ports again.
 */
void uart_destroy(struct uart *u);

/*
 * Host bytes arriving on the serial line, into the receiver. Bytes that find
 * the receiver full are lost and set LSR OE, as on the wire; bytes arriving
 * in loopback mode are lost, since the line input is disconnected then.
 */
void uart_receive(struct uart *u, const uint8_t *buf, size_t len);

/*
 * Bytes the receiver can take now without overrunning (0 in loopback).
 * A host console holds its input back until there is room, as a terminal
 * with flow control would.
 */
size_t uart_rx_room(const struct uart *u);

/*
 * Whether MCR OUT2 gates the interrupt output (the default, as on a PC).
 * Turn it off for guests written against QEMU, whose UART interrupts
 * regardless of OUT2: xv6, for one, writes MCR = 0 and still expects IRQ 4.
 */
void uart_set_out2_gate(struct uart *u, bool gate);

#endif
