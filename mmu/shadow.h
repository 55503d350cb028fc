/* SPDX-License-Identifier: MIT */
/* Shadow page tables: per privilege view, a flat array of host deltas
 * indexed by guest virtual page, read by translated code directly. */
#ifndef BT386_MMU_SHADOW_H
#define BT386_MMU_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;

#define SHADOW_PAGES (1u << 20)              /* 4 GiB / 4 KiB */
#define SHADOW_TABLE_BYTES (SHADOW_PAGES * 8u) /* 8 MiB */
/* A view is a read table followed by a write table, so translated code
 * reaches the write entry at a fixed displacement from the read entry. */
#define SHADOW_WRITE_OFFSET SHADOW_TABLE_BYTES
#define SHADOW_VIEW_BYTES (2u * SHADOW_TABLE_BYTES)

/*
 * The page memo, in the two pages just below each view: slots that translated
 * access sites keep the last page they reached in (page, the page's
 * linear address) and that page's entry. A site whose address lies in its
 * slot's page takes the entry from the slot, a load that does not wait
 * for the address, instead of reading the table at the address's page
 * (dbt/translate.c). Read and write entries have slots of their own.
 * Every change that could make an entry stale (flush, INVLPG, a fill that
 * replaces an entry) empties the slots; other fills only add entries.
 */
#define SHADOW_MEMO_SLOTS 128 /* per table */
#define SHADOW_MEMO_N (2 * SHADOW_MEMO_SLOTS) /* read table's, then write's */
#define SHADOW_MEMO_BYTES 8192u
#define SHADOW_MEMO_NONE (1ull << 63) /* no address is in this "page" */
struct shadow_memo {
    uint64_t page[SHADOW_MEMO_N];    /* linear address, or SHADOW_MEMO_NONE */
    uint64_t entry[SHADOW_MEMO_N];
    uint32_t pagenum[SHADOW_MEMO_N]; /* page >> 12, or ~0 */
};
/* Displacement from the view pointer of slot i's fields. */
#define SHADOW_MEMO_AT(field, size, write, i)                                 \
    (-(int32_t)SHADOW_MEMO_BYTES + (int32_t)(field) +                         \
     (int32_t)(((write) ? SHADOW_MEMO_SLOTS : 0) + (i)) * (size))
#define SHADOW_MEMO_PAGE(write, i) SHADOW_MEMO_AT(0, 8, write, i)
#define SHADOW_MEMO_ENTRY(write, i)                                           \
    SHADOW_MEMO_AT(8 * SHADOW_MEMO_N, 8, write, i)
#define SHADOW_MEMO_PAGENUM(write, i)                                         \
    SHADOW_MEMO_AT(16 * SHADOW_MEMO_N, 4, write, i)

/*
 * An entry is a host delta: host address = delta + linear. Zero means
 * miss; translated code tests for it. Should an untested zero entry ever
 * be used, the access goes to host address `linear`, in the low 4 GiB that
 * bt386 keeps reserved and inaccessible, and faults.
 */
struct shadow {
    uint8_t *view[2];   /* [0] supervisor (CPL 0-2), [1] user (CPL 3);
                           each with its memo below it */
    unsigned memo_dealt[2]; /* memo slots dealt, read and write tables */
    uint32_t *filled;   /* (global << 22 | view << 21 | write << 20 | page)
                           filled since the last flush */
    size_t nfilled;
};

/* Allocate the tables (lazily backed). Returns 0, or -1 with errno. */
int shadow_init(struct shadow *s);
void shadow_destroy(struct shadow *s);

/* Drop every entry (CR3 load, CR0.PG/WP or CR4 change). */
void shadow_flush(struct shadow *s);

/* A CR3 load with CR4.PGE: drop every entry but those of global pages,
 * which the TLB keeps too. */
void shadow_flush_nonglobal(struct shadow *s);

/* Drop the entries for the page holding linear address la (INVLPG). */
void shadow_invlpg(struct shadow *s, uint32_t la);

/*
 * A translated access to la (write or not, at the current privilege)
 * missed: walk the guest tables and fill the entry. Returns 0, or -1 with
 * the #PF error code in *err (the caller delivers the fault). Returns 1
 * when the page has no RAM behind it (MMIO or nothing): the access must
 * take the slow path.
 */
int shadow_fill(struct vcpu *v, uint32_t la, bool write, uint32_t *err);

/* A view's memo slots (for tests). */
struct shadow_memo *shadow_memo(struct shadow *s, int view);

/* The memo slot for a new translated access site, in the read or write
 * table's half: dealt in turn (dropping only ever looks at those dealt). */
unsigned shadow_memo_deal(struct shadow *s, bool write);

/* Is the host's low 4 GiB reserved, so that an untested zero entry
 * faults? (Not under AddressSanitizer, whose shadow memory lives there.) */
bool shadow_zero_faults(void);

/* The table pointer translated code uses for the vCPU's privilege. */
uint8_t *shadow_current(struct shadow *s, int cpl);

#endif
