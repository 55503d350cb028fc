/* SPDX-License-Identifier: MIT */
/* Unit tests for the kernel loaders: Multiboot v1 (monitor/multiboot.c)
 * and the Linux boot protocol (monitor/linuxboot.c). */
#include <check.h>
#include <elf.h>
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "monitor/multiboot.h"

#ifndef FIRSTLIGHT_ELF
#error "FIRSTLIGHT_ELF must name the built guest-images/firstlight.elf"
#endif

#define MiB      (1024u * 1024u)
#define RAM_SIZE (16 * MiB)
#define RAM_FILL 0xCC /* what RAM holds before a load: never zero */
#define PAGE     4096u
#define LOW_END  0x9FC00u

static uint8_t *ram;    /* RAM_SIZE bytes, then an inaccessible page */
static char tmpdir[64]; /* a fresh directory per test */
static char err[256];
static struct boot_info bi;

/* ---- fixtures and helpers ---- */

static void setup(void)
{
    /* A guard page after RAM turns any write past its end into a crash. */
    ram = mmap(NULL, RAM_SIZE + PAGE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(ram, MAP_FAILED);
    ck_assert_int_eq(mprotect(ram + RAM_SIZE, PAGE, PROT_NONE), 0);
    memset(ram, RAM_FILL, RAM_SIZE);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_multiboot.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    memset(err, 0, sizeof(err));
    memset(&bi, 0, sizeof(bi));
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    return remove(path);
}

static void teardown(void)
{
    nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
    munmap(ram, RAM_SIZE + PAGE);
}

static uint32_t rd32(uint32_t addr)
{
    uint32_t v;
    memcpy(&v, ram + addr, 4);
    return v;
}

static uint64_t rd64(uint32_t addr)
{
    uint64_t v;
    memcpy(&v, ram + addr, 8);
    return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* The string at guest physical addr, checked to end inside RAM. */
static const char *guest_str(uint32_t addr)
{
    ck_assert_uint_lt(addr, RAM_SIZE);
    ck_assert_ptr_nonnull(memchr(ram + addr, 0, RAM_SIZE - addr));
    return (const char *)ram + addr;
}

/* Write len bytes to tmpdir/name; return the path (static buffer per call). */
static const char *tmp_file(const char *name, const void *data, size_t len)
{
    static char paths[8][128];
    static int next;
    char *path = paths[next++ % 8];

    snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* Read a whole file into a malloc'ed buffer. */
static uint8_t *file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *buf = malloc(*len ? *len : 1);
    ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static int load(const char *path, const char *append, const char *initrd)
{
    return multiboot_load(path, append, initrd, ram, RAM_SIZE, &bi, err,
                          sizeof(err));
}

/* Assert the load failed with exactly the message want. */
static void expect_error(int rc, const char *want)
{
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(err, want);
}

/* Assert a failed load left a sane message: one line, not empty. */
static void expect_some_error(int rc)
{
    ck_assert_int_eq(rc, -1);
    ck_assert_uint_gt(strlen(err), 0);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_msg(strncmp(err, "bt386:", 6) != 0, "prefixed: %s", err);
}

/* ---- synthetic kernels ---- */

/* A Multiboot header: magic, flags, checksum. */
static void mb_header(uint8_t *p, uint32_t flags)
{
    wr32(p, MB_HEADER_MAGIC);
    wr32(p + 4, flags);
    wr32(p + 8, 0u - MB_HEADER_MAGIC - flags);
}

struct seg {
    uint32_t vaddr, paddr, filesz, memsz;
};

#define ELF_DATA 0x100 /* segment bytes start here in a built ELF */

/*
 * Build a 32-bit x86 ELF executable in buf: header, program headers, then
 * each segment's bytes back to back from ELF_DATA, filled with a pattern;
 * the first segment starts with a Multiboot header with mbflags. Returns
 * the file size.
 */
static size_t elf_build(uint8_t *buf, const struct seg *segs, int n,
                        uint32_t entry, uint32_t mbflags)
{
    Elf32_Ehdr eh = {.e_type = ET_EXEC,
                     .e_machine = EM_386,
                     .e_version = EV_CURRENT,
                     .e_entry = entry,
                     .e_phoff = sizeof(Elf32_Ehdr),
                     .e_ehsize = sizeof(Elf32_Ehdr),
                     .e_phentsize = sizeof(Elf32_Phdr),
                     .e_phnum = n};
    uint32_t off = ELF_DATA;

    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    memset(buf, 0, ELF_DATA);
    memcpy(buf, &eh, sizeof(eh));
    for (int i = 0; i < n; i++) {
        Elf32_Phdr ph = {.p_type = PT_LOAD,
                         .p_offset = off,
                         .p_vaddr = segs[i].vaddr,
                         .p_paddr = segs[i].paddr,
                         .p_filesz = segs[i].filesz,
                         .p_memsz = segs[i].memsz,
                         .p_flags = PF_R | PF_W | PF_X,
                         .p_align = PAGE};
        memcpy(buf + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
        for (uint32_t j = 0; j < segs[i].filesz; j++)
            buf[off + j] = (uint8_t)(j * 7 + i + 1);
        off += segs[i].filesz;
    }
    mb_header(buf + ELF_DATA, mbflags);
    return off;
}

/* A one-segment kernel at 1 MiB: 0x400 bytes of file, 0x1000 in memory. */
static const char *simple_elf(const char *name, uint32_t mbflags)
{
    static uint8_t buf[0x1000];
    struct seg s = {0x100000, 0x100000, 0x400, 0x1000};
    size_t len = elf_build(buf, &s, 1, 0x100010, mbflags);
    return tmp_file(name, buf, len);
}

/* Fill the a.out-kludge fields after a header built by mb_header(). */
static void aout_fields(uint8_t *h, uint32_t header_addr, uint32_t load_addr,
                        uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
    wr32(h + 12, header_addr);
    wr32(h + 16, load_addr);
    wr32(h + 20, load_end);
    wr32(h + 24, bss_end);
    wr32(h + 28, entry);
}

/* A flat image of len bytes with a pattern and an a.out header at hdr_off. */
static uint8_t *aout_image(size_t len, size_t hdr_off)
{
    uint8_t *img = malloc(len);
    for (size_t i = 0; i < len; i++)
        img[i] = (uint8_t)(i * 13 + 5);
    mb_header(img + hdr_off, MB_FLAG_AOUT | MB_FLAG_ALIGN | MB_FLAG_MEMINFO);
    return img;
}

/* ---- the firstlight kernel ---- */

/* Check every PT_LOAD of the ELF file image landed at p_paddr, bss zeroed. */
static void check_segments(const uint8_t *file, size_t len)
{
    Elf32_Ehdr eh;
    memcpy(&eh, file, sizeof(eh));
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf32_Phdr ph;
        memcpy(&ph, file + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD)
            continue;
        ck_assert_uint_le(ph.p_offset + ph.p_filesz, len);
        ck_assert_mem_eq(ram + ph.p_paddr, file + ph.p_offset, ph.p_filesz);
        for (uint32_t a = ph.p_filesz; a < ph.p_memsz; a++)
            ck_assert_msg(ram[ph.p_paddr + a] == 0, "bss byte %#x not zero",
                          ph.p_paddr + a);
    }
}

START_TEST(firstlight_entry_state)
{
    size_t len;
    uint8_t *file = file_read(FIRSTLIGHT_ELF, &len);
    Elf32_Ehdr eh;

    ck_assert_int_eq(load(FIRSTLIGHT_ELF, NULL, NULL), 0);
    memcpy(&eh, file, sizeof(eh));
    ck_assert_uint_eq(bi.entry, eh.e_entry); /* linked at its load address */
    ck_assert_uint_eq(bi.eax, 0x2BADB002);
    ck_assert_uint_eq(bi.kernel_start, 0x100000);
    ck_assert_uint_gt(bi.kernel_end, bi.entry);
    ck_assert_uint_ge(bi.entry, bi.kernel_start);
    ck_assert_uint_eq(rd32(0x100000), MB_HEADER_MAGIC); /* header first */
    check_segments(file, len);
    free(file);
}
END_TEST

START_TEST(info_placed_in_low_memory)
{
    ck_assert_int_eq(load(FIRSTLIGHT_ELF, "hi there", NULL), 0);
    ck_assert_uint_ge(bi.ebx, PAGE);
    ck_assert_uint_le(bi.ebx + MBI_SIZE, LOW_END);
    ck_assert_uint_eq(bi.ebx % 4, 0);
    /* Everything the structure points at lies in low memory too. */
    ck_assert_uint_lt(rd32(bi.ebx + MBI_CMDLINE), LOW_END);
    ck_assert_uint_lt(rd32(bi.ebx + MBI_LOADER_NAME), LOW_END);
    ck_assert_uint_le(
        rd32(bi.ebx + MBI_MMAP_ADDR) + rd32(bi.ebx + MBI_MMAP_LENGTH), LOW_END);
}
END_TEST

START_TEST(info_flags_and_memory)
{
    ck_assert_int_eq(load(FIRSTLIGHT_ELF, NULL, NULL), 0);
    ck_assert_uint_eq(rd32(bi.ebx + MBI_FLAGS), MB_INFO_MEM | MB_INFO_CMDLINE |
                                                    MB_INFO_MMAP |
                                                    MB_INFO_LOADER_NAME);
    ck_assert_uint_eq(rd32(bi.ebx + MBI_MEM_LOWER), 639);
    ck_assert_uint_eq(rd32(bi.ebx + MBI_MEM_UPPER), (RAM_SIZE - MiB) / 1024);
    ck_assert_uint_eq(rd32(bi.ebx + MBI_MODS_COUNT), 0);
}
END_TEST

START_TEST(info_memory_map)
{
    static const struct {
        uint64_t base, len;
        uint32_t type;
    } want[] = {
        {0, 0x9FC00, 1},
        {0x9FC00, 0x400, 2},
        {0xF0000, 0x10000, 2},
        {0x100000, RAM_SIZE - 0x100000, 1},
    };

    ck_assert_int_eq(load(FIRSTLIGHT_ELF, NULL, NULL), 0);
    uint32_t map = rd32(bi.ebx + MBI_MMAP_ADDR);
    ck_assert_uint_eq(rd32(bi.ebx + MBI_MMAP_LENGTH), 4 * MB_MMAP_SIZE);
    for (int i = 0; i < 4; i++) {
        uint32_t e = map + i * MB_MMAP_SIZE;
        ck_assert_uint_eq(rd32(e), 20);
        ck_assert_uint_eq(rd64(e + 4), want[i].base);
        ck_assert_uint_eq(rd64(e + 12), want[i].len);
        ck_assert_uint_eq(rd32(e + 20), want[i].type);
    }
}
END_TEST

START_TEST(cmdline_with_append)
{
    ck_assert_int_eq(load(FIRSTLIGHT_ELF, "hi there", NULL), 0);
    ck_assert_str_eq(guest_str(rd32(bi.ebx + MBI_CMDLINE)),
                     FIRSTLIGHT_ELF " hi there");
}
END_TEST

START_TEST(cmdline_without_append)
{
    ck_assert_int_eq(load(FIRSTLIGHT_ELF, NULL, NULL), 0);
    ck_assert_str_eq(guest_str(rd32(bi.ebx + MBI_CMDLINE)), FIRSTLIGHT_ELF);
    memset(ram, RAM_FILL, RAM_SIZE);
    ck_assert_int_eq(load(FIRSTLIGHT_ELF, "", NULL), 0);
    ck_assert_str_eq(guest_str(rd32(bi.ebx + MBI_CMDLINE)), FIRSTLIGHT_ELF);
}
END_TEST

START_TEST(loader_name)
{
    ck_assert_int_eq(load(FIRSTLIGHT_ELF, NULL, NULL), 0);
    ck_assert_str_eq(guest_str(rd32(bi.ebx + MBI_LOADER_NAME)), "bt386");
}
END_TEST

/* Make a module file of len pattern bytes; returns its path. */
static const char *module_file(const char *name, size_t len, uint8_t seed,
                               uint8_t **data)
{
    *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        (*data)[i] = (uint8_t)(i * 3 + seed);
    return tmp_file(name, *data, len);
}

START_TEST(modules_two)
{
    uint8_t *a, *b;
    const char *pa = module_file("mod_a", 5000, 1, &a);
    const char *pb = module_file("mod_b", 3, 2, &b);
    char initrd[512], str_a[256];

    snprintf(str_a, sizeof(str_a), "%s one two", pa);
    snprintf(initrd, sizeof(initrd), "%s,%s", str_a, pb);
    ck_assert_int_eq(load(FIRSTLIGHT_ELF, NULL, initrd), 0);
    ck_assert_uint_ne(rd32(bi.ebx + MBI_FLAGS) & MB_INFO_MODS, 0);
    ck_assert_uint_eq(rd32(bi.ebx + MBI_MODS_COUNT), 2);
    uint32_t m = rd32(bi.ebx + MBI_MODS_ADDR);
    uint32_t a_start = rd32(m), a_end = rd32(m + 4);
    uint32_t b_start = rd32(m + 16), b_end = rd32(m + 20);
    ck_assert_uint_eq(a_start, (bi.kernel_end + PAGE - 1) & ~(PAGE - 1));
    ck_assert_uint_eq(a_end, a_start + 5000);
    ck_assert_uint_eq(b_start, (a_end + PAGE - 1) & ~(PAGE - 1));
    ck_assert_uint_eq(b_end, b_start + 3);
    ck_assert_mem_eq(ram + a_start, a, 5000);
    ck_assert_mem_eq(ram + b_start, b, 3);
    ck_assert_str_eq(guest_str(rd32(m + 8)), str_a);
    ck_assert_str_eq(guest_str(rd32(m + 24)), pb);
    /* The info structure stays clear of kernel and modules. */
    ck_assert_uint_lt(rd32(m + 24) + strlen(pb), bi.kernel_start);
    free(a);
    free(b);
}
END_TEST

START_TEST(modules_comma_escape)
{
    uint8_t *a;
    const char *pa = module_file("x,y", 10, 3, &a);
    char initrd[256];

    /* QEMU's option syntax: ",," is a comma inside a name. */
    snprintf(initrd, sizeof(initrd), "%s/x,,y", tmpdir);
    ck_assert_int_eq(load(FIRSTLIGHT_ELF, NULL, initrd), 0);
    ck_assert_uint_eq(rd32(bi.ebx + MBI_MODS_COUNT), 1);
    uint32_t m = rd32(bi.ebx + MBI_MODS_ADDR);
    ck_assert_str_eq(guest_str(rd32(m + 8)), pa);
    ck_assert_mem_eq(ram + rd32(m), a, 10);
    free(a);
}
END_TEST

START_TEST(higher_half_entry)
{
    static uint8_t buf[0x1000];
    const struct seg segs[] = {
        {0xC0100000, 0x100000, 0x200, 0x1000},
        {0xC0102000, 0x102000, 0x10, 0x2000},
    };
    size_t len = elf_build(buf, segs, 2, 0xC0100020, MB_FLAG_MEMINFO);

    ck_assert_int_eq(load(tmp_file("hh", buf, len), NULL, NULL), 0);
    ck_assert_uint_eq(bi.entry, 0x100020);
    ck_assert_uint_eq(bi.kernel_start, 0x100000);
    ck_assert_uint_eq(bi.kernel_end, 0x104000);
    check_segments(buf, len);
    ck_assert_uint_eq(ram[0x104000], RAM_FILL); /* nothing past the end */
}
END_TEST

START_TEST(video_and_optional_flags_accepted)
{
    /* Bit 2 (video) is ignored as QEMU does; bits 17+ are optional. */
    ck_assert_int_eq(
        load(simple_elf("v", MB_FLAG_VIDEO | 0x00F00000), NULL, NULL), 0);
    ck_assert_uint_eq(bi.entry, 0x100010);
}
END_TEST

/* ---- the a.out kludge ---- */

START_TEST(aout_whole_file)
{
    uint8_t *img = aout_image(0x3000, 0x40);

    aout_fields(img + 0x40, 0x200040, 0x200000, 0, 0x205000, 0x200100);
    ck_assert_int_eq(load(tmp_file("aout", img, 0x3000), "x", NULL), 0);
    ck_assert_uint_eq(bi.entry, 0x200100);
    ck_assert_uint_eq(bi.kernel_start, 0x200000);
    ck_assert_uint_eq(bi.kernel_end, 0x205000);
    ck_assert_mem_eq(ram + 0x200000, img, 0x3000);
    for (uint32_t a = 0x203000; a < 0x205000; a++)
        ck_assert_msg(ram[a] == 0, "bss byte %#x not zero", a);
    ck_assert_uint_eq(ram[0x205000], RAM_FILL);
    free(img);
}
END_TEST

START_TEST(aout_load_end_and_offset)
{
    /* Header at file offset 0x1040 but at 0x40 in the loaded image: the
     * image starts at file offset 0x1000. load_end cuts it at 0x800. */
    uint8_t *img = aout_image(0x3000, 0x1040);

    aout_fields(img + 0x1040, 0x300040, 0x300000, 0x300800, 0x301000, 0x300080);
    ck_assert_int_eq(load(tmp_file("aout2", img, 0x3000), NULL, NULL), 0);
    ck_assert_uint_eq(bi.entry, 0x300080);
    ck_assert_uint_eq(bi.kernel_end, 0x301000);
    ck_assert_mem_eq(ram + 0x300000, img + 0x1000, 0x800);
    for (uint32_t a = 0x300800; a < 0x301000; a++)
        ck_assert_msg(ram[a] == 0, "bss byte %#x not zero", a);
    ck_assert_uint_eq(ram[0x2FFFFF], RAM_FILL);
    free(img);
}
END_TEST

START_TEST(aout_low_kernel_moves_info)
{
    /* A kernel over QEMU's info address 0x9000 pushes the info elsewhere. */
    uint8_t *img = aout_image(0x1000, 0x10);

    aout_fields(img + 0x10, 0x8010, 0x8000, 0, 0x20000, 0x8000);
    ck_assert_int_eq(load(tmp_file("low", img, 0x1000), NULL, NULL), 0);
    ck_assert_msg(bi.ebx + MBI_SIZE <= 0x8000 || bi.ebx >= 0x20000,
                  "info at %#x overlaps the kernel", bi.ebx);
    ck_assert_uint_ge(bi.ebx, PAGE);
    ck_assert_mem_eq(ram + 0x8000, img, 0x1000);
    free(img);
}
END_TEST

START_TEST(low_kernel_module_skips_bios_area)
{
    /* A kernel ending at 0x20000 and a 1 MiB module: after the kernel it
     * would cover 0xA0000-0xFFFFF (VGA, BIOS, the ACPI tables), so it goes
     * to 1 MiB; a small one stays right after the kernel. */
    uint8_t *img = aout_image(0x1000, 0x10), *big, *small;
    aout_fields(img + 0x10, 0x8010, 0x8000, 0, 0x20000, 0x8000);
    const char *pk = tmp_file("lowk", img, 0x1000);
    const char *pb = module_file("mod_big", 0x100000, 3, &big);
    const char *ps = module_file("mod_small", 100, 4, &small);
    char initrd[512];
    snprintf(initrd, sizeof(initrd), "%s,%s", ps, pb);
    ck_assert_int_eq(load(pk, NULL, initrd), 0);
    uint32_t m = rd32(bi.ebx + MBI_MODS_ADDR);
    ck_assert_uint_eq(rd32(m), 0x20000);
    ck_assert_uint_eq(rd32(m + 16), 0x100000);
    ck_assert_mem_eq(ram + 0x100000, big, 0x100000);
    free(img);
    free(big);
    free(small);
}
END_TEST

/* ---- errors ---- */

START_TEST(error_nonexistent)
{
    expect_error(load("/nonexistent/kernel", NULL, NULL),
                 "kernel '/nonexistent/kernel': No such file or directory");
}
END_TEST

START_TEST(error_directory)
{
    char want[160];
    snprintf(want, sizeof(want), "kernel '%s': Is a directory", tmpdir);
    expect_error(load(tmpdir, NULL, NULL), want);
}
END_TEST

START_TEST(error_empty_file)
{
    const char *p = tmp_file("empty", "", 0);
    char want[160];
    snprintf(want, sizeof(want),
             "kernel '%s': no Multiboot header in the first 8192 bytes", p);
    expect_error(load(p, NULL, NULL), want);
}
END_TEST

START_TEST(error_random_bytes)
{
    static uint8_t buf[16384];
    uint32_t x = 2463534242u;
    char want[160];

    for (size_t i = 0; i < sizeof(buf); i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
        buf[i] = (uint8_t)x;
    }
    const char *p = tmp_file("random", buf, sizeof(buf));
    snprintf(want, sizeof(want),
             "kernel '%s': no Multiboot header in the first 8192 bytes", p);
    expect_error(load(p, NULL, NULL), want);
}
END_TEST

START_TEST(error_header_past_8192)
{
    uint8_t *img = aout_image(0x3000, 8192);
    char want[160];

    aout_fields(img + 8192, 0x202000, 0x200000, 0, 0, 0x200000);
    const char *p = tmp_file("late", img, 0x3000);
    snprintf(want, sizeof(want),
             "kernel '%s': no Multiboot header in the first 8192 bytes", p);
    expect_error(load(p, NULL, NULL), want);
    free(img);
}
END_TEST

START_TEST(error_bad_checksum)
{
    static uint8_t buf[0x1000];
    struct seg s = {0x100000, 0x100000, 0x400, 0x1000};
    size_t len = elf_build(buf, &s, 1, 0x100010, 0);
    char want[160];

    buf[ELF_DATA + 8]++;
    const char *p = tmp_file("badsum", buf, len);
    snprintf(want, sizeof(want),
             "kernel '%s': Multiboot header checksum is wrong", p);
    expect_error(load(p, NULL, NULL), want);
}
END_TEST

START_TEST(error_bzimage)
{
    static uint8_t buf[0x1000];
    char want[160];

    /* A valid Multiboot header as well: the bzImage check comes first,
     * and takes this one (protocol 0.00) to the Linux loader. */
    memcpy(buf + 0x202, "HdrS", 4);
    mb_header(buf + 0x400, 0);
    const char *p = tmp_file("bzImage", buf, sizeof(buf));
    snprintf(want, sizeof(want),
             "kernel '%s': Linux boot protocol 0.00 or a zImage is not "
             "supported (needs a bzImage, protocol 2.04 or later)",
             p);
    expect_error(load(p, NULL, NULL), want);
}
END_TEST

/* Load firstlight with one byte changed; expect the "not 32-bit" error. */
static void expect_not_elf32(size_t offset, uint8_t value)
{
    size_t len;
    uint8_t *file = file_read(FIRSTLIGHT_ELF, &len);
    char want[256];

    file[offset] = value;
    const char *p = tmp_file("notelf32", file, len);
    snprintf(want, sizeof(want),
             "kernel '%s': not a 32-bit x86 ELF executable (and no "
             "Multiboot a.out address fields)",
             p);
    expect_error(load(p, NULL, NULL), want);
    free(file);
}

START_TEST(error_elf64)
{
    expect_not_elf32(EI_CLASS, ELFCLASS64);
}
END_TEST

START_TEST(error_elf_wrong_machine)
{
    expect_not_elf32(offsetof(Elf32_Ehdr, e_machine), EM_X86_64);
}
END_TEST

START_TEST(error_not_elf_no_aout)
{
    static uint8_t buf[0x1000];
    mb_header(buf + 0x20, MB_FLAG_MEMINFO); /* flat, but no bit 16 */
    const char *p = tmp_file("flat", buf, sizeof(buf));
    char want[256];
    snprintf(want, sizeof(want),
             "kernel '%s': not a 32-bit x86 ELF executable (and no "
             "Multiboot a.out address fields)",
             p);
    expect_error(load(p, NULL, NULL), want);
}
END_TEST

START_TEST(error_truncated_firstlight)
{
    size_t len;
    uint8_t *file = file_read(FIRSTLIGHT_ELF, &len);

    /* Every proper prefix is broken somewhere (the section headers come
     * last); none may crash or succeed. */
    for (size_t cut = 0; cut < len; cut++) {
        const char *p = tmp_file("cut", file, cut);
        int rc = load(p, "a", NULL);
        ck_assert_msg(rc == -1, "cut at %zu loaded", cut);
        expect_some_error(rc);
    }
    free(file);
}
END_TEST

START_TEST(error_truncated_segment)
{
    static uint8_t buf[0x1000];
    struct seg s = {0x100000, 0x100000, 0x400, 0x1000};
    size_t len = elf_build(buf, &s, 1, 0x100010, 0);
    char want[160];

    const char *p = tmp_file("short", buf, len - 1);
    snprintf(want, sizeof(want),
             "kernel '%s': truncated (ELF segment 0 lies past the end of the "
             "file)",
             p);
    expect_error(load(p, NULL, NULL), want);
}
END_TEST

START_TEST(error_truncated_aout)
{
    uint8_t *img = aout_image(0x1000, 0x40);
    char want[160];

    aout_fields(img + 0x40, 0x200040, 0x200000, 0x201800, 0, 0x200000);
    const char *p = tmp_file("aoutshort", img, 0x1000);
    snprintf(want, sizeof(want),
             "kernel '%s': truncated (the a.out image lies past the end of "
             "the file)",
             p);
    expect_error(load(p, NULL, NULL), want);
    free(img);
}
END_TEST

START_TEST(error_aout_inconsistent)
{
    uint8_t *img = aout_image(0x1000, 0x40);

    /* header_addr below load_addr cannot be. */
    aout_fields(img + 0x40, 0x1FFFF0, 0x200000, 0, 0, 0x200000);
    expect_some_error(load(tmp_file("aoutbad", img, 0x1000), NULL, NULL));
    ck_assert_ptr_nonnull(strstr(err, "a.out address fields"));
    /* Nor a bss ending before the loaded image does. */
    aout_fields(img + 0x40, 0x200040, 0x200000, 0, 0x200100, 0x200000);
    expect_some_error(load(tmp_file("aoutbad2", img, 0x1000), NULL, NULL));
    ck_assert_ptr_nonnull(strstr(err, "a.out address fields"));
    free(img);
}
END_TEST

START_TEST(error_too_big_for_ram)
{
    static uint8_t buf[0x1000];
    struct seg s = {0x100000, 0x100000, 0x400, 32 * MiB};
    size_t len = elf_build(buf, &s, 1, 0x100010, 0);
    char want[200];

    const char *p = tmp_file("huge", buf, len);
    snprintf(want, sizeof(want),
             "kernel '%s': does not fit in RAM (needs up to 0x2100000, RAM "
             "is 16 MiB)",
             p);
    expect_error(load(p, NULL, NULL), want);
    /* firstlight, at 1 MiB, cannot fit in a 1 MiB machine either. */
    int rc = multiboot_load(FIRSTLIGHT_ELF, NULL, NULL, ram, MiB, &bi, err,
                            sizeof(err));
    expect_some_error(rc);
    ck_assert_ptr_nonnull(strstr(err, "does not fit in RAM (needs up to 0x10"));
    ck_assert_ptr_nonnull(strstr(err, "RAM is 1 MiB)"));
}
END_TEST

START_TEST(error_unknown_required_flags)
{
    const char *p = simple_elf("flags", MB_FLAG_MEMINFO | 0x8);
    char want[160];

    snprintf(want, sizeof(want),
             "kernel '%s': requires unsupported Multiboot features (flags "
             "0x8)",
             p);
    expect_error(load(p, NULL, NULL), want);
    p = simple_elf("flags2", 0x8000);
    expect_some_error(load(p, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(err, "(flags 0x8000)"));
}
END_TEST

START_TEST(error_no_loadable_segments)
{
    static uint8_t buf[0x1000];
    struct seg s = {0x100000, 0x100000, 0x400, 0x1000};
    size_t len = elf_build(buf, &s, 1, 0x100010, 0);

    wr32(buf + sizeof(Elf32_Ehdr), PT_NOTE); /* the only p_type */
    expect_some_error(load(tmp_file("noload", buf, len), NULL, NULL));
    ck_assert_ptr_nonnull(strstr(err, "no loadable segments"));
}
END_TEST

START_TEST(error_initrd_missing)
{
    expect_error(load(FIRSTLIGHT_ELF, NULL, "/nonexistent/mod some args"),
                 "initrd '/nonexistent/mod': No such file or directory");
}
END_TEST

START_TEST(error_initrd_too_big)
{
    uint8_t *a;
    const char *pa = module_file("big", MiB, 4, &a);
    char want[160];

    snprintf(want, sizeof(want), "initrd '%s': does not fit in RAM", pa);
    int rc = multiboot_load(FIRSTLIGHT_ELF, NULL, pa, ram, 2 * MiB, &bi, err,
                            sizeof(err));
    expect_error(rc, want);
    free(a);
}
END_TEST

START_TEST(error_ram_too_small)
{
    int rc = multiboot_load(FIRSTLIGHT_ELF, NULL, NULL, ram, 512 * 1024, &bi,
                            err, sizeof(err));
    expect_some_error(rc);
}
END_TEST

START_TEST(fuzz_byte_flips)
{
    size_t len;
    uint8_t *file = file_read(FIRSTLIGHT_ELF, &len);
    uint8_t *copy = malloc(len);
    uint32_t x = 88172645u;

    /* Damage the file's headers and first pages at random; the loader must
     * either load or fail with a message, never crash or write outside
     * RAM (the guard page would catch it). */
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, file, len);
        for (int k = 0; k < 1 + round % 4; k++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            size_t at = (x >> 8) % (round % 2 ? 0x80 : len);
            copy[at] ^= (uint8_t)(x | 1);
        }
        int rc = load(tmp_file("fuzz", copy, len), "a", NULL);
        if (rc != 0)
            expect_some_error(rc);
    }
    free(copy);
    free(file);
}
END_TEST

/* ---- the Linux boot protocol (monitor/linuxboot.c) ---- */

#define BZ_SETUP_SECTS 2
#define BZ_PM_OFF      ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PM_SIZE     8192
#define ZERO_PAGE      0x10000u

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* A bzImage with protocol `version`, init_size `init`, and a protected-
 * mode part of BZ_PM_SIZE bytes counting up from 1. */
static const char *bzimage(uint16_t version, uint32_t init)
{
    static uint8_t buf[BZ_PM_OFF + BZ_PM_SIZE];
    memset(buf, 0, sizeof(buf));
    buf[0x1F1] = BZ_SETUP_SECTS;
    buf[0x201] = 0x66;                 /* header ends at 0x268 */
    memcpy(buf + 0x202, "HdrS", 4);
    put16(buf + 0x206, version);
    buf[0x211] = 0x01;                 /* LOADED_HIGH */
    put32(buf + 0x214, 0x100000);      /* code32_start */
    put32(buf + 0x22C, 0x37FFFFFF);    /* initrd_addr_max */
    put32(buf + 0x238, 64);            /* cmdline_size */
    put32(buf + 0x260, init);          /* init_size */
    for (int i = 0; i < BZ_PM_SIZE; i++)
        buf[BZ_PM_OFF + i] = (uint8_t)(i + 1);
    return tmp_file("bzImage", buf, sizeof(buf));
}

START_TEST(linux_zero_page)
{
    ck_assert_int_eq(load(bzimage(0x020F, 0x20000), "console=ttyS0", NULL), 0);
    /* Entry: flat 32-bit at code32_start, ESI the zero page, __BOOT_CS. */
    ck_assert_uint_eq(bi.entry, 0x100000);
    ck_assert_uint_eq(bi.esi, ZERO_PAGE);
    ck_assert_uint_eq(bi.cs, 0x10);
    ck_assert_uint_eq(bi.ds, 0x18);
    ck_assert_uint_eq(bi.kernel_end, 0x100000 + 0x20000);
    ck_assert_uint_eq(ram[0x100000], 1);
    ck_assert_uint_eq(ram[0x100000 + BZ_PM_SIZE - 1], (uint8_t)BZ_PM_SIZE);
    /* The GDT's code and data descriptors are flat. */
    ck_assert_uint_eq(rd32(bi.gdt_base + 0x10), 0x0000FFFF);
    ck_assert_uint_eq(rd32(bi.gdt_base + 0x14), 0x00CF9B00);
    ck_assert_uint_eq(rd32(bi.gdt_base + 0x1C), 0x00CF9300);
    /* The header copied, the loader's fields filled. */
    ck_assert_mem_eq(ram + ZERO_PAGE + 0x202, "HdrS", 4);
    ck_assert_uint_eq(ram[ZERO_PAGE + 0x210], 0xFF);
    ck_assert_str_eq((char *)ram + rd32(ZERO_PAGE + 0x228), "console=ttyS0");
    ck_assert_uint_eq(rd32(ZERO_PAGE + 0x218), 0); /* no initrd */
    /* e820: low RAM, two holes, RAM from 1 MiB to the end. */
    ck_assert_uint_eq(ram[ZERO_PAGE + 0x1E8], 4);
    const uint8_t *e = ram + ZERO_PAGE + 0x2D0 + 3 * 20;
    ck_assert_uint_eq(rd32(ZERO_PAGE + 0x2D0 + 8), LOW_END);
    ck_assert_uint_eq(rd32(ZERO_PAGE + 0x2D0 + 3 * 20), 0x100000);
    ck_assert_uint_eq(rd32(ZERO_PAGE + 0x2D0 + 3 * 20 + 8), RAM_SIZE - MiB);
    ck_assert_uint_eq(e[16], 1);
    ck_assert_uint_eq(rd32(ZERO_PAGE + 0x1E0), (RAM_SIZE - MiB) / 1024);
}
END_TEST

START_TEST(linux_initrd_at_top)
{
    static uint8_t rd[5000];
    memset(rd, 0xA5, sizeof(rd));
    const char *k = bzimage(0x020F, 0x20000);
    ck_assert_int_eq(load(k, NULL, tmp_file("initrd", rd, sizeof(rd))), 0);
    uint32_t at = rd32(ZERO_PAGE + 0x218);
    ck_assert_uint_eq(rd32(ZERO_PAGE + 0x21C), sizeof(rd));
    ck_assert_uint_eq(at % PAGE, 0);
    ck_assert_uint_le(at + sizeof(rd), RAM_SIZE);
    ck_assert_uint_gt(at + sizeof(rd) + PAGE, RAM_SIZE);
    ck_assert_mem_eq(ram + at, rd, sizeof(rd));
    ck_assert_str_eq((char *)ram + rd32(ZERO_PAGE + 0x228), "");
}
END_TEST

START_TEST(linux_errors)
{
    char want[256];
    const char *k = bzimage(0x0202, 0);
    snprintf(want, sizeof(want),
             "kernel '%s': Linux boot protocol 2.02 or a zImage is not "
             "supported (needs a bzImage, protocol 2.04 or later)", k);
    expect_error(load(k, NULL, NULL), want);
    k = bzimage(0x020F, 64 * MiB);
    snprintf(want, sizeof(want),
             "kernel '%s': does not fit in RAM (needs up to 0x4100000, RAM "
             "is 16 MiB)", k);
    expect_error(load(k, NULL, NULL), want);
    char longline[100];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    k = bzimage(0x020F, 0x20000);
    snprintf(want, sizeof(want),
             "kernel '%s': command line of 99 bytes is longer than its "
             "64-byte limit", k);
    expect_error(load(k, longline, NULL), want);
    expect_error(load(k, NULL, "/nonexistent/initrd"),
                 "initrd '/nonexistent/initrd': No such file or directory");
}
END_TEST

static Suite *multiboot_suite(void)
{
    Suite *s = suite_create("multiboot");
    TCase *tc = tcase_create("load");
    TCase *te = tcase_create("errors");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_checked_fixture(te, setup, teardown);
    /* No time limits in the test itself (0 disarms Check's default of
     * 4 s); ctest's timeout is the guard against a hang. */
    tcase_set_timeout(tc, 0);
    tcase_set_timeout(te, 0);
    tcase_add_test(tc, firstlight_entry_state);
    tcase_add_test(tc, info_placed_in_low_memory);
    tcase_add_test(tc, info_flags_and_memory);
    tcase_add_test(tc, info_memory_map);
    tcase_add_test(tc, cmdline_with_append);
    tcase_add_test(tc, cmdline_without_append);
    tcase_add_test(tc, loader_name);
    tcase_add_test(tc, modules_two);
    tcase_add_test(tc, modules_comma_escape);
    tcase_add_test(tc, higher_half_entry);
    tcase_add_test(tc, video_and_optional_flags_accepted);
    tcase_add_test(tc, aout_whole_file);
    tcase_add_test(tc, aout_load_end_and_offset);
    tcase_add_test(tc, aout_low_kernel_moves_info);
    tcase_add_test(tc, low_kernel_module_skips_bios_area);
    tcase_add_test(te, error_nonexistent);
    tcase_add_test(te, error_directory);
    tcase_add_test(te, error_empty_file);
    tcase_add_test(te, error_random_bytes);
    tcase_add_test(te, error_header_past_8192);
    tcase_add_test(te, error_bad_checksum);
    tcase_add_test(te, error_bzimage);
    tcase_add_test(te, error_elf64);
    tcase_add_test(te, error_elf_wrong_machine);
    tcase_add_test(te, error_not_elf_no_aout);
    tcase_add_test(te, error_truncated_firstlight);
    tcase_add_test(te, error_truncated_segment);
    tcase_add_test(te, error_truncated_aout);
    tcase_add_test(te, error_aout_inconsistent);
    tcase_add_test(te, error_too_big_for_ram);
    tcase_add_test(te, error_unknown_required_flags);
    tcase_add_test(te, error_no_loadable_segments);
    tcase_add_test(te, error_initrd_missing);
    tcase_add_test(te, error_initrd_too_big);
    tcase_add_test(te, error_ram_too_small);
    tcase_add_test(te, fuzz_byte_flips);
    tcase_add_test(te, linux_zero_page);
    tcase_add_test(te, linux_initrd_at_top);
    tcase_add_test(te, linux_errors);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, te);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(multiboot_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
