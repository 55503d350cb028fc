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
    int problems = bench_run_all(&opts);
    debug_exit(problems ? EXIT_PROBLEMS : EXIT_DONE);
    kprintf("bench-error exit device missing\n");
    halt_forever();
}
