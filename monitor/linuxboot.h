/* SPDX-License-Identifier: MIT */
/* The Linux/x86 32-bit boot protocol: a bzImage, its zero page and initrd. */
#ifndef BT386_MONITOR_LINUXBOOT_H
#define BT386_MONITOR_LINUXBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct boot_info;

/* Whether IMAGE (SIZE bytes) carries a Linux setup header ("HdrS"). */
bool linux_is_bzimage(const uint8_t *image, size_t size);

/*
 * Load bzImage IMAGE (read from PATH, for messages) as a boot loader using
 * the 32-bit boot protocol does: the protected-mode kernel at code32_start,
 * a zero page (struct boot_params) with the setup header, an e820 map and
 * the command line `append` (may be NULL), the initrd file `initrd` (NULL
 * for none) as high as the header allows, and a GDT with the flat
 * __BOOT_CS/__BOOT_DS descriptors. Fills *out (ESI = the zero page).
 * Returns 0, or -1 with a one-line message (no "bt386:" prefix) in err.
 */
int linux_load(const char *path, const uint8_t *image, size_t size,
               const char *append, const char *initrd, uint8_t *ram,
               uint32_t ram_size, struct boot_info *out, char *err,
               size_t errlen);

#endif
