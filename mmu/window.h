/* SPDX-License-Identifier: MIT */
/* The physical window: guest physical address space as one host range. */
#ifndef BT386_MMU_WINDOW_H
#define BT386_MMU_WINDOW_H

#include <stddef.h>
#include <stdint.h>

/*
 * Inaccessible space on both sides of the 4 GiB window. A string
 * instruction runs as the host's own with RSI/RDI pointing into the window,
 * and a REP MOVSD can move ECX * 4 = up to 16 GiB in either direction (DF)
 * before its 32-bit index would wrap; every byte of that must fault, never
 * reach host memory. Reserved, not backed: it costs address space only.
 */
#define WINDOW_GUARD (16ull << 30)

/*
 * Host layout: `base` is 4 GiB aligned, so the low 32 bits of a host
 * pointer into the window are the guest physical address. Guest RAM (a
 * memfd) is mapped at base; the rest of the 4 GiB, and the guard, are
 * PROT_NONE so stray accesses fault. `ram` is a second mapping of the same
 * memory for the monitor and devices, unaffected by write protection of
 * the window.
 */
struct window {
    uint8_t *base;     /* host address of guest physical 0; the guard
                          [base - WINDOW_GUARD, base + 4 GiB + WINDOW_GUARD)
                          is all reserved */
    uint8_t *reserve;  /* the whole reservation, for unmapping */
    size_t reserve_len;
    uint8_t *ram;      /* monitor's view of guest RAM */
    uint32_t ram_size; /* bytes */
    int ram_fd;
};

/* Map ram_size bytes of guest RAM. Returns 0, or -1 with a message in err. */
int window_create(struct window *w, uint32_t ram_size, char *err,
                  size_t errlen);
void window_destroy(struct window *w);

#endif
