/* SPDX-License-Identifier: MIT */
/* Guest side: the Multiboot v1 information structure a loader hands over. */
#ifndef GUEST_MBINFO_H
#define GUEST_MBINFO_H

#include <stdint.h>

#define MB_BOOT_MAGIC 0x2BADB002u /* in EAX at entry */

/* Which fields of struct mb_info are valid. */
#define MBI_FLAG_MEM     0x001u
#define MBI_FLAG_CMDLINE 0x004u
#define MBI_FLAG_MODS    0x008u
#define MBI_FLAG_MMAP    0x040u
#define MBI_FLAG_LOADER  0x200u

struct mb_info {
    uint32_t flags;
    uint32_t mem_lower; /* KiB of conventional memory */
    uint32_t mem_upper; /* KiB above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline; /* physical address of a NUL-terminated string */
    uint32_t mods_count;
    uint32_t mods_addr; /* array of struct mb_module */
    uint32_t syms[4];
    uint32_t mmap_length; /* bytes */
    uint32_t mmap_addr;   /* struct mb_mmap entries */
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
};

struct mb_module {
    uint32_t mod_start;
    uint32_t mod_end; /* one past the last byte */
    uint32_t string;
    uint32_t reserved;
};

/* A memory map entry; size counts the bytes after itself (20). */
struct mb_mmap {
    uint32_t size;
    uint64_t base_addr;
    uint64_t length;
    uint32_t type; /* 1 = available RAM */
} __attribute__((packed));

#endif
