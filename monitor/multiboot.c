/* SPDX-License-Identifier: MIT */
/* Multiboot v1 loader: header search, a.out-kludge and ELF images, info. */
#include "monitor/multiboot.h"
#include "monitor/linuxboot.h"

#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE_SIZE      0x1000u
#define LOW_MEM_END    0x9FC00u  /* conventional RAM ends at the EBDA */
#define EBDA_END       0xA0000u  /* the VGA window starts here */
#define BIOS_ROM_START 0xF0000u  /* the system BIOS ROM */
#define HIGH_MEM_START 0x100000u /* extended memory starts at 1 MiB */
#define INFO_PREFERRED 0x9000u   /* where QEMU puts the info structure */
#define INFO_LOWEST    0x1000u   /* keep page 0 free so null stays null */
#define FILE_MAX       (1u << 30)
#define LOADER_NAME    "bt386"

/* A module placed in guest RAM. */
struct module {
    uint32_t start; /* physical, page aligned */
    uint32_t end;   /* one past the last byte */
    char *string;   /* "file args", as given */
};

/* One load in progress. */
struct loader {
    const char *path; /* kernel file name, for messages and the cmdline */
    uint8_t *image;   /* the whole kernel file */
    size_t image_size;
    uint8_t *ram;
    uint32_t ram_size;
    uint32_t kstart; /* physical extent of the kernel, bss included */
    uint32_t kend;
    uint32_t entry; /* physical entry point */
    struct module *mods;
    size_t nmods;
    char *err;
    size_t errlen;
};

/* Multiboot fields are little-endian, as is every host bt386 runs on. */
static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint64_t align_up(uint64_t v, uint32_t align)
{
    return (v + align - 1) & ~(uint64_t)(align - 1);
}

/* Write "WHAT 'NAME': " and the formatted message to err. */
__attribute__((format(printf, 5, 0))) static void
report(char *err, size_t errlen, const char *what, const char *name,
       const char *fmt, va_list ap)
{
    int n = snprintf(err, errlen, "%s '%s': ", what, name);

    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - n, fmt, ap);
}

/* Report a problem with the kernel file. Returns -1. */
__attribute__((format(printf, 2, 3))) static int
kernel_fail(struct loader *ld, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(ld->err, ld->errlen, "kernel", ld->path, fmt, ap);
    va_end(ap);
    return -1;
}

/* Report a problem with module file NAME. Returns -1. */
__attribute__((format(printf, 3, 4))) static int
initrd_fail(struct loader *ld, const char *name, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(ld->err, ld->errlen, "initrd", name, fmt, ap);
    va_end(ap);
    return -1;
}

/*
 * Read everything from fd into a new malloc'ed buffer. Returns 0 and sets
 * *buf, *size; or returns an errno value. Reads until EOF rather than
 * trusting st_size, so pipes and growing files work too.
 */
static int fd_slurp(int fd, uint8_t **buf, size_t *size)
{
    size_t cap = 65536, len = 0;
    uint8_t *b = malloc(cap);

    if (!b)
        return ENOMEM;
    for (;;) {
        if (len == cap) {
            uint8_t *nb = cap < FILE_MAX ? realloc(b, cap * 2) : NULL;
            if (!nb) {
                free(b);
                return cap < FILE_MAX ? ENOMEM : EFBIG;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, b + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(b);
            return e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *buf = b;
    *size = len;
    return 0;
}

/*
 * Read all of file NAME. Returns 0 and a malloc'ed *buf, or an errno value.
 * Directories are refused up front: open() accepts them on Linux and only
 * read() would fail, with a less direct story.
 */
int loader_slurp(const char *name, uint8_t **buf, size_t *size)
{
    struct stat st;
    int e = 0;
    int fd = open(name, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno;
    if (fstat(fd, &st) < 0)
        e = errno;
    else if (S_ISDIR(st.st_mode))
        e = EISDIR;
    else
        e = fd_slurp(fd, buf, size);
    close(fd);
    return e;
}

/*
 * Find the Multiboot header in the first 8192 bytes: a 4-byte aligned magic
 * with magic + flags + checksum == 0, all 12 bytes inside the window.
 * Returns its offset; -1 when no magic is there at all; -2 when every magic
 * found had a bad checksum.
 */
static long header_find(const uint8_t *img, size_t size)
{
    size_t limit = size < MB_HEADER_SEARCH ? size : MB_HEADER_SEARCH;
    long result = -1;

    for (size_t off = 0; off + 12 <= limit; off += 4) {
        if (get32(img + off) != MB_HEADER_MAGIC)
            continue;
        if (get32(img + off) + get32(img + off + 4) + get32(img + off + 8) == 0)
            return (long)off;
        result = -2;
    }
    return result;
}

/* Fail unless the kernel's extent [kstart, end) lies inside RAM. */
static int kernel_check_fit(struct loader *ld, uint64_t end)
{
    if (end <= ld->ram_size)
        return 0;
    return kernel_fail(
        ld, "does not fit in RAM (needs up to 0x%llx, RAM is %u MiB)",
        (unsigned long long)end, ld->ram_size >> 20);
}

/*
 * Load an image described by the a.out-kludge fields of the header at
 * hdr_off (flag bit 16): the file from the header's position minus
 * (header_addr - load_addr) is copied to load_addr. load_end_addr 0 means
 * "to the end of the file", bss_end_addr 0 means "no bss".
 */
static int aout_load(struct loader *ld, size_t hdr_off)
{
    const uint8_t *h = ld->image + hdr_off;

    if (hdr_off + 32 > ld->image_size)
        return kernel_fail(ld, "truncated (the Multiboot header lies past "
                               "the end of the file)");
    uint32_t header_addr = get32(h + 12), load_addr = get32(h + 16);
    uint32_t load_end = get32(h + 20), bss_end = get32(h + 24);

    if (header_addr < load_addr || header_addr - load_addr > hdr_off ||
        (load_end && load_end < load_addr))
        return kernel_fail(ld, "Multiboot a.out address fields are "
                               "inconsistent");
    size_t text_off = hdr_off - (header_addr - load_addr);
    uint64_t load_size =
        load_end ? load_end - load_addr : ld->image_size - text_off;
    if (text_off + load_size > ld->image_size)
        return kernel_fail(ld, "truncated (the a.out image lies past the end "
                               "of the file)");
    uint64_t mem_end = (uint64_t)load_addr + load_size;
    if (bss_end && bss_end < mem_end)
        return kernel_fail(ld, "Multiboot a.out address fields are "
                               "inconsistent");
    if (bss_end)
        mem_end = bss_end;
    if (kernel_check_fit(ld, mem_end))
        return -1;
    memcpy(ld->ram + load_addr, ld->image + text_off, load_size);
    memset(ld->ram + load_addr + load_size, 0, mem_end - load_addr - load_size);
    ld->kstart = load_addr;
    ld->kend = (uint32_t)mem_end;
    ld->entry = get32(h + 28);
    return 0;
}

/*
 * Check the parts of the ELF header libelf does not: 32-bit little-endian
 * EM_386 executable, and header tables inside the file (our own check, so
 * a truncated file gets a plain message instead of a libelf one).
 */
static int elf_check_header(struct loader *ld)
{
    const uint8_t *img = ld->image;
    Elf32_Ehdr eh;

    if (ld->image_size < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG) != 0 ||
        img[EI_CLASS] != ELFCLASS32 || img[EI_DATA] != ELFDATA2LSB)
        return kernel_fail(ld, "not a 32-bit x86 ELF executable (and no "
                               "Multiboot a.out address fields)");
    if (ld->image_size < sizeof(eh))
        return kernel_fail(ld, "truncated (the ELF header lies past the "
                               "end of the file)");
    memcpy(&eh, img, sizeof(eh));
    if (eh.e_machine != EM_386 || eh.e_type != ET_EXEC)
        return kernel_fail(ld, "not a 32-bit x86 ELF executable (and no "
                               "Multiboot a.out address fields)");
    /* Misaligned tables are invalid ELF, and libelf would hand them to us
     * in place, as misaligned structures. */
    if (eh.e_phnum && (eh.e_phentsize != sizeof(Elf32_Phdr) || eh.e_phoff % 4))
        return kernel_fail(ld, "malformed ELF program header table");
    if ((uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize >
        ld->image_size)
        return kernel_fail(ld, "truncated (the ELF program headers lie past "
                               "the end of the file)");
    /* e_shnum 0 with e_shoff set means "count in section 0": one entry. */
    uint64_t shnum = eh.e_shnum ? eh.e_shnum : (eh.e_shoff ? 1 : 0);
    if (eh.e_shoff + shnum * eh.e_shentsize > ld->image_size)
        return kernel_fail(ld, "truncated (the ELF section headers lie past "
                               "the end of the file)");
    return 0;
}

/*
 * Check every PT_LOAD segment: bytes inside the file, p_filesz <= p_memsz,
 * and [p_paddr, p_paddr + p_memsz) inside RAM. Records the kernel extent.
 */
static int segments_check(struct loader *ld, const Elf32_Phdr *ph, size_t n)
{
    uint64_t lo = UINT64_MAX, hi = 0;

    for (size_t i = 0; i < n; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        if (ph[i].p_filesz > ph[i].p_memsz)
            return kernel_fail(ld,
                               "malformed ELF segment %zu (file size "
                               "exceeds memory size)",
                               i);
        if ((uint64_t)ph[i].p_offset + ph[i].p_filesz > ld->image_size)
            return kernel_fail(ld,
                               "truncated (ELF segment %zu lies past the "
                               "end of the file)",
                               i);
        if (ph[i].p_memsz == 0)
            continue;
        uint64_t end = (uint64_t)ph[i].p_paddr + ph[i].p_memsz;
        lo = ph[i].p_paddr < lo ? ph[i].p_paddr : lo;
        hi = end > hi ? end : hi;
    }
    if (lo == UINT64_MAX)
        return kernel_fail(ld, "ELF file has no loadable segments");
    if (kernel_check_fit(ld, hi))
        return -1;
    ld->kstart = (uint32_t)lo;
    ld->kend = (uint32_t)hi;
    return 0;
}

/*
 * Copy the PT_LOAD segments to their physical addresses, zero their bss, and
 * translate the entry point. A higher-half kernel links at virtual addresses
 * (p_vaddr) but loads at p_paddr, and nothing maps the former yet; so, as
 * QEMU does, an entry inside a segment's virtual range is moved to the same
 * offset in its physical range.
 */
static void segments_copy(struct loader *ld, const Elf32_Phdr *ph, size_t n,
                          uint32_t e_entry)
{
    ld->entry = e_entry;
    for (size_t i = 0; i < n; i++) {
        if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
            continue;
        uint8_t *dst = ld->ram + ph[i].p_paddr;
        memcpy(dst, ld->image + ph[i].p_offset, ph[i].p_filesz);
        memset(dst + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
        if (e_entry - ph[i].p_vaddr < ph[i].p_memsz)
            ld->entry = ph[i].p_paddr + (e_entry - ph[i].p_vaddr);
    }
}

/* Load a 32-bit x86 ELF executable through libelf. */
static int elf_load(struct loader *ld)
{
    size_t n;
    int rc = -1;

    if (elf_check_header(ld))
        return -1;
    elf_version(EV_CURRENT);
    Elf *e = elf_memory((char *)ld->image, ld->image_size);
    Elf32_Ehdr *eh = e ? elf32_getehdr(e) : NULL;
    Elf32_Phdr *ph = eh ? elf32_getphdr(e) : NULL;

    if (!ph || elf_getphdrnum(e, &n) != 0)
        kernel_fail(ld, "bad ELF file (%s)", elf_errmsg(-1));
    else if (segments_check(ld, ph, n) == 0) {
        segments_copy(ld, ph, n, eh->e_entry);
        rc = 0;
    }
    elf_end(e);
    return rc;
}

/*
 * Load the kernel image: find the Multiboot header and load either by its
 * a.out fields or as ELF.
 */
static int kernel_load(struct loader *ld)
{
    const uint32_t known = MB_FLAG_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_VIDEO;

    long off = header_find(ld->image, ld->image_size);
    if (off == -1)
        return kernel_fail(ld, "no Multiboot header in the first %u bytes",
                           MB_HEADER_SEARCH);
    if (off == -2)
        return kernel_fail(ld, "Multiboot header checksum is wrong");
    /*
     * Bit 2 (video mode) is accepted and ignored, as QEMU does: we only
     * offer text mode, which kernels asking for it must cope with anyway.
     */
    uint32_t unknown = get32(ld->image + off + 4) & MB_FLAG_REQUIRED & ~known;
    if (unknown)
        return kernel_fail(ld,
                           "requires unsupported Multiboot features "
                           "(flags 0x%x)",
                           unknown);
    if (get32(ld->image + off + 4) & MB_FLAG_AOUT)
        return aout_load(ld, (size_t)off);
    return elf_load(ld);
}

/*
 * Copy the next item of a QEMU option list (items separated by ',', with
 * ",," standing for a literal comma) from p into out, which has room for
 * strlen(p) + 1 bytes. Returns a pointer to the separator or the final NUL.
 */
static const char *opt_next(const char *p, char *out)
{
    size_t n = 0;

    while (*p) {
        if (*p == ',' && p[1] != ',')
            break;
        if (*p == ',')
            p++;
        out[n++] = *p++;
    }
    out[n] = '\0';
    return p;
}

/*
 * Load one module ITEM ("file args") at the first page boundary after
 * everything loaded so far; the whole item becomes the module's string, as
 * under QEMU and GRUB.
 */
static int module_load(struct loader *ld, char *item)
{
    uint64_t start = ld->nmods ? ld->mods[ld->nmods - 1].end : ld->kend;
    char *space = strchr(item, ' ');
    uint8_t *buf;
    size_t size;

    start = align_up(start, PAGE_SIZE);
    if (space)
        *space = '\0';
    int e = loader_slurp(item, &buf, &size);
    if (e)
        return initrd_fail(ld, item, "%s", strerror(e));
    /* After a kernel loaded below 1 MiB, a module must not reach the EBDA,
     * the VGA window or the BIOS area (where the ACPI tables go). */
    if (start < HIGH_MEM_START && start + size > LOW_MEM_END)
        start = HIGH_MEM_START;
    if (start + size > ld->ram_size) {
        free(buf);
        return initrd_fail(ld, item, "does not fit in RAM");
    }
    memcpy(ld->ram + start, buf, size);
    free(buf);
    if (space)
        *space = ' ';
    struct module *m = &ld->mods[ld->nmods++];
    m->start = (uint32_t)start;
    m->end = (uint32_t)(start + size);
    m->string = strdup(item);
    return m->string ? 0 : initrd_fail(ld, item, "%s", strerror(ENOMEM));
}

/* Load every module named in the QEMU-style list INITRD (may be NULL). */
static int modules_load(struct loader *ld, const char *initrd)
{
    size_t len = initrd ? strlen(initrd) : 0;
    int rc = 0;

    if (!initrd)
        return 0;
    /* An upper bound on the count: one more than the commas. */
    size_t max = 1;
    for (const char *c = initrd; *c; c++)
        max += *c == ',';
    char *item = malloc(len + 1);
    ld->mods = calloc(max, sizeof(*ld->mods));
    if (!item || !ld->mods) {
        free(item);
        return initrd_fail(ld, initrd, "%s", strerror(ENOMEM));
    }
    for (const char *p = initrd; rc == 0; p++) {
        p = opt_next(p, item);
        rc = module_load(ld, item);
        if (*p != ',')
            break;
    }
    free(item);
    return rc;
}

/* The firmware memory map of the PC bt386 presents. */
static size_t mmap_write(uint8_t *p, uint32_t ram_size)
{
    const struct {
        uint64_t base, len;
        uint32_t type;
    } map[] = {
        {0, LOW_MEM_END, MB_MMAP_AVAILABLE},
        {LOW_MEM_END, EBDA_END - LOW_MEM_END, MB_MMAP_RESERVED},
        {BIOS_ROM_START, HIGH_MEM_START - BIOS_ROM_START, MB_MMAP_RESERVED},
        {HIGH_MEM_START, ram_size - HIGH_MEM_START, MB_MMAP_AVAILABLE},
    };
    size_t n = 0;

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].len == 0)
            continue;
        put32(p + n * MB_MMAP_SIZE, MB_MMAP_SIZE - 4);
        put64(p + n * MB_MMAP_SIZE + 4, map[i].base);
        put64(p + n * MB_MMAP_SIZE + 12, map[i].len);
        put32(p + n * MB_MMAP_SIZE + 20, map[i].type);
        n++;
    }
    return n * MB_MMAP_SIZE;
}

/*
 * Pick where the information block of SIZE bytes goes: below 640 KiB,
 * above page 0, clear of [lo, hi) (kernel and modules). QEMU's address
 * first, so a guest sees the same layout as under QEMU when it can.
 * Returns 0 when nothing fits.
 */
static uint32_t info_place(uint64_t size, uint32_t lo, uint32_t hi)
{
    const uint64_t candidates[] = {INFO_PREFERRED, INFO_LOWEST,
                                   align_up(hi, 16)};

    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        uint64_t c = candidates[i];
        if (c >= INFO_LOWEST && c + size <= LOW_MEM_END &&
            (c + size <= lo || c >= hi))
            return (uint32_t)c;
    }
    return 0;
}

/* Copy string S to guest physical *at; advance *at; return its address. */
static uint32_t string_put(uint8_t *ram, uint32_t *at, const char *s)
{
    uint32_t addr = *at;
    size_t len = strlen(s) + 1;

    memcpy(ram + addr, s, len);
    *at += (uint32_t)len;
    return addr;
}

/*
 * Fill the information structure at base: the fixed part, then the memory
 * map, module list and strings packed after it.
 */
static void info_write(struct loader *ld, uint32_t base, const char *cmdline)
{
    uint8_t *info = ld->ram + base;
    uint32_t at = base + MBI_SIZE;
    uint32_t flags = MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MMAP |
                     MB_INFO_LOADER_NAME | (ld->nmods ? MB_INFO_MODS : 0);

    memset(info, 0, MBI_SIZE);
    put32(info + MBI_FLAGS, flags);
    put32(info + MBI_MEM_LOWER, LOW_MEM_END / 1024);
    put32(info + MBI_MEM_UPPER, (ld->ram_size - HIGH_MEM_START) / 1024);
    put32(info + MBI_MMAP_ADDR, at);
    size_t mmap_len = mmap_write(ld->ram + at, ld->ram_size);
    put32(info + MBI_MMAP_LENGTH, (uint32_t)mmap_len);
    at += (uint32_t)mmap_len;
    uint32_t mods = at;
    at += (uint32_t)(ld->nmods * MB_MOD_SIZE);
    put32(info + MBI_CMDLINE, string_put(ld->ram, &at, cmdline));
    put32(info + MBI_LOADER_NAME, string_put(ld->ram, &at, LOADER_NAME));
    for (size_t i = 0; i < ld->nmods; i++) {
        uint8_t *m = ld->ram + mods + i * MB_MOD_SIZE;
        put32(m, ld->mods[i].start);
        put32(m + 4, ld->mods[i].end);
        put32(m + 8, string_put(ld->ram, &at, ld->mods[i].string));
        put32(m + 12, 0);
    }
    if (ld->nmods) {
        put32(info + MBI_MODS_COUNT, (uint32_t)ld->nmods);
        put32(info + MBI_MODS_ADDR, mods);
    }
}

/*
 * Build the kernel command line as GRUB does, the kernel path first: "PATH
 * args", or "PATH" alone (QEMU leaves a trailing space there). Then place
 * the information structure, write it and fill *out.
 */
static int info_build(struct loader *ld, const char *append,
                      struct boot_info *out)
{
    bool has_args = append && *append;
    size_t cmd_len = strlen(ld->path) + (has_args ? 1 + strlen(append) : 0);
    char *cmdline = malloc(cmd_len + 1);

    if (!cmdline)
        return kernel_fail(ld, "%s", strerror(ENOMEM));
    snprintf(cmdline, cmd_len + 1, "%s%s%s", ld->path, has_args ? " " : "",
             has_args ? append : "");
    uint64_t size = MBI_SIZE + 4 * MB_MMAP_SIZE + cmd_len + 1 +
                    sizeof(LOADER_NAME) + ld->nmods * MB_MOD_SIZE;
    for (size_t i = 0; i < ld->nmods; i++)
        size += strlen(ld->mods[i].string) + 1;
    uint32_t hi = ld->nmods ? ld->mods[ld->nmods - 1].end : ld->kend;
    uint32_t base = info_place(size, ld->kstart, hi);
    if (base == 0) {
        free(cmdline);
        return kernel_fail(ld,
                           "no room below 640 KiB for the Multiboot "
                           "information (%llu bytes)",
                           (unsigned long long)size);
    }
    info_write(ld, base, cmdline);
    free(cmdline);
    *out = (struct boot_info){.entry = ld->entry,
                              .eax = MB_BOOT_MAGIC,
                              .ebx = base,
                              .kernel_start = ld->kstart,
                              .kernel_end = ld->kend};
    return 0;
}

static void loader_free(struct loader *ld)
{
    for (size_t i = 0; i < ld->nmods; i++)
        free(ld->mods[i].string);
    free(ld->mods);
    free(ld->image);
}

int multiboot_load(const char *path, const char *append, const char *initrd,
                   uint8_t *ram, uint32_t ram_size, struct boot_info *out,
                   char *err, size_t errlen)
{
    struct loader ld = {.path = path,
                        .ram = ram,
                        .ram_size = ram_size,
                        .err = err,
                        .errlen = errlen};
    int rc;

    if (ram_size < HIGH_MEM_START)
        return kernel_fail(&ld, "RAM of %u KiB is too small for Multiboot",
                           ram_size >> 10);
    rc = loader_slurp(path, &ld.image, &ld.image_size);
    if (rc)
        return kernel_fail(&ld, "%s", strerror(rc));
    /* A bzImage first: its setup header ("HdrS" at 0x202) is definite,
     * and such an image may well contain the Multiboot magic by chance. */
    if (linux_is_bzimage(ld.image, ld.image_size)) {
        rc = linux_load(path, ld.image, ld.image_size, append, initrd, ram,
                        ram_size, out, err, errlen);
        loader_free(&ld);
        return rc;
    }
    rc = kernel_load(&ld);
    if (rc == 0)
        rc = modules_load(&ld, initrd);
    if (rc == 0)
        rc = info_build(&ld, append, out);
    loader_free(&ld);
    return rc;
}
