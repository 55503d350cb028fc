// SPDX-License-Identifier: MIT
/* The run loop: enter translated code, then one switch over exit reasons. */
#include "monitor/monitor.h"
#include "dbt/dbt.h"
#include "dbt/decode.h"
#include "mmu/access.h"
#include "mmu/shadow.h"
#include "mmu/walk.h"
#include "devices/clock.h"

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

/* A shadow miss at la: fill the entry and resume the instruction, or
 * deliver the guest's #PF, or take the slow path (no RAM there). */
static void on_miss(struct vcpu *v, uint32_t la, bool write)
{
    uint32_t err;
    if (watch_page(v, la)) { /* a data breakpoint's page */
        watch_step_begin(v);
        return;
    }
    int r = shadow_fill(v, la, write, &err);
    if (r == 0) {
        v->stats.shadow_fills++;
        v->resume = true;
    } else if (r < 0) {
        v->stats.shadow_true_pf++;
        v->cr2 = la;
        cpu_exception(v, EXC_PF, (int32_t)err);
    } else {
        slowmem_begin(v);
    }
}

/* A miss, counted by how it left translated code, and timed: what the
 * shadow tables cost beyond their inline lookups. */
static void on_miss_counted(struct vcpu *v, uint32_t la, bool write,
                            bool fault)
{
    uint64_t t0 = clock_now_ns();
    if (fault)
        v->stats.shadow_miss_fault++;
    else
        v->stats.shadow_miss_stub++;
    on_miss(v, la, write);
    v->stats.shadow_miss_ns += clock_now_ns() - t0;
}

/* A code fetch at la failed while translating: deliver its #PF (if the
 * walk still fails; the tables may have changed since). */
static void on_fetch_fault(struct vcpu *v, uint32_t la)
{
    struct walk w;
    uint32_t err;
    unsigned acc = ACC_FETCH | (v->cpl == 3 ? ACC_USER : 0);
    if (mmu_walk(v, la, acc, &w, &err) != 0) {
        v->cr2 = la;
        cpu_exception(v, EXC_PF, (int32_t)err);
    }
}

static void on_page(struct vcpu *v)
{
    uint32_t la = (uint32_t)v->exit_arg;
    if (v->exit_arg & PAGE_ARG_FETCH)
        on_fetch_fault(v, la);
    else if (v->exit_arg & PAGE_ARG_CROSS)
        slowmem_begin(v);
    else
        on_miss_counted(v, la, v->exit_arg & PAGE_ARG_WRITE, false);
}

/*
 * A block that starts at an instruction breakpoint: the #DB fault, or,
 * with EFLAGS.RF (the handler's IRET set it to go on), the instruction
 * runs once in a block of its own and RF is cleared.
 */
static void on_breakpoint(struct vcpu *v)
{
    uint32_t hit = vcpu_exec_breakpoints(v, v->seg[SEG_CS].base + v->eip);
    if (!hit)
        return; /* disarmed since: the next lookup translates it anew */
    if (v->eflags & EFL_RF) {
        v->eflags &= ~EFL_RF;
        dbt_step_past_breakpoint(v->dbt);
        return;
    }
    v->dr[6] |= hit;
    cpu_exception(v, EXC_DB, -1);
}

static void on_fault(struct vcpu *v)
{
    switch (v->fault_kind) {
    case FAULT_DIVIDE:
    case FAULT_EXCEPTION:
        /* An unmasked SSE exception is #UD unless the OS said it handles
         * #XM (CR4.OSXMMEXCPT). */
        if (v->fault_vector == EXC_XM && !(v->cr4 & 0x400))
            cpu_exception(v, EXC_UD, -1);
        else
            cpu_exception(v, (int)v->fault_vector, v->fault_error);
        break;
    case FAULT_SMC:
        dbt_smc_fault(v->dbt, v);
        break;
    case FAULT_PAGE:
        on_miss_counted(v, (uint32_t)v->fault_addr, v->fault_write, true);
        break;
    case FAULT_MEMORY: /* no RAM behind the address: open bus, in C */
    case FAULT_CROSS:  /* crossing a page: both pages, in C */
        slowmem_begin(v);
        break;
    case FAULT_WATCH:
        watch_step_begin(v);
        break;
    default:
        cpu_shutdown(v, 1, "internal error: unclassified fault");
    }
}

/*
 * HLT: sleep until an interrupt can arrive; the board's idle callback
 * waits for the next device deadline, so the host thread sleeps instead
 * of spinning. With interrupts disabled (or no interrupt source) nothing
 * can wake the guest, as on hardware.
 */
static void wait_halted(struct vcpu *v)
{
    bool dead = !(v->eflags & EFL_IF);
    if (dead)
        fprintf(stderr, "bt386: the guest halted with interrupts disabled "
                        "at %04x:%08x; nothing can wake it (Ctrl-C quits)\n",
                v->seg[SEG_CS].sel, v->eip);
    do {
        /* A stop request (SIGINT/SIGTERM) or the console's Ctrl-A x ends
         * even a dead machine; the INTR check also serves the console. */
        if (v->stop_requested) {
            v->stop_requested = false;
            cpu_shutdown(v, VCPU_STOPPED, NULL);
            return;
        }
        if (v->intr_pending)
            (void)v->intr_pending(v->intr_opaque);
        if (v->shutdown)
            return;
        if (v->idle)
            v->idle(v->intr_opaque);
        else
            pause();
    } while (dead);
}

/*
 * The interrupt window: after STI (or MOV SS, POP SS) one more instruction
 * runs before an interrupt may be taken; it runs as its own block. Then,
 * with IF set, a requested interrupt is acknowledged and delivered.
 */
static void check_interrupts(struct vcpu *v)
{
    if (v->intr_shadow) {
        if (!v->shadow_armed) {
            v->shadow_armed = true;
            dbt_step_next_cached(v->dbt);
            return;
        }
        if (v->resume || v->slow.pending) {
            dbt_step_next(v->dbt); /* the instruction is not done yet */
            return;
        }
        v->intr_shadow = v->shadow_armed = v->db_shadow = false;
    }
    if ((v->eflags & EFL_IF) && v->intr_pending && !v->resume &&
        !v->slow.pending && v->intr_pending(v->intr_opaque)) {
        v->halted = false;
        cpu_interrupt(v, v->intr_ack(v->intr_opaque));
    }
}

/*
 * RFLAGS for translated code: the guest's arithmetic flags and DF, never
 * TF or IOPL. Alignment checking (CR0.AM, EFLAGS.AC, CPL 3) is the host's
 * own: the host kernel runs with CR0.AM set, guest data sits at host
 * addresses with the same alignment (the window and shadow pages are page
 * aligned), and the #AC arrives as SIGBUS with trap 17 (dbt/signal.c).
 */
static uint64_t entry_flags(const struct vcpu *v)
{
    uint64_t f = v->eflags & EFL_HOST_MASK;
    if ((v->eflags & EFL_AC) && (v->cr0 & CR0_AM) && v->cpl == 3)
        f |= EFL_AC;
    return f;
}

/*
 * After FNSTENV/FNSAVE (32-bit layout: FIP at +12, FCS at +16) or FXSAVE
 * (FIP at +8, FCS at +12) at guest eip `at`: the host stored its own
 * FIP, the translation of the guest's last x87 instruction; store that
 * instruction's EIP and CS instead. (FDP stays what the host saw.)
 */
static void on_fpu_env(struct vcpu *v, uint32_t at)
{
    struct insn in;
    uint32_t next = v->eip, fip, eip;
    v->eip = at; /* for a fault while writing the fields */
    if (!dbt_decode_at(v->dbt, v, at, &in)) {
        v->eip = next;
        return;
    }
    bool fx = insn_op(&in, 0) == 0x0f;
    uint32_t la = insn_linear(v, &in), ip_at = la + (fx ? 8 : 12);
    uint16_t cs = v->seg[SEG_CS].sel;
    if (mmu_read(v, ip_at, &fip, 4) == 0 &&
        dbt_host_to_eip(v->dbt, fip, &eip) &&
        (mmu_write(v, ip_at, &eip, 4) != 0 ||
         mmu_write(v, ip_at + 4, &cs, 2) != 0))
        return; /* #PF raised (the host's own store succeeded, so rare) */
    v->eip = next;
}

/* Handle one exit from translated code. */
static void handle_exit(struct vcpu *v)
{
    v->stats.exits[v->exit_reason < EXIT_MAX ? v->exit_reason : EXIT_NONE]++;
    /* A bounce-buffer instruction completes when its block ends normally;
     * after a shadow fill it is simply resumed. */
    bool fill = v->exit_reason == EXIT_PAGE && !(v->exit_arg & (PAGE_ARG_CROSS | PAGE_ARG_FETCH));
    if (!fill && !(v->exit_reason == EXIT_FAULT && v->fault_kind == FAULT_PAGE))
        slowmem_finish(v, v->exit_reason == EXIT_CHAIN ||
                              v->exit_reason == EXIT_LOOKUP ||
                              v->exit_reason == EXIT_STALE);
    switch (v->exit_reason) {
    case EXIT_CHAIN:
        on_chain(v);
        break;
    case EXIT_LOOKUP:
        dbt_jc_fill(v, dbt_find(v->dbt, v));
        break;
    case EXIT_STALE: { /* a chain into code that has been written */
        struct block *b = dbt_stale_block(v->dbt, v->exit_arg);
        if (!b) {
            cpu_shutdown(v, 1, "internal error: stale entry of no block");
            break;
        }
        v->eip = b->eip;
        if (b->mode & MODE_ESP_UNALIGNED) /* still that variant */
            dbt_next_esp_unaligned(v->dbt);
        dbt_find(v->dbt, v);
        break;
    }
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
    case EXIT_PAGE:
        on_page(v);
        break;
    case EXIT_EXCEPTION:
        cpu_exception(v, (int)v->exit_arg, v->exit_arg == EXC_GP ? 0 : -1);
        break;
    case EXIT_BREAKPOINT:
        on_breakpoint(v);
        break;
    case EXIT_SEGCHECK:
        cpu_segcheck(v);
        break;
    case EXIT_FPU_ENV:
        on_fpu_env(v, (uint32_t)v->exit_arg);
        break;
    case EXIT_ESP_UNALIGNED: /* the block's variant for any ESP, chained */
        dbt_next_esp_unaligned(v->dbt);
        on_chain(v);
        /* and run now, chained or not (a one-off block is not): the
         * next lookup must not find the block whose test failed. */
        dbt_next_esp_unaligned(v->dbt);
        break;
    case EXIT_INTERRUPT:
        vcpu_unkick(v);
        /* Let the devices catch up with time and re-arm the kick, even
         * when the guest cannot take the interrupt now: the timer fires
         * once per deadline, and code that runs on without exits would
         * otherwise never see the next one. */
        if (v->intr_pending)
            (void)v->intr_pending(v->intr_opaque);
        if (v->stop_requested) {
            v->stop_requested = false;
            cpu_shutdown(v, VCPU_STOPPED, NULL);
        }
        break;
    default:
        cpu_shutdown(v, 1, "internal error: unknown exit reason");
    }
}

/* Did the instruction run under single step complete (rather than fault,
 * or stop to have its memory access served and be resumed)? */
static bool step_completed(const struct vcpu *v, uint64_t events)
{
    if (v->events != events || v->shutdown || v->resume)
        return false;
    switch (v->exit_reason) {
    case EXIT_CHAIN:
    case EXIT_LOOKUP:
    case EXIT_STALE:
    case EXIT_EMULATE:
        return !v->slow.pending;
    default:
        return false;
    }
}

/* TF: one instruction at a time, then a #DB trap with DR6.BS. */
static void step_begin(struct vcpu *v)
{
    if (!v->stepping && (v->eflags & EFL_TF) && !v->resume) {
        v->stepping = true;
        dbt_step_next(v->dbt);
    }
}

/* After an exit, how an instruction run alone (single step, or one that
 * touched a data breakpoint's page) since `events` went: done, faulted
 * (its handler runs instead), or still pending -- resuming mid-way after
 * a shadow fill or bounce, or, set up here, to run again alone. */
enum step_state { STEP_DONE, STEP_FAULTED, STEP_PENDING };

static enum step_state step_follow(struct vcpu *v, uint64_t events)
{
    if (step_completed(v, events))
        return STEP_DONE;
    if (v->events != events || v->shutdown)
        return STEP_FAULTED;
    if (!v->resume && !v->slow.pending)
        dbt_step_next(v->dbt); /* run it again, still one instruction */
    return STEP_PENDING;
}

static void step_end(struct vcpu *v, uint64_t events)
{
    if (!v->stepping)
        return;
    enum step_state s = step_follow(v, events);
    if (s == STEP_PENDING)
        return;
    v->stepping = false;
    if (s == STEP_FAULTED)
        return;
    if (v->db_shadow) { /* MOV SS/POP SS: the trap waits one insn */
        v->db_shadow = false;
        return;
    }
    v->dr[6] |= 0x4000; /* BS */
    cpu_exception(v, EXC_DB, -1);
}

/* The instruction that touched a data breakpoint's page: judge it once
 * done, or end the watch step if it faulted. */
static void watch_end(struct vcpu *v)
{
    if (!v->watch.stepping)
        return;
    enum step_state s = step_follow(v, v->watch.events);
    if (s != STEP_PENDING)
        watch_step_end(v, s == STEP_DONE);
}

int cpu_run(struct vcpu *v)
{
    while (!v->shutdown && !v->reset_requested) {
        if (v->halted) {
            check_interrupts(v);
            if (v->halted)
                wait_halted(v);
            continue;
        }
        check_interrupts(v);
        if (v->halted || v->shutdown)
            continue;
        step_begin(v);
        uint64_t events = v->events;
        if (v->resume) {
            v->resume = false;
            v->enter_target = v->exit_resume;
        } else {
            /* RF lasts one instruction: the one about to run, unless it
             * is at a breakpoint (on_breakpoint clears it then). */
            if ((v->eflags & EFL_RF) &&
                !vcpu_exec_breakpoints(v, v->seg[SEG_CS].base + v->eip))
                v->eflags &= ~EFL_RF;
            v->enter_target = dbt_find(v->dbt, v)->host;
        }
        v->exit_reason = EXIT_NONE;
        v->host_rflags = entry_flags(v);
        bt_enter(v);
        merge_flags(v);
        bool watching = v->watch.stepping;
        handle_exit(v);
        if (watching)
            watch_end(v);
        step_end(v, events);
    }
    return v->exit_status;
}
