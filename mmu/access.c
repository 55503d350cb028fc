// SPDX-License-Identifier: MIT
/* The software access path: guest linear memory reached from C, through
 * the guest's page tables when paging is on. It is the reference the fast
 * path is tested against, and the path for MMIO and odd accesses. */
#include "mmu/access.h"
#include "mmu/walk.h"
#include "dbt/dbt.h"
#include "monitor/monitor.h"

#include <string.h>

/* Physical memory: RAM, or an open bus (reads all ones, writes dropped). */
static void phys_read(struct vcpu *v, uint32_t pa, uint8_t *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t a = pa + i;
        out[i] = a < v->ram_size ? v->ram[a] : 0xff;
    }
}

static void phys_write(struct vcpu *v, uint32_t pa, const uint8_t *in,
                       unsigned n)
{
    if (v->dbt)
        dbt_note_write(v->dbt, v, pa, n);
    for (unsigned i = 0; i < n; i++) {
        uint32_t a = pa + i;
        if (a < v->ram_size)
            v->ram[a] = in[i];
    }
}

/* Translate la for an access at the current privilege; on a fault, set
 * CR2 and raise #PF, and return -1. */
static int translate(struct vcpu *v, uint32_t la, bool write, uint32_t *pa)
{
    struct walk w;
    uint32_t err;
    bool user = v->cpl == 3 && !v->sys_access;
    unsigned acc = (write ? ACC_WRITE : 0) | (user ? ACC_USER : 0);
    if (mmu_walk(v, la, acc, &w, &err) == 0) {
        *pa = w.pa;
        return 0;
    }
    v->cr2 = la;
    cpu_exception(v, EXC_PF, (int32_t)err);
    return -1;
}

/* Bytes from la to the end of its page, at most n. */
static unsigned chunk_len(uint32_t la, unsigned n)
{
    unsigned left = 4096 - (la & 0xfff);
    return n < left ? n : left;
}

int mmu_read(struct vcpu *v, uint32_t linear, void *buf, unsigned size)
{
    uint8_t *out = buf;
    while (size) {
        uint32_t pa;
        unsigned n = chunk_len(linear, size);
        if (translate(v, linear, false, &pa) != 0)
            return -1;
        phys_read(v, pa, out, n);
        linear += n;
        out += n;
        size -= n;
    }
    return 0;
}

int mmu_write(struct vcpu *v, uint32_t linear, const void *buf, unsigned size)
{
    uint32_t pa[2] = {0, 0};
    unsigned first = chunk_len(linear, size);
    /* Both pages are checked before either is written: a fault on the
     * second leaves memory untouched, as on hardware. */
    if (translate(v, linear, true, &pa[0]) != 0 ||
        (first < size && translate(v, linear + first, true, &pa[1]) != 0))
        return -1;
    phys_write(v, pa[0], buf, first);
    if (first < size)
        phys_write(v, pa[1], (const uint8_t *)buf + first, size - first);
    return 0;
}
