// SPDX-License-Identifier: MIT
/*
 * Data breakpoints: DR0-DR3 with R/W 01 (writes) or 11 (reads and
 * writes), 1, 2, 4 or 8 bytes; a #DB trap after the instruction whose
 * access overlapped one, with DR6.Bn.
 *
 * Translated code cannot compare every access with the debug registers,
 * so the pages holding armed data breakpoints are made to stop it: with
 * paging off their window pages are inaccessible (FAULT_WATCH), with
 * paging on the shadow tables are never filled for them (the miss comes
 * here). The instruction that touched such a page then runs alone, with
 * the page open, and the access is judged from its decoded memory operand
 * (or, for implicit operands such as the stack and strings, from the
 * watched bytes changing).
 */
#include "monitor/monitor.h"
#include "dbt/dbt.h"
#include "dbt/decode.h"
#include "mmu/shadow.h"
#include "mmu/walk.h"

#include <string.h>

/* R/W and LEN of breakpoint n (DR7 bits 16-31). */
static unsigned bp_rw(const struct vcpu *v, int n)
{
    return (v->dr[7] >> (16 + 4 * n)) & 3;
}

static uint32_t bp_len(const struct vcpu *v, int n)
{
    static const uint32_t len[4] = {1, 2, 8, 4};
    return len[(v->dr[7] >> (18 + 4 * n)) & 3];
}

/* Is breakpoint n an armed data breakpoint (R/W 01 or 11)? */
static bool bp_data(const struct vcpu *v, int n)
{
    unsigned rw = bp_rw(v, n);
    return (v->dr[7] & (3u << (2 * n))) && (rw == 1 || rw == 3);
}

/* Its bytes: the address with the low bits of the length ignored. */
static uint32_t bp_addr(const struct vcpu *v, int n)
{
    return v->dr[n] & ~(bp_len(v, n) - 1);
}

void watch_update(struct vcpu *v)
{
    uint32_t pages[4];
    int n = 0;
    for (int i = 0; i < 4; i++)
        if (bp_data(v, i))
            pages[n++] = bp_addr(v, i) >> 12;
    bool changed = n != v->watch.n ||
                   memcmp(pages, v->watch.lpage, sizeof(pages[0]) * (size_t)n);
    memcpy(v->watch.lpage, pages, sizeof(pages));
    v->watch.n = n;
    dbt_watch_pages(v->dbt, v, pages, (v->cr0 & CR0_PG) ? 0 : n);
    if (changed && (v->cr0 & CR0_PG))
        cpu_paging_changed(v, true); /* entries for the pages may exist */
}

bool watch_page(const struct vcpu *v, uint32_t la)
{
    if (v->watch.open)
        return false;
    for (int i = 0; i < v->watch.n; i++)
        if (v->watch.lpage[i] == la >> 12)
            return true;
    return false;
}

/* The byte at linear la without faulting or touching A/D bits more than
 * a read would; false if it cannot be read. */
static bool peek(struct vcpu *v, uint32_t la, uint8_t *b)
{
    uint32_t err;
    struct walk w; /* with paging off, the walk gives la itself */
    if (mmu_walk(v, la, 0, &w, &err) != 0 || w.pa >= v->ram_size)
        return false;
    *b = v->ram[w.pa];
    return true;
}

/* Up to 4 bytes of breakpoint n as a word (the 8-byte length: its first
 * 4, enough to see a write). */
static bool bp_bytes(struct vcpu *v, int n, uint32_t *out)
{
    uint32_t x = 0, len = bp_len(v, n) > 4 ? 4 : bp_len(v, n);
    for (uint32_t i = 0; i < len; i++) {
        uint8_t b;
        if (!peek(v, bp_addr(v, n) + i, &b))
            return false;
        x |= (uint32_t)b << (8 * i);
    }
    *out = x;
    return true;
}

static void set_open(struct vcpu *v, bool open)
{
    v->watch.open = open;
    if (!(v->cr0 & CR0_PG)) {
        dbt_watch_open(v->dbt, v, open);
    } else if (!open) {
        for (int i = 0; i < v->watch.n; i++)
            shadow_invlpg(v->shadow, v->watch.lpage[i] << 12);
        vcpu_jc_clear(v);
    }
}

static void add_range(struct vcpu *v, uint32_t la, uint32_t size, bool write)
{
    int i = v->watch.nranges++;
    v->watch.la[i] = la;
    v->watch.size[i] = size;
    v->watch.write[i] = write;
}

void watch_step_begin(struct vcpu *v)
{
    struct insn in;
    if (!dbt_decode_at(v->dbt, v, v->eip, &in)) {
        cpu_exception(v, EXC_UD, -1);
        return;
    }
    bool string = insn_string(&in, NULL, NULL, NULL);
    v->watch.nranges = 0;
    if (in.has_mem && !string)
        add_range(v, insn_linear(v, &in), in.mem_size, in.mem_write);
    uint32_t off, size;
    bool write, stack = insn_stack_slot(v, &in, &off, &size, &write);
    if (stack)
        add_range(v, v->seg[SEG_SS].base + off, size, write);
    v->watch.precise = !string && (!in.implicit_esp || stack);
    v->watch.known = 0;
    for (int n = 0; n < 4; n++)
        if (bp_data(v, n) && bp_bytes(v, n, &v->watch.before[n]))
            v->watch.known |= (uint8_t)(1u << n);
    v->watch.stepping = true;
    v->watch.events = v->events;
    set_open(v, true);
    dbt_step_next(v->dbt);
}

/* The DR6 bits of the breakpoints the finished instruction hit. */
static uint32_t hits(struct vcpu *v)
{
    uint32_t bits = 0;
    for (int n = 0; n < 4; n++) {
        if (!bp_data(v, n))
            continue;
        uint32_t a = bp_addr(v, n), len = bp_len(v, n), now;
        if (v->watch.precise) {
            for (int r = 0; r < v->watch.nranges; r++) {
                uint32_t la = v->watch.la[r], size = v->watch.size[r];
                if (la < a + len && a < la + size &&
                    (v->watch.write[r] || bp_rw(v, n) == 3))
                    bits |= 1u << n;
            }
        } else if ((v->watch.known & (1u << n)) && bp_bytes(v, n, &now) &&
                   now != v->watch.before[n]) {
            bits |= 1u << n;
        }
    }
    return bits;
}

void watch_step_end(struct vcpu *v, bool completed)
{
    v->watch.stepping = false;
    set_open(v, false);
    if (!completed)
        return; /* it faulted: the access did not happen */
    uint32_t bits = hits(v);
    if (bits) {
        v->dr[6] |= bits;
        cpu_exception(v, EXC_DB, -1); /* a trap: EIP is past it */
    }
}
