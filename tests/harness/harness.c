// SPDX-License-Identifier: MIT
/* A test harness around the real translator and monitor. */
#include "tests/harness/harness.h"
#include "dbt/dbt.h"
#include "mmu/shadow.h"
#include "mmu/window.h"
#include "monitor/monitor.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

struct harness {
    struct window win;
    struct shadow shadow;
    struct vcpu *v;
    struct dbt *dbt;
    /* Watchdog: stops a run that outlives its budget. */
    pthread_t dog;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct timespec deadline;
    bool armed, quit, dog_started;
    unsigned start; /* HARNESS_* */
};

static void *watchdog(void *opaque)
{
    struct harness *h = opaque;
    pthread_mutex_lock(&h->lock);
    while (!h->quit) {
        if (!h->armed) {
            pthread_cond_wait(&h->cond, &h->lock);
            continue;
        }
        if (pthread_cond_timedwait(&h->cond, &h->lock, &h->deadline) ==
                ETIMEDOUT && h->armed) {
            vcpu_request_stop(h->v);
            h->armed = false;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static void watchdog_arm(struct harness *h, unsigned budget_us)
{
    pthread_mutex_lock(&h->lock);
    if (!h->dog_started) {
        pthread_create(&h->dog, NULL, watchdog, h);
        h->dog_started = true;
    }
    clock_gettime(CLOCK_REALTIME, &h->deadline);
    h->deadline.tv_nsec += (long)(budget_us % 1000000) * 1000;
    h->deadline.tv_sec += budget_us / 1000000 + h->deadline.tv_nsec / 1000000000;
    h->deadline.tv_nsec %= 1000000000;
    h->armed = true;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

static void watchdog_disarm(struct harness *h)
{
    pthread_mutex_lock(&h->lock);
    h->armed = false;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

struct harness *harness_create(uint32_t ram_mb)
{
    char err[256];
    struct harness *h = calloc(1, sizeof(*h));
    if (!h || window_create(&h->win, ram_mb << 20, err, sizeof(err)) != 0) {
        free(h);
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    h->v = vcpu_create();
    h->dbt = dbt_create(16u << 20);
    if (!h->v || !h->dbt || shadow_init(&h->shadow) != 0) {
        harness_destroy(h);
        return NULL;
    }
    struct vcpu *v = h->v;
    vcpu_attach(v, h->dbt, &h->shadow, &h->win);
    v->test_stop_on_hlt = true;
    v->test_stop_on_event = true;
    v->no_reboot = true;
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
    if (h->dog_started) {
        pthread_mutex_lock(&h->lock);
        h->quit = true;
        pthread_cond_signal(&h->cond);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->dog, NULL);
    }
    dbt_destroy(h->dbt);
    if (h->shadow.view[0])
        shadow_destroy(&h->shadow);
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

void harness_set_start(struct harness *h, unsigned flags)
{
    h->start = flags;
}

/* An identity map of all RAM (4 KiB pages, present, writable, user) in
 * the top pages of RAM; returns the page directory's address. */
static uint32_t identity_map(struct harness *h)
{
    uint32_t pages = h->win.ram_size >> 12, npt = (pages + 1023) / 1024;
    uint32_t pd = h->win.ram_size - (npt + 1) * 4096;
    uint32_t *dir = (uint32_t *)(h->win.ram + pd);
    memset(dir, 0, 4096);
    for (uint32_t t = 0; t < npt; t++) {
        uint32_t *pt = (uint32_t *)(h->win.ram + pd + 4096 * (t + 1));
        for (uint32_t i = 0; i < 1024; i++) {
            uint32_t page = t * 1024 + i;
            pt[i] = page < pages ? (page << 12) | 0x7 : 0;
        }
        dir[t] = (pd + 4096 * (t + 1)) | 0x7;
    }
    return pd;
}

/* Apply the start options to the freshly reset vCPU. */
static void apply_start(struct harness *h)
{
    struct vcpu *v = h->v;
    if (h->start & HARNESS_PAGING) {
        v->cr3 = identity_map(h);
        cpu_set_cr0(v, v->cr0 | CR0_PG);
    }
    if (h->start & HARNESS_RING3) {
        for (int s = 0; s < SEG_COUNT; s++) {
            v->seg[s].attr |= 0x60; /* DPL 3 */
            v->seg[s].sel |= 3;
        }
        v->cpl = 3;
        cpu_paging_changed(v, false);
    }
}

void harness_run(struct harness *h, struct harness_state *st,
                 struct harness_result *res)
{
    struct vcpu *v = h->v;
    vcpu_set_flat32(v, st->eip);
    /* OSFXSR | OSXMMEXCPT: an OS that has enabled SSE (unless told not) */
    v->cr4 = (h->start & HARNESS_NO_SSE) ? 0 : 0x600;
    memcpy(v->regs, st->regs, sizeof(v->regs));
    v->eflags = st->eflags | EFL_FIXED;
    memcpy(v->fpu_guest, st->fpu, 512);
    v->shutdown = false;
    v->reset_requested = false;
    v->exit_status = 0;
    v->shutdown_why[0] = 0;
    v->test_event_vector = -1;
    v->test_event_error = -1;
    shadow_flush(&h->shadow);
    dbt_flush(h->dbt, v);
    apply_start(h);
    res->status = cpu_run(v);
    res->vector = v->test_event_vector;
    res->error = v->test_event_error;
    memcpy(st->regs, v->regs, sizeof(v->regs));
    st->eip = v->eip;
    st->eflags = v->eflags;
    memcpy(st->fpu, v->fpu_guest, 512);
}

void harness_run_budget(struct harness *h, struct harness_state *st,
                        struct harness_result *res, unsigned budget_us)
{
    watchdog_arm(h, budget_us);
    harness_run(h, st, res);
    watchdog_disarm(h);
    vcpu_unkick(h->v);
    h->v->stop_requested = false;
}

void harness_set_intr(struct harness *h, bool (*pending)(void *),
                      int (*ack)(void *), void *opaque)
{
    h->v->intr_pending = pending;
    h->v->intr_ack = ack;
    h->v->intr_opaque = opaque;
}

void harness_deliver_exceptions(struct harness *h, int on)
{
    h->v->test_stop_on_event = !on;
}

struct vcpu *harness_vcpu(struct harness *h)
{
    return h->v;
}
