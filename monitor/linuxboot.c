/* SPDX-License-Identifier: MIT */
/* Linux/x86 32-bit boot protocol (Documentation/arch/x86/boot.rst): load a
 * bzImage without running its real-mode setup, as qemu -kernel does on a
 * machine with no BIOS. */
#include "monitor/linuxboot.h"
#include "monitor/multiboot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The setup header: offsets in the file and in the zero page alike. */
#define HDR_START          0x1F1 /* first byte of the header proper */
#define HDR_SETUP_SECTS    0x1F1 /* u8: real-mode setup size in sectors */
#define HDR_JUMP_LEN       0x201 /* u8: the header ends at 0x202 + this */
#define HDR_MAGIC          0x202 /* "HdrS" */
#define HDR_VERSION        0x206 /* u16: protocol version, major.minor */
#define HDR_VID_MODE       0x1FA /* u16 */
#define HDR_TYPE_OF_LOADER 0x210 /* u8 */
#define HDR_LOADFLAGS      0x211 /* u8 */
#define HDR_CODE32_START   0x214 /* u32: 32-bit entry and load address */
#define HDR_RAMDISK_IMAGE  0x218 /* u32 */
#define HDR_RAMDISK_SIZE   0x21C /* u32 */
#define HDR_HEAP_END_PTR   0x224 /* u16 */
#define HDR_CMD_LINE_PTR   0x228 /* u32 */
#define HDR_INITRD_MAX     0x22C /* u32: highest initrd byte (>= 2.03) */
#define HDR_CMDLINE_SIZE   0x238 /* u32: longest command line (>= 2.06) */
#define HDR_INIT_SIZE      0x260 /* u32: linear memory needed (>= 2.10) */
#define HDR_SEARCH_END     0x264 /* the fields above all lie before this */

/* The zero page (struct boot_params) outside the header. */
#define BP_SIZE         0x1000
#define BP_EXT_MEM_K    0x002 /* u16: KiB above 1 MiB, capped */
#define BP_ALT_MEM_K    0x1E0 /* u32: the same, uncapped */
#define BP_E820_ENTRIES 0x1E8 /* u8 */
#define BP_E820_TABLE   0x2D0 /* 20-byte entries: addr, size, type */
#define E820_ENTRY_SIZE 20
#define E820_RAM        1
#define E820_RESERVED   2

/* Protocol constants. */
#define PROTO_MIN           0x0204 /* 32-bit syssize; older is zImage era */
#define LOADFLAG_LOADED_HIGH 0x01   /* protected-mode code at 0x100000 */
#define LOADFLAG_CAN_USE_HEAP 0x80
#define LOADER_UNDEFINED    0xFF   /* type_of_loader: not a registered one */
#define VID_MODE_NORMAL     0xFFFF
#define INITRD_MAX_DEFAULT  0x37FFFFFFu /* before protocol 2.03 */
#define CMDLINE_MAX_DEFAULT 255         /* before protocol 2.06 */
#define SECTOR              512
#define DEFAULT_SETUP_SECTS 4 /* setup_sects 0 means 4 */

/* Where this loader puts things: low memory, below the EBDA. */
#define ZERO_PAGE_ADDR 0x10000u
#define CMDLINE_ADDR   0x20000u
#define GDT_ADDR       0x30000u
#define LOW_MEM_END    0x9FC00u
#define EBDA_END       0xA0000u
#define BIOS_ROM_START 0xF0000u
#define HIGH_MEM_START 0x100000u
#define PAGE_MASK      0xFFFu

/* The boot GDT: null, null, __BOOT_CS (0x10), __BOOT_DS (0x18). */
#define BOOT_CS      0x10
#define BOOT_DS      0x18
#define GDT_ENTRIES  4
#define DESC_CODE_4G 0x00CF9B000000FFFFull /* base 0, 4 GiB, exec/read, accessed */
#define DESC_DATA_4G 0x00CF93000000FFFFull /* base 0, 4 GiB, read/write, accessed */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Report "WHAT 'NAME': message". Returns -1. */
__attribute__((format(printf, 5, 6))) static int
fail(char *err, size_t errlen, const char *what, const char *name,
     const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "%s '%s': ", what, name);

    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - n, fmt, ap);
    va_end(ap);
    return -1;
}

bool linux_is_bzimage(const uint8_t *image, size_t size)
{
    return size >= HDR_MAGIC + 4 && memcmp(image + HDR_MAGIC, "HdrS", 4) == 0;
}

/* The PC memory map: as the Multiboot loader reports it. */
static void e820_write(uint8_t *bp, uint32_t ram_size)
{
    const struct {
        uint64_t base, len;
        uint32_t type;
    } map[] = {
        {0, LOW_MEM_END, E820_RAM},
        {LOW_MEM_END, EBDA_END - LOW_MEM_END, E820_RESERVED},
        {BIOS_ROM_START, HIGH_MEM_START - BIOS_ROM_START, E820_RESERVED},
        {HIGH_MEM_START, ram_size - HIGH_MEM_START, E820_RAM},
    };
    uint8_t n = 0;

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        uint8_t *e = bp + BP_E820_TABLE + n * E820_ENTRY_SIZE;
        put64(e, map[i].base);
        put64(e + 8, map[i].len);
        put32(e + 16, map[i].type);
        n++;
    }
    bp[BP_E820_ENTRIES] = n;
    uint32_t ext_k = (ram_size - HIGH_MEM_START) >> 10;
    put16(bp + BP_EXT_MEM_K, ext_k > 0xFFFF ? 0xFFFF : (uint16_t)ext_k);
    put32(bp + BP_ALT_MEM_K, ext_k);
}

/* Read the initrd and place it as high as RAM and the header allow, above
 * the kernel's working area [kstart, kend). */
static int initrd_place(const char *initrd, uint8_t *ram, uint32_t ram_size,
                        uint32_t max_addr, uint32_t kend, uint8_t *bp,
                        char *err, size_t errlen)
{
    uint8_t *buf;
    size_t size;
    int e = loader_slurp(initrd, &buf, &size);

    if (e)
        return fail(err, errlen, "initrd", initrd, "%s", strerror(e));
    uint64_t top = (uint64_t)max_addr + 1 < ram_size ? (uint64_t)max_addr + 1
                                                     : ram_size;
    if (size > top || ((top - size) & ~(uint64_t)PAGE_MASK) < kend) {
        free(buf);
        return fail(err, errlen, "initrd", initrd,
                    "does not fit in RAM (%zu bytes above the kernel, "
                    "below 0x%llx)",
                    size, (unsigned long long)top);
    }
    uint32_t at = (uint32_t)((top - size) & ~(uint64_t)PAGE_MASK);
    memcpy(ram + at, buf, size);
    free(buf);
    put32(bp + HDR_RAMDISK_IMAGE, at);
    put32(bp + HDR_RAMDISK_SIZE, (uint32_t)size);
    return 0;
}

int linux_load(const char *path, const uint8_t *image, size_t size,
               const char *append, const char *initrd, uint8_t *ram,
               uint32_t ram_size, struct boot_info *out, char *err,
               size_t errlen)
{
    if (size < HDR_SEARCH_END || !linux_is_bzimage(image, size))
        return fail(err, errlen, "kernel", path,
                    "truncated Linux setup header");
    uint16_t version = get16(image + HDR_VERSION);
    if (version < PROTO_MIN || !(image[HDR_LOADFLAGS] & LOADFLAG_LOADED_HIGH))
        return fail(err, errlen, "kernel", path,
                    "Linux boot protocol %u.%02u or a zImage is not "
                    "supported (needs a bzImage, protocol 2.04 or later)",
                    version >> 8, version & 0xFF);
    unsigned setup_sects = image[HDR_SETUP_SECTS] ? image[HDR_SETUP_SECTS]
                                                  : DEFAULT_SETUP_SECTS;
    size_t pm_off = (size_t)(setup_sects + 1) * SECTOR;
    if (pm_off >= size)
        return fail(err, errlen, "kernel", path,
                    "truncated (no protected-mode kernel after the %u "
                    "setup sectors)",
                    setup_sects);
    size_t pm_size = size - pm_off;
    uint32_t load = get32(image + HDR_CODE32_START);
    uint32_t init_size = version >= 0x020A ? get32(image + HDR_INIT_SIZE) : 0;
    uint64_t kend = (uint64_t)load +
                    (init_size > pm_size ? init_size : pm_size);
    if (load < HIGH_MEM_START || kend > ram_size)
        return fail(err, errlen, "kernel", path,
                    "does not fit in RAM (needs up to 0x%llx, RAM is %u MiB)",
                    (unsigned long long)kend, ram_size >> 20);
    uint32_t cmdline_max = version >= 0x0206 ? get32(image + HDR_CMDLINE_SIZE)
                                             : CMDLINE_MAX_DEFAULT;
    const char *cmdline = append ? append : "";
    size_t cmd_len = strlen(cmdline);
    if (cmd_len > cmdline_max || cmd_len >= ZERO_PAGE_ADDR)
        return fail(err, errlen, "kernel", path,
                    "command line of %zu bytes is longer than its %u-byte "
                    "limit",
                    cmd_len, cmdline_max);

    memcpy(ram + load, image + pm_off, pm_size);

    /* The zero page: the header as the file has it, then our answers. */
    uint8_t *bp = ram + ZERO_PAGE_ADDR;
    size_t hdr_end = HDR_MAGIC + image[HDR_JUMP_LEN];
    if (hdr_end > BP_SIZE || hdr_end > size)
        hdr_end = HDR_SEARCH_END;
    memset(bp, 0, BP_SIZE);
    memcpy(bp + HDR_START, image + HDR_START, hdr_end - HDR_START);
    bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
    bp[HDR_LOADFLAGS] &= (uint8_t)~LOADFLAG_CAN_USE_HEAP;
    put16(bp + HDR_VID_MODE, VID_MODE_NORMAL);
    put16(bp + HDR_HEAP_END_PTR, 0);
    memcpy(ram + CMDLINE_ADDR, cmdline, cmd_len + 1);
    put32(bp + HDR_CMD_LINE_PTR, CMDLINE_ADDR);
    e820_write(bp, ram_size);
    if (initrd) {
        uint32_t max = version >= 0x0203 ? get32(image + HDR_INITRD_MAX)
                                         : INITRD_MAX_DEFAULT;
        if (initrd_place(initrd, ram, ram_size, max, (uint32_t)kend, bp, err,
                         errlen) != 0)
            return -1;
    }

    uint8_t *gdt = ram + GDT_ADDR;
    memset(gdt, 0, GDT_ENTRIES * 8);
    put64(gdt + BOOT_CS, DESC_CODE_4G);
    put64(gdt + BOOT_DS, DESC_DATA_4G);
    *out = (struct boot_info){.entry = load,
                              .esi = ZERO_PAGE_ADDR,
                              .cs = BOOT_CS,
                              .ds = BOOT_DS,
                              .gdt_base = GDT_ADDR,
                              .gdt_limit = GDT_ENTRIES * 8 - 1,
                              .kernel_start = load,
                              .kernel_end = (uint32_t)kend};
    return 0;
}
