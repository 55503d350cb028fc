/* SPDX-License-Identifier: MIT */
/* bench guest: run the compute kernels on bare metal, report over COM1. */
#include <stddef.h>
#include <stdint.h>

#include "debugexit.h"
#include "driver.h"
#include "io.h"
#include "kprintf.h"
#include "mbinfo.h"
#include "serial.h"

/* Under isa-debug-exit these end the emulator with status 33 and 35. */
#define EXIT_DONE     0x10
#define EXIT_PROBLEMS 0x11

void bench_puts(const char *s)
{
    serial_puts(s);
}

/*
 * paging=1: identity-map the first 128 MiB with 4 KiB pages and turn
 * paging on before the kernels run, so the same work can be measured with
 * and without paging (every guest memory access then goes through the
 * virtualizer's page translation). paging=alt: each kernel's runs take
 * turns with paging off and on (the line's cycles= and alt=), so that the
 * ratio of the two is not at the mercy of a host whose speed drifts
 * between boots.
 */
#define PAGED_MIB 128
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_tables[PAGED_MIB / 4][1024] __attribute__((aligned(4096)));

static void build_page_tables(void)
{
    for (uint32_t t = 0; t < PAGED_MIB / 4; t++) {
        for (uint32_t i = 0; i < 1024; i++)
            page_tables[t][i] = ((t << 22) | (i << 12)) | 0x3; /* P, W */
        page_dir[t] = (uint32_t)(uintptr_t)page_tables[t] | 0x3;
    }
    __asm__ volatile("mov %0, %%cr3" : : "r"(page_dir) : "memory");
}

/* CR0.PG on (alt) or off: the identity map makes either one safe here. */
static void set_paging(int alt)
{
    uint32_t cr0;

    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 = alt ? cr0 | 0x80000000u : cr0 & ~0x80000000u;
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
}

static int has_word(const char *s, const char *w)
{
    for (; s && *s; s++) {
        const char *a = s, *b = w;
        while (*b && *a == *b) {
            a++;
            b++;
        }
        if (!*b && (*a == ' ' || *a == '\0'))
            return 1;
        while (*s && *s != ' ')
            s++;
        if (!*s)
            break;
    }
    return 0;
}

/* Called from boot.asm with the registers the loader set. */
void kmain(uint32_t magic, const struct mb_info *mbi);

void kmain(uint32_t magic, const struct mb_info *mbi)
{
    const char *cmdline = NULL;
    struct bench_opts opts;

    if (magic != MB_BOOT_MAGIC)
        kprintf("bench-error boot magic is %08x\n", magic);
    else if (mbi->flags & MBI_FLAG_CMDLINE)
        cmdline = (const char *)(uintptr_t)mbi->cmdline;
    bench_parse(&opts, cmdline);
    if (has_word(cmdline, "paging=1") || has_word(cmdline, "paging=alt")) {
        build_page_tables();
        set_paging(1);
    }
    if (has_word(cmdline, "paging=alt"))
        opts.mode = set_paging; /* each kernel off, then on, by turns */
    int problems = bench_run_all(&opts);
    debug_exit(problems ? EXIT_PROBLEMS : EXIT_DONE);
    kprintf("bench-error exit device missing\n");
    halt_forever();
}
