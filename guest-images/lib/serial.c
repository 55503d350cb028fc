/* SPDX-License-Identifier: MIT */
/* Guest side: polled output on COM1, a 16550 UART at port 0x3F8. */
#include "io.h"
#include "serial.h"

#define COM1_BASE 0x3F8
#define UART_THR  0    /* transmit holding register (write) */
#define UART_LSR  5    /* line status register */
#define LSR_THRE  0x20 /* transmit holding register empty */

/*
 * Send one byte. No initialisation: the firmware (or QEMU, or bt386) leaves
 * the UART usable at its reset settings, and a first-light guest should
 * touch as few device registers as it can. '\n' is sent alone, not as
 * "\r\n", so the output captured by tests is plain text.
 */
void serial_putc(char c)
{
    while (!(inb(COM1_BASE + UART_LSR) & LSR_THRE))
        ;
    outb(COM1_BASE + UART_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}
