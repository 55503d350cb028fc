// SPDX-License-Identifier: MIT
/* Shadow page tables: per privilege view, a flat array of host deltas
 * indexed by guest virtual page, read by translated code directly. */
#include "mmu/shadow.h"
#include "mmu/walk.h"
#include "monitor/vcpu.h"

#include <emmintrin.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Above this many filled entries a flush drops whole tables instead. */
#define FILLED_MAX 8192
#define LOW_START 0x10000ull /* below is mmap_min_addr's territory */
#define LOW_END (1ull << 32)

/* Reserve the host's low 4 GiB so that a zero entry, were one ever used
 * untested, could only fault. Under AddressSanitizer part of it is shadow
 * memory and the reservation fails; translated code tests every entry
 * anyway (see dbt/translate.c). */
static bool reserve_low(void)
{
    void *p = mmap((void *)LOW_START, LOW_END - LOW_START, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                       MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    if (p != (void *)LOW_START) {
        munmap(p, LOW_END - LOW_START);
        return false;
    }
    return true;
}

static bool low_reserved;

bool shadow_zero_faults(void)
{
    return low_reserved;
}

_Static_assert(offsetof(struct shadow_memo, entry) ==
                       (size_t)SHADOW_MEMO_ENTRY(0, 0) + SHADOW_MEMO_BYTES &&
                   offsetof(struct shadow_memo, pagenum) ==
                       (size_t)SHADOW_MEMO_PAGENUM(0, 0) + SHADOW_MEMO_BYTES,
               "translated code knows the memo's layout");
_Static_assert(sizeof(struct shadow_memo) <= SHADOW_MEMO_BYTES,
               "the memo fits below a view");
_Static_assert(SHADOW_MEMO_SLOTS % 4 == 0, "memo_drop tests four at a time");

struct shadow_memo *shadow_memo(struct shadow *s, int view)
{
    return (struct shadow_memo *)(s->view[view] - SHADOW_MEMO_BYTES);
}

unsigned shadow_memo_deal(struct shadow *s, bool write)
{
    return s->memo_dealt[write]++ % SHADOW_MEMO_SLOTS;
}

/* Empty the memo slots of both views that hold page `page` (its linear
 * address), or all of them for SHADOW_MEMO_NONE. Only slots dealt so far
 * can hold one; INVLPG finds its page's slots four page numbers at a time
 * (SSE2), since guests issue it by the thousand. */
static void memo_drop(struct shadow *s, uint64_t page)
{
    __m128i key = _mm_set1_epi32((int)(uint32_t)(page >> 12));
    for (int view = 0; view < 2; view++) {
        struct shadow_memo *m = shadow_memo(s, view);
        for (unsigned w = 0; w < 2; w++) {
            unsigned n = s->memo_dealt[w] < SHADOW_MEMO_SLOTS
                             ? s->memo_dealt[w] : SHADOW_MEMO_SLOTS;
            unsigned first = w * SHADOW_MEMO_SLOTS;
            for (unsigned i = first; i < first + n; i += 4) {
                int hits = 0xf; /* SHADOW_MEMO_SLOTS is a multiple of 4 */
                if (page != SHADOW_MEMO_NONE) {
                    __m128i v = _mm_loadu_si128((const __m128i *)&m->pagenum[i]);
                    hits = _mm_movemask_ps(
                        _mm_castsi128_ps(_mm_cmpeq_epi32(v, key)));
                }
                for (unsigned k = 0; k < 4; k++)
                    if (hits & (1 << k)) {
                        m->page[i + k] = SHADOW_MEMO_NONE;
                        m->pagenum[i + k] = ~0u;
                    }
            }
        }
    }
}

static void memo_init(struct shadow *s)
{
    for (int view = 0; view < 2; view++) {
        struct shadow_memo *m = shadow_memo(s, view);
        for (unsigned i = 0; i < SHADOW_MEMO_N; i++) {
            m->page[i] = SHADOW_MEMO_NONE;
            m->entry[i] = 0;
            m->pagenum[i] = ~0u;
        }
    }
}

int shadow_init(struct shadow *s)
{
    static bool low_done;
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < 2; i++) {
        uint8_t *p = mmap(NULL, SHADOW_MEMO_BYTES + SHADOW_VIEW_BYTES,
                          PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            shadow_destroy(s);
            return -1;
        }
        s->view[i] = p + SHADOW_MEMO_BYTES;
    }
    memo_init(s);
    s->filled = calloc(FILLED_MAX, sizeof(*s->filled));
    if (!s->filled) {
        shadow_destroy(s);
        errno = ENOMEM;
        return -1;
    }
    if (!low_done) {
        low_reserved = reserve_low();
        low_done = true;
    }
    return 0;
}

void shadow_destroy(struct shadow *s)
{
    for (int i = 0; i < 2; i++)
        if (s->view[i])
            munmap(s->view[i] - SHADOW_MEMO_BYTES,
                   SHADOW_MEMO_BYTES + SHADOW_VIEW_BYTES);
    free(s->filled);
    memset(s, 0, sizeof(*s));
}

static uint64_t *entry(struct shadow *s, int view, bool write, uint32_t page)
{
    uint8_t *t = s->view[view] + (write ? SHADOW_WRITE_OFFSET : 0);
    return (uint64_t *)t + page;
}

void shadow_flush(struct shadow *s)
{
    memo_drop(s, SHADOW_MEMO_NONE);
    if (s->nfilled >= FILLED_MAX) {
        for (int i = 0; i < 2; i++)
            madvise(s->view[i], SHADOW_VIEW_BYTES, MADV_DONTNEED);
    } else {
        for (size_t i = 0; i < s->nfilled; i++) {
            uint32_t f = s->filled[i];
            *entry(s, (int)((f >> 21) & 1), (f >> 20) & 1, f & 0xfffff) = 0;
        }
    }
    s->nfilled = 0;
}

#define FILLED_GLOBAL (1u << 22)

void shadow_flush_nonglobal(struct shadow *s)
{
    if (s->nfilled >= FILLED_MAX) {
        shadow_flush(s);
        return;
    }
    memo_drop(s, SHADOW_MEMO_NONE);
    size_t kept = 0;
    for (size_t i = 0; i < s->nfilled; i++) {
        uint32_t f = s->filled[i];
        if (f & FILLED_GLOBAL)
            s->filled[kept++] = f;
        else
            *entry(s, (int)((f >> 21) & 1), (f >> 20) & 1, f & 0xfffff) = 0;
    }
    s->nfilled = kept;
}

void shadow_invlpg(struct shadow *s, uint32_t la)
{
    uint32_t page = la >> 12;
    memo_drop(s, (uint64_t)page << 12);
    for (int view = 0; view < 2; view++) {
        *entry(s, view, false, page) = 0;
        *entry(s, view, true, page) = 0;
    }
}

static void set_entry(struct shadow *s, int view, bool write, uint32_t page,
                      uint64_t delta, bool global)
{
    uint64_t *e = entry(s, view, write, page);
    if (*e == 0 && s->nfilled < FILLED_MAX)
        s->filled[s->nfilled++] = (global ? FILLED_GLOBAL : 0) |
                                  (uint32_t)view << 21 |
                                  (uint32_t)write << 20 | page;
    else if (*e == 0)
        s->nfilled = FILLED_MAX; /* too many to list: flush drops all */
    /* A write fill can re-walk a page whose read entry is there: if the
     * guest moved the page meanwhile (without INVLPG), the TLB takes the
     * new translation, and memo slots must not keep the old one. */
    if (*e != 0 && *e != delta)
        memo_drop(s, (uint64_t)page << 12);
    *e = delta;
}

int shadow_fill(struct vcpu *v, uint32_t la, bool write, uint32_t *err)
{
    struct shadow *s = v->shadow;
    int view = v->cpl == 3;
    unsigned acc = (write ? ACC_WRITE : 0) | (view ? ACC_USER : 0);
    struct walk w;
    if (mmu_walk(v, la, acc, &w, err) != 0)
        return -1;
    uint32_t pa_page = w.pa & ~0xfffu;
    if ((uint64_t)pa_page + 4096 > v->ram_size)
        return 1;
    uint32_t page = la >> 12;
    uint64_t delta = v->phys_base + pa_page - ((uint64_t)page << 12);
    set_entry(s, view, false, page, delta, w.global);
    /* The write entry only once a write may go straight through: the
     * page is writable here and already dirty (a write just made it so). */
    if (w.writable && w.dirty)
        set_entry(s, view, true, page, delta, w.global);
    return 0;
}

uint8_t *shadow_current(struct shadow *s, int cpl)
{
    return s->view[cpl == 3];
}
