/* SPDX-License-Identifier: MIT */
/* Guest side: a small printf to the serial port, numbers by division. */
#include <stdarg.h>
#include <stdint.h>

#include "kprintf.h"
#include "serial.h"

/* A conversion's flags and width. */
struct spec {
    char pad; /* ' ' or '0' */
    unsigned width;
};

/* Print v in base 10 or 16, most significant digit first, padded. */
static void print_unsigned(uint32_t v, unsigned base, int negative,
                           struct spec sp)
{
    char buf[12];
    unsigned n = 0;

    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (negative && sp.pad == '0')
        serial_putc('-');
    for (unsigned w = n + (negative != 0); w < sp.width; w++)
        serial_putc(sp.pad);
    if (negative && sp.pad != '0')
        serial_putc('-');
    while (n)
        serial_putc(buf[--n]);
}

static void print_signed(int32_t v, struct spec sp)
{
    /* Negate in unsigned arithmetic: -INT32_MIN overflows int32_t. */
    uint32_t mag = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    print_unsigned(mag, 10, v < 0, sp);
}

static void print_string(const char *s, struct spec sp)
{
    unsigned len = 0;

    if (!s)
        s = "(null)";
    while (s[len])
        len++;
    for (; len < sp.width; len++)
        serial_putc(' ');
    serial_puts(s);
}

/* Print one conversion; c is the conversion character. */
static void print_one(char c, struct spec sp, va_list *ap)
{
    switch (c) {
    case 'c':
        serial_putc((char)va_arg(*ap, int));
        break;
    case 's':
        print_string(va_arg(*ap, const char *), sp);
        break;
    case 'd':
    case 'i':
        print_signed(va_arg(*ap, int32_t), sp);
        break;
    case 'u':
        print_unsigned(va_arg(*ap, uint32_t), 10, 0, sp);
        break;
    case 'x':
        print_unsigned(va_arg(*ap, uint32_t), 16, 0, sp);
        break;
    case 'p':
        serial_puts("0x");
        print_unsigned((uint32_t)va_arg(*ap, void *), 16, 0, sp);
        break;
    default: /* '%' and anything unknown are printed as they are */
        serial_putc(c);
        break;
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    while (*fmt) {
        if (*fmt != '%') {
            serial_putc(*fmt++);
            continue;
        }
        struct spec sp = {' ', 0};
        if (*++fmt == '0')
            sp.pad = *fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            sp.width = sp.width * 10 + (unsigned)(*fmt++ - '0');
        while (*fmt == 'l')
            fmt++;
        if (*fmt)
            print_one(*fmt++, sp, &ap);
    }
    va_end(ap);
}
