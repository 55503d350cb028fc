// SPDX-License-Identifier: MIT
/* The code cache: blocks keyed by guest address and mode, chaining, jump
 * cache, and lookups from host PC back to the block (for signals). */
#include "dbt/internal.h"
#include "dbt/trace.h"
#include "devices/clock.h"
#include "mmu/walk.h"
#include "monitor/vcpu.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PCMAP_PER_BLOCK_AVG 16
#define CODE_RESERVED 64 /* the stale-entry stub, at the start of the cache */

/*
 * A stale block's entry is overwritten with a CALL to this stub, so a
 * chained jump or jump-cache hit that still reaches it leaves for the
 * monitor, which finds the block from the return address. Flag-free:
 * POP to memory and MOV leave RFLAGS alone.
 */
static void emit_stale_stub(uint8_t *at)
{
    struct emitter e;
    emit_init(&e, at, CODE_RESERVED);
    emit_pop_m64(&e, VCPU_MEM(VCPU_OFF_EXIT_ARG));
    emit_mov_m64_imm32(&e, VCPU_MEM(VCPU_OFF_EXIT_REASON), EXIT_STALE);
    emit_jmp_m64(&e, VCPU_MEM(VCPU_OFF_EXIT_FN));
}

struct dbt *dbt_create(size_t cache_bytes)
{
    struct dbt *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->dec = decoder_create();
    d->code = mmap(NULL, cache_bytes, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    d->code_size = cache_bytes;
    d->code_reserved = d->code_used = CODE_RESERVED;
    d->max_blocks = cache_bytes / 128;
    d->max_pcmap = d->max_blocks * PCMAP_PER_BLOCK_AVG;
    d->blocks = calloc(d->max_blocks, sizeof(*d->blocks));
    d->pcmaps = calloc(d->max_pcmap, sizeof(*d->pcmaps));
    if (!d->dec || d->code == MAP_FAILED || !d->blocks || !d->pcmaps) {
        if (d->code != MAP_FAILED)
            munmap(d->code, cache_bytes);
        d->code = NULL;
        dbt_destroy(d);
        return NULL;
    }
    emit_stale_stub(d->code);
    return d;
}

void dbt_destroy(struct dbt *d)
{
    if (!d)
        return;
    free(d->code_page);
    free(d->page_blocks);
    free(d->protected);
    if (d->code)
        munmap(d->code, d->code_size);
    decoder_destroy(d->dec);
    free(d->blocks);
    free(d->pcmaps);
    free(d);
}

/*
 * Does a data access through segment seg need the monitor's limit and
 * type checks? Only in protected mode (then always for CS overrides),
 * and not for a null FS or GS (Linux runs with them so; such an access
 * goes through base 0 unchecked, see docs/architecture.md).
 */
static bool seg_restricted(const struct vcpu *v, int seg)
{
    const struct segment *s = &v->seg[seg];
    if (!cpu_protected_mode(v))
        return false;
    if (seg == SEG_CS)
        return true;
    if (!(s->attr & 0x80)) /* not present: a null selector */
        return (seg != SEG_FS && seg != SEG_GS) || (s->sel & ~3u);
    unsigned type = s->attr & 0xf;
    return s->limit != 0xffffffffu || (type & 0x8) /* code */ ||
           (type & 0x4) /* expand-down */ || !(type & 0x2) /* read-only */;
}

uint32_t dbt_mode(const struct vcpu *v)
{
    uint32_t m = 0;
    for (int seg = 0; seg < SEG_COUNT; seg++)
        if (seg_restricted(v, seg))
            m |= MODE_SEGCHK(seg);
    if (v->seg[SEG_CS].attr & SEG_ATTR_DB)
        m |= MODE_CODE32;
    if (v->seg[SEG_SS].attr & SEG_ATTR_DB)
        m |= MODE_STACK32;
    if ((v->seg[SEG_CS].base | v->seg[SEG_DS].base | v->seg[SEG_ES].base |
         v->seg[SEG_SS].base) == 0)
        m |= MODE_FLAT;
    if (v->cr0 & CR0_PG)
        m |= MODE_PAGING;
    if (v->cr0 & CR0_TS)
        m |= MODE_TS;
    if (v->cr0 & CR0_EM)
        m |= MODE_EM;
    if (v->cr0 & CR0_MP)
        m |= MODE_MP;
    if (!(v->cr4 & 0x200)) /* CR4.OSFXSR */
        m |= MODE_NOFXSR;
    if (v->cr4 & 0x4) /* CR4.TSD */
        m |= MODE_TSD;
    return m;
}

static unsigned hash_key(uint32_t linear, uint32_t mode)
{
    uint32_t h = (linear ^ (mode << 29)) * 0x9e3779b1u;
    return h >> (32 - HASH_BITS);
}

static bool watched(const struct dbt *d, uint32_t page)
{
    for (int i = 0; i < d->nwatch; i++)
        if (d->watch_page[i] == page)
            return true;
    return false;
}

/* Set a window page's access; a watched page stays inaccessible. */
static void set_page_access(struct vcpu *v, uint32_t page, int prot)
{
    struct dbt *d = v->dbt;
    if (!d->watch_open && watched(d, page))
        prot = PROT_NONE;
    mprotect((uint8_t *)(uintptr_t)v->phys_base + ((size_t)page << 12), 4096,
             prot);
}

/* What a window page's access is without watching. */
static int page_access(const struct dbt *d, uint32_t page)
{
    return dbt_is_code_page(d, page << 12) ? PROT_READ
                                           : PROT_READ | PROT_WRITE;
}

static void apply_watch(struct dbt *d, struct vcpu *v)
{
    for (int i = 0; i < d->nwatch; i++)
        set_page_access(v, d->watch_page[i], page_access(d, d->watch_page[i]));
}

void dbt_watch_pages(struct dbt *d, struct vcpu *v, const uint32_t *pages,
                     int n)
{
    uint32_t old[4];
    int nold = d->nwatch;
    for (int i = 0; i < nold; i++)
        old[i] = d->watch_page[i];
    d->nwatch = 0;
    for (int i = 0; i < n && i < 4; i++)
        if ((pages[i] << 12) < v->ram_size && !watched(d, pages[i]))
            d->watch_page[d->nwatch++] = pages[i];
    for (int i = 0; i < nold; i++) /* give back what is no longer watched */
        set_page_access(v, old[i], page_access(d, old[i]));
    d->watch_open = false;
    apply_watch(d, v);
}

void dbt_watch_open(struct dbt *d, struct vcpu *v, bool open)
{
    d->watch_open = open;
    apply_watch(d, v);
}

bool dbt_is_watch_page(const struct dbt *d, uint32_t pa)
{
    return watched(d, pa >> 12);
}

/* Make every write-protected code page writable again; forget all pages'
 * block lists (the blocks are about to go). */
static void unprotect_all(struct dbt *d, struct vcpu *v)
{
    for (size_t i = 0; i < d->nprotected; i++) {
        uint32_t page = d->protected[i];
        if (d->code_page[page] == CODE_PAGE_PROTECTED)
            set_page_access(v, page, PROT_READ | PROT_WRITE);
        d->code_page[page] = CODE_PAGE_NONE;
        d->page_blocks[page] = 0;
    }
    d->nprotected = 0;
}

/* Mark the guest page holding physical address pa as code: guest writes
 * to it now fault and drop its translations (see dbt_smc_fault). Puts b
 * (its slot-th page) on the page's list. */
static void protect_page(struct dbt *d, struct vcpu *v, uint32_t pa,
                         struct block *b, int slot)
{
    uint32_t page = pa >> 12;
    if (!d->code_page) {
        d->npages = v->ram_size >> 12;
        d->code_page = calloc(d->npages, 1);
        d->page_blocks = calloc(d->npages, sizeof(*d->page_blocks));
        d->protected = calloc(d->npages, sizeof(*d->protected));
        if (!d->code_page || !d->page_blocks || !d->protected)
            abort();
    }
    b->pages[slot] = page;
    if (page >= d->npages)
        return;
    b->page_next[slot] = d->page_blocks[page];
    d->page_blocks[page] = (uint32_t)(b - d->blocks) + 1;
    if (d->code_page[page] == CODE_PAGE_PROTECTED)
        return;
    if (d->code_page[page] == CODE_PAGE_NONE)
        d->protected[d->nprotected++] = page;
    d->code_page[page] = CODE_PAGE_PROTECTED;
    set_page_access(v, page, PROT_READ);
}

bool dbt_is_code_page(const struct dbt *d, uint32_t pa)
{
    uint32_t page = pa >> 12;
    return d->code_page && page < d->npages &&
           d->code_page[page] == CODE_PAGE_PROTECTED;
}

/* Block b's code was written: its entry now calls the stale stub. It stays
 * in the hash until the next lookup of its key, which links it onward. */
static void make_stale(struct dbt *d, struct block *b)
{
    b->stale = true;
    b->host[0] = 0xe8; /* call rel32 */
    emit_patch_rel32(b->host + 1, d->code);
}

/* Drop the translations of one code page, make it writable again, and
 * forget decoded instructions on it. */
static void invalidate_page(struct dbt *d, struct vcpu *v, uint32_t page)
{
    for (uint32_t i = d->page_blocks[page]; i;) {
        struct block *b = &d->blocks[i - 1];
        int slot = b->pages[0] == page ? 0 : 1;
        i = b->page_next[slot];
        if (!b->stale)
            make_stale(d, b);
    }
    d->page_blocks[page] = 0;
    d->code_page[page] = CODE_PAGE_LISTED;
    set_page_access(v, page, PROT_READ | PROT_WRITE);
    for (size_t i = 0; i < DECODED_SLOTS; i++)
        if (d->decoded[i].phys >> 12 == page)
            d->decoded[i].generation = 0;
    vcpu_jc_clear(v);
    v->stats.smc_flushes++;
}

void dbt_note_write(struct dbt *d, struct vcpu *v, uint32_t pa, unsigned len)
{
    if (!d->code_page || len == 0)
        return;
    uint32_t last = (uint32_t)(((uint64_t)pa + len - 1) >> 12);
    for (uint32_t page = pa >> 12; page <= last && page < d->npages; page++)
        if (d->code_page[page] == CODE_PAGE_PROTECTED)
            invalidate_page(d, v, page);
}

void dbt_smc_fault(struct dbt *d, struct vcpu *v)
{
    if (dbt_is_code_page(d, (uint32_t)v->fault_addr))
        invalidate_page(d, v, (uint32_t)v->fault_addr >> 12);
    else
        dbt_flush(d, v); /* not a page we know: be safe */
    d->single_step = true;
}

void dbt_flush(struct dbt *d, struct vcpu *v)
{
    if (d->code_page)
        unprotect_all(d, v);
    d->generation++;
    d->code_used = d->code_reserved;
    d->nblocks = 0;
    d->npcmap = 0;
    memset(d->hash, 0, sizeof(d->hash));
    vcpu_jc_clear(v);
}

/* Is the code at linear la on a global page (kept across CR3 loads)? */
static bool code_global(struct vcpu *v, uint32_t la)
{
    struct walk w;
    uint32_t err;
    return (v->cr0 & CR0_PG) &&
           mmu_walk(v, la, ACC_FETCH | (v->cpl == 3 ? ACC_USER : 0), &w,
                    &err) == 0 &&
           w.global;
}

void dbt_jc_fill(struct vcpu *v, struct block *b)
{
    /* A one-off block (a fetch fault reported once, a single step) must
     * not be reached again through the cache. */
    if (!b->cached)
        return;
    size_t i = b->eip & (JC_SIZE - 1);
    uint32_t la = b->cs_base + b->eip;
    v->jc_global[i] = code_global(v, la) &&
                      (b->guest_len <= 1 ||
                       code_global(v, la + b->guest_len - 1));
    if (v->jc_tag[i] == JC_INVALID_TAG && v->njc_used <= JC_USED_MAX) {
        if (v->njc_used < JC_USED_MAX)
            v->jc_used[v->njc_used] = (uint32_t)i;
        v->njc_used++; /* JC_USED_MAX + 1: too many, clear it all */
    }
    v->jc_tag[i] = (uint64_t)0 - ((uint64_t)b->eip +
                                  (uint64_t)(uintptr_t)v->shadow_table);
    v->jc_eip[i] = b->eip;
    v->jc_host[i] = b->host;
}

/* Blocks are keyed by the physical address of their code and by the
 * linear EIP they were translated at (their code embeds linear targets).
 * A stale block of the key is taken out of the hash and returned in
 * *stale, so the caller can send its entry on to the new translation. */
static struct block *lookup(struct dbt *d, uint32_t eip, uint32_t cs_base,
                            uint32_t phys, uint32_t mode, struct block **stale)
{
    struct block **pp = &d->hash[hash_key(phys, mode)];
    *stale = NULL;
    while (*pp) {
        struct block *b = *pp;
        if (b->eip == eip && b->mode == mode && b->phys == phys &&
            (b->mode & MODE_FLAT || cs_base == b->cs_base)) {
            if (!b->stale)
                return b;
            *pp = b->hash_next;
            *stale = b;
            continue;
        }
        pp = &b->hash_next;
    }
    return NULL;
}

bool dbt_code_phys(struct vcpu *v, uint32_t la, uint32_t *pa)
{
    struct walk w;
    uint32_t err;
    if (!(v->cr0 & CR0_PG)) {
        *pa = la;
        return true;
    }
    if (mmu_walk(v, la, ACC_FETCH | (v->cpl == 3 ? ACC_USER : 0), &w, &err))
        return false;
    *pa = w.pa;
    return true;
}

/* Room for one more block? If not, start the cache over. */
static void ensure_room(struct dbt *d, struct vcpu *v)
{
    if (d->code_used + BLOCK_MAX_HOST > d->code_size ||
        d->nblocks == d->max_blocks ||
        d->npcmap + 2 * BLOCK_MAX_INSNS > d->max_pcmap)
        dbt_flush(d, v);
}

/* Write-protect the physical pages a block's code lies on (SMC). */
static void protect_block(struct dbt *d, struct vcpu *v, struct block *b)
{
    uint32_t start = b->cs_base + b->eip, last_pa;
    protect_page(d, v, b->phys, b, 0);
    b->pages[1] = b->pages[0];
    if (b->guest_len && dbt_code_phys(v, start + b->guest_len - 1, &last_pa) &&
        last_pa >> 12 != b->phys >> 12)
        protect_page(d, v, last_pa, b, 1);
}

static struct block *translate(struct dbt *d, struct vcpu *v, uint32_t mode,
                               uint32_t phys, bool cacheable)
{
    uint64_t t0 = clock_now_ns();
    ensure_room(d, v);
    struct block *b = &d->blocks[d->nblocks];
    struct emitter e;
    emit_init(&e, d->code + d->code_used, BLOCK_MAX_HOST);
    memset(b, 0, sizeof(*b));
    b->cs_base = v->seg[SEG_CS].base;
    bool once = d->single_step || d->bounce_step || !cacheable;
    bool bounce = d->bounce_step;
    unsigned flags = (d->past_breakpoint ? ONCE_PAST_BP : 0) |
                     (d->seg_unchecked ? ONCE_UNCHECKED : 0) |
                     (d->bounce_stack ? ONCE_BOUNCE_STACK : 0);
    d->single_step = d->bounce_step = d->past_breakpoint = false;
    d->seg_unchecked = d->bounce_stack = false;
    b->phys = phys;
    translate_block(d, v, mode, &e, b, &d->pcmaps[d->npcmap],
                    (once && cacheable) || (mode & MODE_ONE) ? 1
                                                             : BLOCK_MAX_INSNS,
                    bounce, flags);
    if (e.overflow)
        abort(); /* BLOCK_MAX_HOST is sized so this cannot happen */
    d->nblocks++;
    d->npcmap += b->ninsns + b->ntwin;
    d->code_used += (e.p - e.start + 15) & ~(size_t)15;
    b->cached = !once;
    if (!once) {
        protect_block(d, v, b);
        unsigned h = hash_key(phys, mode);
        b->hash_next = d->hash[h];
        d->hash[h] = b;
    }
    v->stats.blocks_translated++;
    v->stats.insns_translated += b->ninsns;
    v->stats.code_bytes += b->host_len;
    v->stats.translate_ns += clock_now_ns() - t0;
    if (dbt_trace_mask & (TRACE_IN_ASM | TRACE_OUT_ASM))
        dbt_trace_block(d, v, b);
    return b;
}

struct block *dbt_find(struct dbt *d, struct vcpu *v)
{
    uint32_t mode = dbt_mode(v), cs_base = v->seg[SEG_CS].base, phys;
    if (d->single_cached)
        mode |= MODE_ONE;
    if ((mode & MODE_PAGING) && ((v->regs[R_ESP] & 3) || d->esp_unaligned))
        mode |= MODE_ESP_UNALIGNED;
    d->esp_unaligned = false;
    d->single_cached = false;
    if (!dbt_code_phys(v, cs_base + v->eip, &phys))
        return translate(d, v, mode, 0, false); /* reports the fetch #PF */
    struct block *stale = NULL;
    struct block *b = d->single_step || d->bounce_step
                          ? NULL
                          : lookup(d, v->eip, cs_base, phys, mode, &stale);
    uint64_t generation = d->generation;
    if (!b)
        b = translate(d, v, mode, phys, true);
    /* Chains into the stale block now reach the new one (unless the
     * translation flushed the cache, stale block and all). */
    if (stale && generation == d->generation && stale != b) {
        stale->host[0] = 0xe9; /* jmp rel32 */
        emit_patch_rel32(stale->host + 1, b->host);
    }
    return b;
}

void dbt_step_next(struct dbt *d)
{
    d->single_step = true;
}

void dbt_step_past_breakpoint(struct dbt *d)
{
    d->single_step = d->past_breakpoint = true;
}

void dbt_step_unchecked(struct dbt *d)
{
    d->single_step = d->seg_unchecked = true;
}

void dbt_step_next_cached(struct dbt *d)
{
    d->single_cached = true;
}

void dbt_next_esp_unaligned(struct dbt *d)
{
    d->esp_unaligned = true;
}

void dbt_bounce_next(struct dbt *d)
{
    d->bounce_step = true;
}

void dbt_bounce_stack_next(struct dbt *d)
{
    d->bounce_step = d->bounce_stack = true;
}

uint64_t dbt_generation(const struct dbt *d)
{
    return d->generation;
}

struct block *dbt_stale_block(struct dbt *d, uint64_t return_address)
{
    struct block *b = dbt_block_at(d, (const uint8_t *)(uintptr_t)return_address - 5);
    return b && b->stale ? b : NULL;
}

void dbt_chain(struct dbt *d, uint8_t *site, uint64_t generation,
               struct block *b)
{
    if (generation != d->generation || !dbt_in_cache(d, site) || !b->cached)
        return;
    emit_patch_rel32(site, b->host);
}

bool dbt_in_cache(struct dbt *d, const void *pc)
{
    const uint8_t *p = pc;
    return d->code && p >= d->code && p < d->code + d->code_used;
}

bool dbt_host_to_eip(struct dbt *d, uint32_t low32, uint32_t *eip)
{
    uintptr_t hi = (uintptr_t)d->code & ~(uintptr_t)0xffffffffu;
    for (int i = 0; i < 2; i++, hi += (uintptr_t)1 << 32) {
        struct block *b = dbt_block_at(d, (const void *)(hi | low32));
        if (b) {
            *eip = dbt_pcmap_at(b, (const void *)(hi | low32)).eip;
            return true;
        }
    }
    return false;
}

struct block *dbt_block_at(struct dbt *d, const void *pc)
{
    const uint8_t *p = pc;
    size_t lo = 0, hi = d->nblocks;
    if (!dbt_in_cache(d, pc))
        return NULL;
    while (lo < hi) { /* last block whose host start <= pc */
        size_t mid = (lo + hi) / 2;
        if (d->blocks[mid].host <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    struct block *b = &d->blocks[lo - 1];
    return p < b->host + b->host_len ? b : NULL;
}

/* The last of n records whose host code starts at or before off (the
 * first if none does). */
static uint32_t pcmap_last_at(const struct pcmap *pm, uint32_t n, uint32_t off)
{
    uint32_t best = 0;
    for (uint32_t i = 0; i < n; i++)
        if (pm[i].host_off <= off)
            best = i;
    return best;
}

struct pcmap dbt_pcmap_at(const struct block *b, const void *pc)
{
    uint32_t off = (uint32_t)((const uint8_t *)pc - b->host);
    if (b->twin_off && off >= b->twin_off) {
        const struct pcmap *twin = &b->pcmap[b->ninsns];
        uint32_t best = pcmap_last_at(twin, b->ntwin, off);
        struct pcmap pm = twin[best];
        pm.host_off = b->pcmap[best].host_off;
        if (off < twin[0].host_off)
            pm.flags = 0; /* the twin's poll load, before its first one */
        return pm;
    }
    return b->pcmap[pcmap_last_at(b->pcmap, b->ninsns, off)];
}

/* Instructions the monitor emulates are decoded again at every exit;
 * remembering them saves a Capstone decode each time. Code writes flush
 * the translations, and with them (by generation) these. */
bool dbt_decode_at(struct dbt *d, struct vcpu *v, uint32_t eip,
                   struct insn *out)
{
    uint32_t linear = v->seg[SEG_CS].base + eip, mode = dbt_mode(v), phys;
    if (!dbt_code_phys(v, linear, &phys))
        return false;
    struct decoded *c = &d->decoded[(linear ^ (linear >> 8)) % DECODED_SLOTS];
    if (c->generation == d->generation + 1 && c->linear == linear &&
        c->phys == phys && c->mode == mode && c->in.eip == eip) {
        *out = c->in;
        return true;
    }
    uint8_t buf[INSN_MAX_LEN];
    size_t avail = guest_code(v, linear, buf);
    if (!avail || !decode_insn(d->dec, buf, avail, eip, mode & MODE_CODE32, out))
        return false;
    /* An instruction straddling two pages is not remembered: the second
     * page's mapping is not part of the key. */
    if ((linear & 0xfff) + out->len <= 4096)
        *c = (struct decoded){linear, phys, mode, d->generation + 1, *out};
    return true;
}
