/* SPDX-License-Identifier: MIT */
/* The benchmark driver shared by the guest kernel and the native program. */
#ifndef BENCH_DRIVER_H
#define BENCH_DRIVER_H

#include <stdint.h>

/* What to run, from words of a command line. */
struct bench_opts {
    unsigned reps;    /* timed repetitions after the warm-up ("reps=N") */
    const char *only; /* "only=a,b": just these kernels; NULL for all */
    /* Set by the platform (bench_parse leaves it NULL): each repetition
     * then runs the kernel twice, after mode(0) and after mode(1), so the
     * two are timed minutes apart at most, not boots apart. */
    void (*mode)(int alt);
};

/* The platform's output: write the NUL-terminated string s as it is. */
void bench_puts(const char *s);

/*
 * Fill o from the words "reps=N" and "only=NAME[,NAME...]" anywhere in
 * cmdline (which may be NULL); other words are ignored.
 */
void bench_parse(struct bench_opts *o, const char *cmdline);

/*
 * Run the kernels o selects, each first as a warm-up (its cycles include
 * first-touch costs such as translation, and are reported apart) and then
 * o->reps times, printing the fastest of those as
 *   bench NAME cycles=MIN check=0xSUM warmup=CYCLES
 * per kernel (with o->mode, " alt=MIN" follows: the fastest run after
 * mode(1), whose checksum must be the same) between "bench-start" and "bench-done" lines. Returns the
 * number of problems, each also printed as a "bench-error" line: a
 * checksum that changed between runs, or a name in only= that matched no
 * kernel.
 */
int bench_run_all(const struct bench_opts *o);

#endif
