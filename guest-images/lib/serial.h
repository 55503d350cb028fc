/* SPDX-License-Identifier: MIT */
/* Guest side: polled output on the first serial port (COM1). */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

void serial_putc(char c);
void serial_puts(const char *s);

#endif
