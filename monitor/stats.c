// SPDX-License-Identifier: MIT
/* --stats: what the translator and the monitor did, printed at exit. */
#include "monitor/monitor.h"

static const char *const exit_names[EXIT_MAX] = {
    "none", "chain", "jump-cache miss", "emulate", "undefined",
    "interrupt", "host fault", "instruction breakpoint", "exception",
    "shadow miss / page cross",
    "stale block entry", "segment check", "x87 environment stored",
    "unaligned stack at entry"};

static void line(FILE *f, const char *label, unsigned long long n)
{
    fprintf(f, "  %-28s %llu\n", label, n);
}

void stats_print(const struct vcpu *v, FILE *f)
{
    const struct vcpu_stats *s = &v->stats;
    char label[64];
    fprintf(f, "bt386 stats:\n");
    line(f, "blocks translated", s->blocks_translated);
    line(f, "guest insns translated", s->insns_translated);
    line(f, "code cache bytes", s->code_bytes);
    line(f, "translation time (us)", s->translate_ns / 1000);
    line(f, "chains patched", s->chains);
    line(f, "host signals taken", s->signals);
    line(f, "shadow fills", s->shadow_fills);
    line(f, "shadow misses: tested", s->shadow_miss_stub);
    line(f, "shadow memo refills", s->shadow_memo_refills);
    line(f, "shadow loop runs: direct", s->shadow_runs);
    line(f, "shadow loop runs: looked up", s->shadow_run_declines);
    line(f, "shadow misses: faulted", s->shadow_miss_fault);
    line(f, "shadow misses: true #PF", s->shadow_true_pf);
    line(f, "shadow miss time (us)", s->shadow_miss_ns / 1000);
    line(f, "shadow flushes: all", s->shadow_flushes);
    line(f, "shadow flushes: CR3", s->shadow_flushes_nonglobal);
    line(f, "shadow flushes: INVLPG", s->shadow_invlpgs);
    line(f, "page faults (#PF to guest)", s->exceptions[14]);
    line(f, "slow memory accesses", s->slow_accesses);
    line(f, "external interrupts", s->interrupts);
    line(f, "task switches", s->task_switches);
    line(f, "timer ticks reinjected", s->ticks_reinjected);
    line(f, "undefined (#UD raised)", s->undefined);
    line(f, "code writes (SMC flushes)", s->smc_flushes);
    for (int i = 1; i < EXIT_MAX; i++) {
        snprintf(label, sizeof(label), "exits: %s", exit_names[i]);
        line(f, label, s->exits[i]);
    }
    for (int i = 0; i < EMU_COUNT; i++) {
        if (!s->emulated[i])
            continue;
        snprintf(label, sizeof(label), "emulated: %s", emu_kind_names[i]);
        line(f, label, s->emulated[i]);
    }
    for (int cr = 0; cr < 5; cr++)
        for (int to = 0; to < 2; to++) {
            if (!s->mov_cr[cr][to])
                continue;
            snprintf(label, sizeof(label), "mov %s cr%d", to ? "to" : "from",
                     cr);
            line(f, label, s->mov_cr[cr][to]);
        }
    for (int i = 0; i < 256; i++) {
        if (!s->irq_vectors[i])
            continue;
        snprintf(label, sizeof(label), "interrupt vector 0x%02x", i);
        line(f, label, s->irq_vectors[i]);
    }
    for (int i = 0; i < 32; i++) {
        if (!s->exceptions[i])
            continue;
        snprintf(label, sizeof(label), "exception %s",
                 cpu_vector_names[i] ? cpu_vector_names[i] : "?");
        line(f, label, s->exceptions[i]);
    }
}
