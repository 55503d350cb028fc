/* SPDX-License-Identifier: MIT */
/* Multiboot v1 loader: puts a kernel, its modules and the boot info in RAM. */
#ifndef BT386_MONITOR_MULTIBOOT_H
#define BT386_MONITOR_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

/* Multiboot header (in the kernel image). */
#define MB_HEADER_MAGIC  0x1BADB002u
#define MB_HEADER_SEARCH 8192 /* the header lies within this many bytes */
#define MB_FLAG_ALIGN    0x00000001u /* page-align modules */
#define MB_FLAG_MEMINFO  0x00000002u /* mem_* fields required */
#define MB_FLAG_VIDEO    0x00000004u /* video mode table wanted */
#define MB_FLAG_REQUIRED 0x0000FFFFu /* bits the loader must understand */
#define MB_FLAG_AOUT     0x00010000u /* header carries load addresses */

/* Multiboot information (built by the loader). */
#define MB_BOOT_MAGIC       0x2BADB002u /* in EAX at kernel entry */
#define MB_INFO_MEM         0x00000001u /* mem_lower, mem_upper */
#define MB_INFO_CMDLINE     0x00000004u
#define MB_INFO_MODS        0x00000008u
#define MB_INFO_MMAP        0x00000040u
#define MB_INFO_LOADER_NAME 0x00000200u

/* Byte offsets of the fields of the information structure. */
#define MBI_FLAGS       0
#define MBI_MEM_LOWER   4
#define MBI_MEM_UPPER   8
#define MBI_CMDLINE     16
#define MBI_MODS_COUNT  20
#define MBI_MODS_ADDR   24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR   48
#define MBI_LOADER_NAME 64
#define MBI_SIZE        88

/* A module entry: start, end (exclusive), string, reserved. */
#define MB_MOD_SIZE 16
/* A memory map entry: size (20, not counting itself), base, length, type. */
#define MB_MMAP_SIZE      24
#define MB_MMAP_AVAILABLE 1
#define MB_MMAP_RESERVED  2

/* The machine state a kernel is entered with: flat 32-bit protected mode,
 * paging off, interrupts off. */
struct boot_info {
    uint32_t entry;        /* physical EIP */
    uint32_t eax;          /* Multiboot: MB_BOOT_MAGIC */
    uint32_t ebx;          /* Multiboot: the information structure */
    uint32_t esi;          /* Linux: the zero page */
    uint16_t cs, ds;       /* selectors, or 0 for the defaults 0x08, 0x10 */
    uint32_t gdt_base;     /* GDTR, when cs is not 0 */
    uint16_t gdt_limit;
    uint32_t kernel_start; /* lowest physical byte of the kernel image */
    uint32_t kernel_end;   /* one past the highest, bss included */
};

/*
 * Read all of file NAME. Returns 0 and a malloc'ed *buf, or an errno value.
 */
int loader_slurp(const char *name, uint8_t **buf, size_t *size);

/*
 * Load kernel PATH into guest RAM (host pointer ram, size ram_size bytes,
 * guest physical 0 = ram[0]), with command line `append` (may be NULL) and
 * modules from `initrd` (NULL, or QEMU's syntax: comma-separated "file args"
 * list, ",," for a literal comma, each becoming a Multiboot module
 * page-aligned after the kernel, with its string). Fills *out with the entry
 * state. A Linux bzImage is loaded by the Linux boot protocol instead
 * (monitor/linuxboot.h), with `initrd` its one initrd file. Returns 0, or -1
 * with a one-line message (no "bt386:" prefix, no newline) in err. On
 * failure RAM may be partly written.
 */
int multiboot_load(const char *path, const char *append, const char *initrd,
                   uint8_t *ram, uint32_t ram_size, struct boot_info *out,
                   char *err, size_t errlen);

#endif
