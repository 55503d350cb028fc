/* SPDX-License-Identifier: MIT */
/* Converting between the board's nanosecond time base and the ticks of a
 * device clock of hz that started counting at epoch_ns (PIT, RTC divider
 * chain, ACPI PM timer). */
#ifndef BT386_DEVICES_CLOCK_H
#define BT386_DEVICES_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_SEC 1000000000ull

/* The host's monotonic clock, in nanoseconds: the board's time base. */
static inline uint64_t clock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * CLOCK_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Ticks counted from epoch_ns to t (0 before the epoch). */
static inline uint64_t clock_ticks(uint64_t hz, int64_t epoch_ns, int64_t t)
{
    if (t <= epoch_ns)
        return 0;
    unsigned __int128 ns = (unsigned __int128)(t - epoch_ns);
    return (uint64_t)(ns * hz / CLOCK_NS_PER_SEC);
}

/* The first time at which clock_ticks reaches tick. */
static inline int64_t clock_tick_ns(uint64_t hz, int64_t epoch_ns,
                                    uint64_t tick)
{
    unsigned __int128 ns = (unsigned __int128)tick * CLOCK_NS_PER_SEC;
    return epoch_ns + (int64_t)((ns + hz - 1) / hz);
}

#endif
