/* SPDX-License-Identifier: MIT */
/* bench native: run the compute kernels as a 32-bit Linux program. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "driver.h"

void bench_puts(const char *s)
{
    fputs(s, stdout);
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * The TSC's rate in Hz, against the monotonic clock over about 200 ms of
 * spinning; the run script turns cycles into milliseconds with it. The
 * guest's RDTSC reads this same counter under bt386 (and, closely, QEMU).
 */
static uint64_t tsc_hz(void)
{
    double t0 = now_seconds(), t1;
    uint64_t c0 = __rdtsc();

    do
        t1 = now_seconds();
    while (t1 - t0 < 0.2);
    return (uint64_t)((double)(__rdtsc() - c0) / (t1 - t0));
}

/* Arguments are the guest's command-line words: reps=N only=a,b. */
int main(int argc, char **argv)
{
    char cmdline[1024] = "";
    struct bench_opts opts;

    for (int i = 1; i < argc; i++) {
        if (strlen(cmdline) + strlen(argv[i]) + 2 > sizeof(cmdline))
            break;
        strcat(cmdline, argv[i]);
        strcat(cmdline, " ");
    }
    bench_parse(&opts, cmdline);
    printf("bench-tsc hz=%llu\n", (unsigned long long)tsc_hz());
    return bench_run_all(&opts) ? 1 : 0;
}
