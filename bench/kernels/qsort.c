/* SPDX-License-Identifier: MIT */
/* qsort: quicksort of pseudo-random ints: compares, swaps, recursion. */
#include "kernels.h"

#define QSORT_COUNT (1024 * 1024)

static uint32_t qsort_array[QSORT_COUNT];

/* Hoare partition around the middle element; recurse on the smaller side
 * and loop on the larger, so the stack stays O(log n). */
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
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
}

uint32_t bench_qsort(void)
{
    uint32_t seed = 12345, sum = 0;

    for (int i = 0; i < QSORT_COUNT; i++)
        qsort_array[i] = bench_lcg(&seed);
    quicksort(qsort_array, 0, QSORT_COUNT - 1);
    /* Order-sensitive, and zero if the array is not sorted. */
    for (int i = 0; i < QSORT_COUNT; i++) {
        if (i > 0 && qsort_array[i - 1] > qsort_array[i])
            return 0;
        sum = bench_mix(sum, qsort_array[i]);
    }
    return sum;
}
