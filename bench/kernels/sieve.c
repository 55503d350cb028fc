/* SPDX-License-Identifier: MIT */
/* sieve: count the primes below a limit with Eratosthenes' sieve. */
#include "kernels.h"

#define SIEVE_LIMIT  (2 * 1024 * 1024) /* one byte per number: 2 MiB */
#define SIEVE_PASSES 24

static uint8_t composite[SIEVE_LIMIT];

/* Count the primes below limit (at most SIEVE_LIMIT): a byte-clearing
 * loop, then strided byte stores, then a scan. */
static uint32_t primes_below(uint32_t limit)
{
    uint32_t count = 0, root = 1;

    while ((root + 1) * (root + 1) < limit)
        root++;
    for (uint32_t i = 0; i < limit; i++)
        composite[i] = 0;
    for (uint32_t i = 2; i < limit; i++) {
        if (composite[i])
            continue;
        count++;
        if (i <= root)
            for (uint32_t j = i * i; j < limit; j += i)
                composite[j] = 1;
    }
    return count;
}

uint32_t bench_sieve(void)
{
    uint32_t sum = 0;

    /* Slightly different limits, so each pass is real work. */
    for (uint32_t pass = 0; pass < SIEVE_PASSES; pass++)
        sum = bench_mix(sum, primes_below(SIEVE_LIMIT - pass * 1000));
    return sum;
}
