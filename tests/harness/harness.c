// SPDX-License-Identifier: MIT
/* A test harness around the real translator and monitor. */
#include "tests/harness/harness.h"
#include "dbt/dbt.h"
#include "mmu/window.h"
#include "monitor/monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct harness {
    struct window win;
    struct vcpu *v;
    struct dbt *dbt;
};

struct harness *harness_create(uint32_t ram_mb)
{
    char err[256];
    struct harness *h = calloc(1, sizeof(*h));
    if (!h || window_create(&h->win, ram_mb << 20, err, sizeof(err)) != 0) {
        free(h);
        return NULL;
    }
    h->v = vcpu_create();
    h->dbt = dbt_create(16u << 20);
    if (!h->v || !h->dbt) {
        harness_destroy(h);
        return NULL;
    }
    struct vcpu *v = h->v;
    v->dbt = h->dbt;
    v->phys_base = (uint64_t)(uintptr_t)h->win.base;
    v->ram = h->win.ram;
    v->ram_size = h->win.ram_size;
    v->test_stop_on_hlt = true;
    v->test_stop_on_event = true;
    if (dbt_signals_install(h->dbt, v) != 0) {
        harness_destroy(h);
        return NULL;
    }
    return h;
}

void harness_destroy(struct harness *h)
{
    if (!h)
        return;
    dbt_destroy(h->dbt);
    vcpu_destroy(h->v);
    window_destroy(&h->win);
    free(h);
}

void harness_write(struct harness *h, uint32_t addr, const void *src, size_t n)
{
    memcpy(h->win.ram + addr, src, n);
}

void harness_read(struct harness *h, uint32_t addr, void *dst, size_t n)
{
    memcpy(dst, h->win.ram + addr, n);
}

uint8_t *harness_ram(struct harness *h)
{
    return h->win.ram;
}

uint32_t harness_ram_size(struct harness *h)
{
    return h->win.ram_size;
}

void harness_default_fpu(struct harness *h, uint8_t fpu[512])
{
    vcpu_fpu_reset(h->v);
    memcpy(fpu, h->v->fpu_guest, 512);
}

void harness_run(struct harness *h, struct harness_state *st,
                 struct harness_result *res)
{
    struct vcpu *v = h->v;
    vcpu_set_flat32(v, st->eip);
    memcpy(v->regs, st->regs, sizeof(v->regs));
    v->eflags = st->eflags | EFL_FIXED;
    memcpy(v->fpu_guest, st->fpu, 512);
    v->shutdown = false;
    v->exit_status = 0;
    v->shutdown_why[0] = 0;
    v->test_event_vector = -1;
    v->test_event_error = -1;
    dbt_flush(h->dbt, v);
    res->status = cpu_run(v);
    res->vector = v->test_event_vector;
    res->error = v->test_event_error;
    memcpy(st->regs, v->regs, sizeof(v->regs));
    st->eip = v->eip;
    st->eflags = v->eflags;
    memcpy(st->fpu, v->fpu_guest, 512);
}

struct vcpu *harness_vcpu(struct harness *h)
{
    return h->v;
}
