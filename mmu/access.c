// SPDX-License-Identifier: MIT
/* The software access path: guest linear memory reached from C. */
#include "mmu/access.h"
#include "dbt/dbt.h"
#include "monitor/vcpu.h"

#include <string.h>

/* Copy one byte-range that does not leave RAM, or handle the open bus. */
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
    for (unsigned i = 0; i < n; i++) {
        uint32_t a = pa + i;
        if (a < v->ram_size)
            v->ram[a] = in[i];
    }
}

int mmu_read(struct vcpu *v, uint32_t linear, void *buf, unsigned size)
{
    if ((uint64_t)linear + size <= v->ram_size) {
        memcpy(buf, v->ram + linear, size);
        return 0;
    }
    phys_read(v, linear, buf, size);
    return 0;
}

int mmu_write(struct vcpu *v, uint32_t linear, const void *buf, unsigned size)
{
    if (v->dbt)
        dbt_note_write(v->dbt, v, linear, size);
    if ((uint64_t)linear + size <= v->ram_size) {
        memcpy(v->ram + linear, buf, size);
        return 0;
    }
    phys_write(v, linear, buf, size);
    return 0;
}
