// SPDX-License-Identifier: MIT
/* The run loop: enter translated code, then one switch over exit reasons. */
#include "monitor/monitor.h"
#include "dbt/dbt.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

/* Copy the arithmetic flags translated code left in host RFLAGS. */
static void merge_flags(struct vcpu *v)
{
    v->eflags = (v->eflags & ~EFL_HOST_MASK) |
                ((uint32_t)v->host_rflags & EFL_HOST_MASK) | EFL_FIXED;
}

static void on_chain(struct vcpu *v)
{
    uint64_t gen = dbt_generation(v->dbt);
    uint8_t *site = (uint8_t *)(uintptr_t)v->exit_arg;
    struct block *b = dbt_find(v->dbt, v);
    dbt_chain(v->dbt, site, gen, b);
    v->stats.chains++;
}

static void on_fault(struct vcpu *v)
{
    char why[128];
    switch (v->fault_kind) {
    case FAULT_DIVIDE:
    case FAULT_EXCEPTION:
        cpu_exception(v, (int)v->fault_vector, v->fault_error);
        break;
    case FAULT_SMC:
        dbt_smc_fault(v->dbt, v);
        break;
    case FAULT_MEMORY:
        snprintf(why, sizeof(why),
                 "guest accessed physical address 0x%08llx (no RAM there) "
                 "at %04x:%08x; MMIO is not emulated yet",
                 (unsigned long long)v->fault_addr, v->seg[SEG_CS].sel, v->eip);
        cpu_shutdown(v, 1, why);
        break;
    default:
        cpu_shutdown(v, 1, "internal error: unclassified fault");
    }
}

/*
 * HLT: sleep until an interrupt can arrive. No device raises interrupts
 * yet, so a halted guest stays halted, as on hardware; the host thread
 * sleeps instead of spinning.
 */
static void wait_halted(struct vcpu *v)
{
    if (!(v->eflags & EFL_IF))
        fprintf(stderr, "bt386: the guest halted with interrupts disabled "
                        "at %04x:%08x; nothing can wake it (Ctrl-C quits)\n",
                v->seg[SEG_CS].sel, v->eip);
    for (;;)
        pause();
}

/* Handle one exit from translated code. */
static void handle_exit(struct vcpu *v)
{
    v->stats.exits[v->exit_reason < EXIT_MAX ? v->exit_reason : EXIT_NONE]++;
    switch (v->exit_reason) {
    case EXIT_CHAIN:
        on_chain(v);
        break;
    case EXIT_LOOKUP:
        dbt_jc_fill(v, dbt_find(v->dbt, v));
        break;
    case EXIT_EMULATE:
        emulate_insn(v);
        break;
    case EXIT_UNDEFINED:
        v->stats.undefined++;
        cpu_exception(v, EXC_UD, -1);
        break;
    case EXIT_FAULT:
        on_fault(v);
        break;
    case EXIT_INTERRUPT:
        vcpu_unkick(v);
        if (v->stop_requested) {
            v->stop_requested = false;
            cpu_shutdown(v, VCPU_STOPPED, NULL);
        }
        break;
    default:
        cpu_shutdown(v, 1, "internal error: unknown exit reason");
    }
}

int cpu_run(struct vcpu *v)
{
    while (!v->shutdown && !v->reset_requested) {
        if (v->halted) {
            wait_halted(v);
            continue;
        }
        struct block *b = dbt_find(v->dbt, v);
        v->enter_target = b->host;
        v->exit_reason = EXIT_NONE;
        bt_enter(v);
        merge_flags(v);
        handle_exit(v);
    }
    return v->exit_status;
}
