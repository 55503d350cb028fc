/* SPDX-License-Identifier: MIT */
/*
 * pg_loops: counted loops over paged memory. bt386 runs a loop that steps
 * one register to a bound without shadow lookups once it finds every page
 * the loop can reach on one run of contiguous frames (a "twin" body); a
 * CPU just uses its TLB. Either way the results must be the same: over
 * contiguous frames and scattered ones, after a remap with INVLPG (the
 * new frames, not the old), between two mappings of different frames,
 * and a store loop that reaches a read-only page faults at exactly that
 * element, with the elements before it written.
 */
#include "lib/paging.h"
#include "lib/sys.h"

#define LIN   0x40000000u
#define PAGES 8
#define WORDS (PAGES * PAGE_SIZE / 4)
#define PWU   (PTE_P | PTE_W | PTE_U)

static uint32_t *pd;
static uint32_t *frames[PAGES];
static uint32_t buffer[WORDS] __attribute__((aligned(4096)));

/* p[i] = 3i + c for n words: a loop stepping a pointer by 4 to a bound. */
static void __attribute__((noinline)) fill(uint32_t *p, uint32_t n, uint32_t c)
{
    for (uint32_t i = 0; i < n; i++)
        p[i] = 3 * i + c;
}

/* The sum of n words, by a counted loop. */
static uint32_t __attribute__((noinline)) sum(const uint32_t *p, uint32_t n)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

/* dst[i] = src[i] + 1: two arrays, one counter. */
static void __attribute__((noinline)) copy_inc(uint32_t *dst,
                                               const uint32_t *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        dst[i] = src[i] + 1;
}

/* Words of frame f that do not hold 3i + c for their index i at LIN. */
static unsigned frame_bad(unsigned f, unsigned page, uint32_t c)
{
    unsigned bad = 0;
    for (uint32_t w = 0; w < PAGE_SIZE / 4; w++)
        bad += frames[f][w] != 3 * (page * (PAGE_SIZE / 4) + w) + c;
    return bad;
}

static uint32_t expected_sum(uint32_t c)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < WORDS; i++)
        s += 3 * i + c;
    return s;
}

static void map_all(int reversed)
{
    for (unsigned i = 0; i < PAGES; i++) {
        unsigned f = reversed ? PAGES - 1 - i : i;
        pg_map(pd, LIN + i * PAGE_SIZE, (uint32_t)frames[f], PWU);
        invlpg(LIN + i * PAGE_SIZE);
    }
}

static void test_contiguous(void)
{
    uint32_t *p = (uint32_t *)LIN;
    unsigned bad = 0;
    /* Twice: the first pass meets every page for the first time. */
    for (uint32_t c = 1; c <= 2; c++) {
        fill(p, WORDS, c);
        check_eq(c == 1 ? "contiguous_sum_first" : "contiguous_sum_again",
                 expected_sum(c), sum(p, WORDS));
    }
    for (unsigned i = 0; i < PAGES; i++)
        bad += frame_bad(i, i, 2);
    check_eq("contiguous_frames_hold_it", 0, bad);
}

static void test_scattered_after_remap(void)
{
    uint32_t *p = (uint32_t *)LIN;
    unsigned bad = 0;
    map_all(1);
    fill(p, WORDS, 7);
    fill(p, WORDS, 9);
    check_eq("scattered_sum", expected_sum(9), sum(p, WORDS));
    for (unsigned i = 0; i < PAGES; i++)
        bad += frame_bad(PAGES - 1 - i, i, 9);
    check_eq("remapped_frames_hold_it", 0, bad);
}

static void test_two_mappings(void)
{
    unsigned bad = 0;
    for (int pass = 0; pass < 2; pass++)
        copy_inc(buffer, (const uint32_t *)LIN, WORDS);
    for (uint32_t i = 0; i < WORDS; i++)
        bad += buffer[i] != 3 * i + 9 + 1;
    check_eq("copy_between_mappings", 0, bad);
}

static void test_read_only(void)
{
    uint32_t ro = LIN + 5 * PAGE_SIZE;
    cr0_write(cr0_read() | CR0_WP);
    pg_map(pd, ro, (uint32_t)frames[PAGES - 1 - 5], PTE_P | PTE_U);
    invlpg(ro);
    (void)sum((const uint32_t *)LIN, WORDS); /* every page read: cached */
    TRY("xorl %%ecx, %%ecx\n\t" TRY_MARK
        "1: movl %%ecx, (%%edi,%%ecx,4)\n\t"
        "incl %%ecx\n\t"
        "cmpl %%edx, %%ecx\n\t"
        "jne 1b",
        : : "D"(LIN), "d"(WORDS) : "ecx", "memory");
    /* Not check_trap: the loop's CMP changed EFLAGS since the TRY (and
     * bt386 does not keep flags that are dead at a faulting access). */
    check_eq("store_loop_faults_once", 1, caught.count);
    check_eq("store_loop_fault_is_pf", VEC_PF, caught.vector);
    check_eq("store_loop_fault_error", PF_P | PF_W, caught.error);
    check_eq("store_loop_fault_at_the_store", try_mark, caught.eip);
    check_eq("fault_cr2_first_read_only_word", ro, caught.cr2);
    check_eq("last_word_before_it_written", 5 * PAGE_SIZE / 4 - 1,
             *(volatile uint32_t *)(ro - 4));
    check_eq("read_only_page_unchanged", 3 * (5 * PAGE_SIZE / 4) + 9,
             *(volatile uint32_t *)ro);
    cr0_write(cr0_read() & ~CR0_WP);
}

void test_main(void)
{
    for (unsigned i = 0; i < PAGES; i++)
        frames[i] = pg_alloc();
    pd = pg_dir_new();
    map_all(0);
    pg_enable(pd);
    test_contiguous();
    test_scattered_after_remap();
    test_two_mappings();
    test_read_only();
    pg_disable();
}
