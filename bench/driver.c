/* SPDX-License-Identifier: MIT */
/* The benchmark driver: run each kernel, time it with RDTSC, print a line. */
#include <stddef.h>

#include "driver.h"
#include "kernels/kernels.h"

#define DEFAULT_REPS 3
#define MAX_REPS     100

/*
 * The time-stamp counter. No serialising fence around it: every kernel
 * runs for tens of milliseconds, so a few hundred cycles of skew at either
 * end are far below the noise, and plain RDTSC is all the guest needs.
 */
static uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* 10^19 down to 10^0: every power of ten a uint64_t holds. */
static const uint64_t powers_of_ten[20] = {
    10000000000000000000ull, 1000000000000000000ull, 100000000000000000ull,
    10000000000000000ull, 1000000000000000ull, 100000000000000ull,
    10000000000000ull, 1000000000000ull, 100000000000ull, 10000000000ull,
    1000000000ull, 100000000ull, 10000000ull, 1000000ull, 100000ull,
    10000ull, 1000ull, 100ull, 10ull, 1ull,
};

/*
 * Format v in decimal into buf (at least 21 bytes). By subtracting powers
 * of ten, because 64-bit division would need libgcc in the guest.
 */
static void format_u64(char *buf, uint64_t v)
{
    int started = 0;

    for (int i = 0; i < 20; i++) {
        char digit = '0';
        while (v >= powers_of_ten[i]) {
            v -= powers_of_ten[i];
            digit++;
        }
        if (digit != '0' || started || i == 19) {
            *buf++ = digit;
            started = 1;
        }
    }
    *buf = '\0';
}

static void format_hex32(char *buf, uint32_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 4)
        buf[i] = "0123456789abcdef"[v & 0xf];
    buf[8] = '\0';
}

static void put_u64(uint64_t v)
{
    char buf[21];

    format_u64(buf, v);
    bench_puts(buf);
}

static void put_hex32(uint32_t v)
{
    char buf[9];

    format_hex32(buf, v);
    bench_puts("0x");
    bench_puts(buf);
}

/* If the word at p starts with prefix, where its value starts; else NULL. */
static const char *word_value(const char *p, const char *prefix)
{
    while (*prefix)
        if (*p++ != *prefix++)
            return NULL;
    return p;
}

void bench_parse(struct bench_opts *o, const char *cmdline)
{
    o->reps = DEFAULT_REPS;
    o->only = NULL;
    o->mode = NULL;
    for (const char *p = cmdline; p && *p;) {
        const char *v;
        if ((v = word_value(p, "reps=")) != NULL) {
            unsigned n = 0;
            for (; *v >= '0' && *v <= '9'; v++)
                n = n * 10 + (unsigned)(*v - '0');
            o->reps = n < 1 ? 1 : n > MAX_REPS ? MAX_REPS : n;
        } else if ((v = word_value(p, "only=")) != NULL) {
            o->only = v;
        }
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
}

/* Is name one of the comma-separated names in list (ended by ' ' or NUL)? */
static int list_has(const char *list, const char *name)
{
    while (*list && *list != ' ') {
        const char *n = name;
        while (*n && *list == *n) {
            list++;
            n++;
        }
        if (*n == '\0' && (*list == ',' || *list == ' ' || *list == '\0'))
            return 1;
        while (*list && *list != ',' && *list != ' ')
            list++;
        if (*list == ',')
            list++;
    }
    return 0;
}

/* Report a name in only= that no kernel has. Returns the problems found. */
static int check_only(const char *list)
{
    int bad = 0;

    while (list && *list && *list != ' ') {
        char name[32];
        size_t n = 0;
        for (; *list && *list != ',' && *list != ' '; list++)
            if (n + 1 < sizeof(name))
                name[n++] = *list;
        name[n] = '\0';
        if (*list == ',')
            list++;
        unsigned i = 0; /* a kernel's name is a list of one */
        while (i < bench_kernel_count && !list_has(bench_kernels[i].name, name))
            i++;
        if (i == bench_kernel_count) {
            bench_puts("bench-error no kernel named ");
            bench_puts(name);
            bench_puts("\n");
            bad++;
        }
    }
    return bad;
}

/* Check a run's checksum against the warm-up's; print the first change. */
static int same_check(const struct bench_kernel *k, uint32_t check,
                      uint32_t c, int bad)
{
    if (c == check || bad)
        return bad;
    bench_puts("bench-error ");
    bench_puts(k->name);
    bench_puts(" checksum changed between runs: ");
    put_hex32(check);
    bench_puts(" then ");
    put_hex32(c);
    bench_puts("\n");
    return 1;
}

/* One timed run of k after mode(alt) (when there is a mode). */
static uint64_t timed_run(const struct bench_kernel *k,
                          const struct bench_opts *o, int alt, uint32_t *c)
{
    if (o->mode)
        o->mode(alt);
    uint64_t t0 = rdtsc();
    *c = k->run();
    return rdtsc() - t0;
}

/* Time k: a warm-up, then reps runs (of each mode); print its line.
 * Returns 0 or 1. */
static int bench_one(const struct bench_kernel *k, const struct bench_opts *o)
{
    uint32_t check, c;
    uint64_t warmup = timed_run(k, o, 0, &check);
    uint64_t best[2] = {UINT64_MAX, UINT64_MAX};
    int bad = 0, modes = o->mode ? 2 : 1;

    for (int alt = 1; alt < modes; alt++) { /* the other mode's warm-up */
        (void)timed_run(k, o, alt, &c);
        bad = same_check(k, check, c, bad);
    }
    for (unsigned r = 0; r < o->reps; r++) {
        for (int alt = 0; alt < modes; alt++) {
            uint64_t t = timed_run(k, o, alt, &c);
            if (t < best[alt])
                best[alt] = t;
            bad = same_check(k, check, c, bad);
        }
    }
    bench_puts("bench ");
    bench_puts(k->name);
    bench_puts(" cycles=");
    put_u64(best[0]);
    bench_puts(" check=");
    put_hex32(check);
    bench_puts(" warmup=");
    put_u64(warmup);
    if (o->mode) {
        bench_puts(" alt=");
        put_u64(best[1]);
    }
    bench_puts("\n");
    return bad;
}

int bench_run_all(const struct bench_opts *o)
{
    int bad = check_only(o->only);
    char reps[21];

    format_u64(reps, o->reps);
    bench_puts("bench-start reps=");
    bench_puts(reps);
    bench_puts("\n");
    for (unsigned i = 0; i < bench_kernel_count; i++)
        if (!o->only || list_has(o->only, bench_kernels[i].name))
            bad += bench_one(&bench_kernels[i], o);
    bench_puts("bench-done\n");
    return bad;
}
