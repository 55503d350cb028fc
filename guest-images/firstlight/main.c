/* SPDX-License-Identifier: MIT */
/* firstlight: the first guest; prints, computes, checks, and exits. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "debugexit.h"
#include "io.h"
#include "kprintf.h"
#include "kstring.h"
#include "mbinfo.h"

#define EXIT_DEFAULT 0x10 /* under isa-debug-exit: process status 33 */

/*
 * Inputs are read through volatile objects so GCC cannot fold a whole
 * computation into a constant: the point is to run ordinary compiled code.
 */
static volatile int fib_n = 20;
static const char *volatile crc_text = "123456789";
static volatile unsigned sieve_limit = 10000;
static volatile uint32_t sort_seed = 12345;

static int fib(int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit. */
static uint32_t crc32(const char *s, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;

    for (size_t i = 0; i < len; i++) {
        crc ^= (uint8_t)s[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* Count the primes below limit (at most 10000) with Eratosthenes' sieve. */
static unsigned primes_below(unsigned limit)
{
    static bool composite[10000];
    unsigned count = 0;

    if (limit > sizeof(composite))
        limit = sizeof(composite);
    for (unsigned i = 2; i < limit; i++) {
        if (composite[i])
            continue;
        count++;
        for (unsigned j = i * i; j < limit; j += i)
            composite[j] = true;
    }
    return count;
}

static void quicksort(uint32_t *a, int lo, int hi)
{
    while (lo < hi) {
        uint32_t pivot = a[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                uint32_t t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        quicksort(a, lo, j); /* recurse on one side, loop on the other */
        lo = i;
    }
}

/* Sort 256 pseudo-random numbers; check the order and that none was lost. */
static bool sort_works(void)
{
    static uint32_t a[256];
    uint32_t x = sort_seed, sum = 0, sorted_sum = 0;
    bool ok = true;

    for (int i = 0; i < 256; i++) {
        x = x * 1103515245u + 12345u; /* the ANSI C example LCG */
        a[i] = x >> 8;
        sum += a[i];
    }
    quicksort(a, 0, 255);
    for (int i = 0; i < 256; i++) {
        ok = ok && (i == 0 || a[i - 1] <= a[i]);
        sorted_sum += a[i];
    }
    return ok && sum == sorted_sum;
}

static bool check_fib(void)
{
    int v = fib(fib_n);
    kprintf("fib(%d) = %d\n", fib_n, v);
    return v == 6765;
}

static bool check_crc32(void)
{
    const char *s = crc_text;
    uint32_t v = crc32(s, strlen(s));
    kprintf("crc32(%s) = %08x\n", s, v);
    return v == 0xCBF43926u;
}

static bool check_primes(void)
{
    unsigned limit = sieve_limit, v = primes_below(limit);
    kprintf("primes below %u = %u\n", limit, v);
    return v == 1229;
}

static bool check_sort(void)
{
    bool ok = sort_works();
    kprintf("sort %s\n", ok ? "ok" : "FAILED");
    return ok;
}

static const struct {
    const char *name;
    bool (*run)(void);
} checks[] = {
    {"fib", check_fib},
    {"crc32", check_crc32},
    {"primes", check_primes},
    {"sort", check_sort},
};

/* Run every check; print "PASS" or "FAIL" and the names that failed. */
static void checks_run(bool magic_ok)
{
    const char *failed[sizeof(checks) / sizeof(checks[0])];
    size_t nfailed = 0;

    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        if (!checks[i].run())
            failed[nfailed++] = checks[i].name;
    if (nfailed == 0 && magic_ok) {
        kprintf("PASS\n");
        return;
    }
    kprintf("FAIL");
    if (!magic_ok)
        kprintf(" magic");
    for (size_t i = 0; i < nfailed; i++)
        kprintf(" %s", failed[i]);
    kprintf("\n");
}

/* The value of "exit=N" (decimal) as a word of cmdline, else the default. */
static uint32_t exit_value(const char *cmdline)
{
    for (const char *p = cmdline; p && (p = str_find(p, "exit=")); p++) {
        if (p != cmdline && p[-1] != ' ')
            continue;
        uint32_t v = 0;
        const char *d = p + 5;
        for (; *d >= '0' && *d <= '9'; d++)
            v = v * 10 + (uint32_t)(*d - '0');
        if (d != p + 5)
            return v;
    }
    return EXIT_DEFAULT;
}

/* Called from boot.asm with the registers the loader set. */
void kmain(uint32_t magic, const struct mb_info *mbi);

void kmain(uint32_t magic, const struct mb_info *mbi)
{
    bool magic_ok = magic == MB_BOOT_MAGIC;
    const char *cmdline = NULL;

    kprintf("Hello from the guest\n");
    if (!magic_ok)
        kprintf("boot magic is %08x, not %08x\n", magic, MB_BOOT_MAGIC);
    else if (mbi->flags & MBI_FLAG_CMDLINE)
        cmdline = (const char *)(uintptr_t)mbi->cmdline;
    kprintf("cmdline: %s\n", cmdline ? cmdline : "(none)");
    checks_run(magic_ok);
    debug_exit(exit_value(cmdline));
    kprintf("exit device missing\n");
    halt_forever();
}
