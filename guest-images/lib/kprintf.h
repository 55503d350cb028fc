/* SPDX-License-Identifier: MIT */
/* Guest side: a small printf to the serial port. */
#ifndef GUEST_KPRINTF_H
#define GUEST_KPRINTF_H

/*
 * Format to COM1. Understands %c %s %d %i %u %x %p %%, an optional '0' flag
 * and field width, and ignores the 'l' length modifier (long is 32 bits).
 */
__attribute__((format(printf, 1, 2))) void kprintf(const char *fmt, ...);

#endif
