// SPDX-License-Identifier: MIT
/* Host signals in translated code: recover precise guest state and leave
 * to the monitor with EXIT_FAULT (or EXIT_INTERRUPT for the poll page). */
#include "dbt/internal.h"
#include "mmu/window.h"
#include "monitor/vcpu.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

extern char bt_exit_restore[];

/* One vCPU per process for now. */
static struct dbt *sig_dbt;
static struct vcpu *sig_vcpu;

#define SIGSTACK_SIZE (64 * 1024)

/* Is the host instruction at pc a string instruction (*rep: with REP, a
 * chunk of a paged REP loop)? Only a fault there finds RSI/RDI (and RCX)
 * in their host form: the same instruction's lookups and the poll load at
 * block entry see guest values. */
static bool at_host_string(const uint8_t *pc, bool *rep)
{
    *rep = false;
    for (int i = 0; i < 3 && (*pc == 0xf3 || *pc == 0x66); i++, pc++)
        *rep |= *pc == 0xf3;
    return (*pc >= 0xa4 && *pc <= 0xa7) || (*pc >= 0xaa && *pc <= 0xaf);
}

static void save_guest_regs(struct vcpu *v, const mcontext_t *mc,
                            const struct pcmap *pm)
{
    const greg_t *g = mc->gregs;
    v->regs[R_EAX] = (uint32_t)g[REG_RAX];
    v->regs[R_ECX] = (uint32_t)g[REG_RCX];
    v->regs[R_EDX] = (uint32_t)g[REG_RDX];
    v->regs[R_EBX] = (uint32_t)g[REG_RBX];
    v->regs[R_ESP] = (uint32_t)g[REG_R12];
    v->regs[R_EBP] = (uint32_t)g[REG_RBP];
    v->regs[R_ESI] = (uint32_t)g[(pm->flags & PCF_RSI_IN_R11) ? REG_R11 : REG_RSI];
    v->regs[R_EDI] = (uint32_t)g[REG_RDI];
    v->host_rflags = (uint64_t)g[REG_EFL];
    bool rep;
    if ((pm->flags & (PCF_STR_SRC | PCF_STR_DST)) &&
        at_host_string((const uint8_t *)g[REG_RIP], &rep)) {
        if (pm->flags & PCF_STR_SRC)
            v->regs[R_ESI] = (uint32_t)(g[REG_RSI] - g[REG_R8]);
        if (pm->flags & PCF_STR_DST)
            v->regs[R_EDI] = (uint32_t)(g[REG_RDI] - g[REG_R10]);
        if (rep) { /* a chunk of gen_rep_string_paged's loop */
            v->regs[R_ECX] = (uint32_t)(g[REG_RCX] + g[REG_R9]);
            v->host_rflags = v->str_flags; /* as pushed before the loop */
        }
    }
}

/* Host exception numbers (the trap number in the signal context). */
#define TRAP_DE 0
#define TRAP_UD 6
#define TRAP_GP 13
#define TRAP_PF 14
#define TRAP_MF 16
#define TRAP_AC 17
#define TRAP_XM 19

static void set_exception(struct vcpu *v, int vector, int32_t err)
{
    v->fault_kind = vector == EXC_DE ? FAULT_DIVIDE : FAULT_EXCEPTION;
    v->fault_vector = (uint32_t)vector;
    v->fault_error = err;
}

/* A page fault on the window or its guards: unbacked memory (a wild
 * string instruction too), or a write to code. */
static bool classify_window(struct vcpu *v, const siginfo_t *si,
                            uintptr_t addr)
{
    if (addr < v->phys_base - WINDOW_GUARD ||
        addr >= v->phys_base + (1ull << 32) + WINDOW_GUARD)
        return false;
    v->fault_addr = (uint32_t)(addr - v->phys_base);
    if (dbt_is_watch_page(sig_dbt, (uint32_t)v->fault_addr)) {
        v->fault_kind = FAULT_WATCH;
        return true;
    }
    v->fault_kind = si->si_code == SEGV_ACCERR &&
                            dbt_is_code_page(sig_dbt, (uint32_t)v->fault_addr)
                        ? FAULT_SMC
                        : FAULT_MEMORY;
    return true;
}

/*
 * What the fault means for the guest; false if it is not the guest's (a
 * bt386 bug). The host's trap number tells #GP (a privileged instruction
 * that slipped through, reported to the guest as #GP(0)), #MF and #XM
 * (unmasked x87/SSE exceptions) and #UD apart.
 */
static bool classify(struct vcpu *v, int sig, const siginfo_t *si,
                     const mcontext_t *mc, const struct block *b)
{
    uintptr_t addr = (uintptr_t)si->si_addr;
    uintptr_t poll = (uintptr_t)v->poll_page;
    long trap = (long)mc->gregs[REG_TRAPNO];
    v->fault_kind = FAULT_NONE;
    v->exit_reason = EXIT_FAULT;
    if (sig == SIGSEGV && addr >= poll && addr < poll + sizeof(v->poll_page)) {
        v->exit_reason = EXIT_INTERRUPT;
        return true;
    }
    switch (trap) {
    case TRAP_PF:
        if (addr < (1ull << 32) && (v->cr0 & CR0_PG)) {
            /* A zero shadow entry: the access went to host address L. */
            v->fault_kind = FAULT_PAGE;
            v->fault_addr = addr;
            v->fault_write =
                (mc->gregs[REG_ERR] & 2) != 0 ||
                (dbt_pcmap_at(b, (void *)mc->gregs[REG_RIP]).flags &
                 PCF_MISS_WRITE);
            return true;
        }
        return classify_window(v, si, addr);
    case TRAP_DE: set_exception(v, EXC_DE, -1); return true;
    case TRAP_UD: set_exception(v, EXC_UD, -1); return true;
    case TRAP_GP:
        if ((dbt_pcmap_at(b, (void *)mc->gregs[REG_RIP]).flags &
             PCF_CROSS_GP) &&
            ((uint64_t)mc->gregs[REG_R10] >> 63)) {
            v->fault_kind = FAULT_CROSS; /* not the guest's #GP */
            return true;
        }
        set_exception(v, EXC_GP, 0);
        return true;
    case TRAP_MF: set_exception(v, EXC_MF, -1); return true;
    case TRAP_XM: set_exception(v, EXC_XM, -1); return true;
    case TRAP_AC: set_exception(v, EXC_AC, 0); return true;
    }
    if (sig == SIGFPE) { /* no trap number: integer divide */
        set_exception(v, EXC_DE, -1);
        return true;
    }
    return false;
}

static void fatal_signal(int sig, const void *pc, const void *addr)
{
    char msg[160];
    int n = snprintf(msg, sizeof(msg),
                     "bt386: internal error: signal %d at host pc %p "
                     "(address %p)\n", sig, pc, addr);
    if (n > 0)
        (void)!write(2, msg, (size_t)n);
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(1);
}

static void on_signal(int sig, siginfo_t *si, void *uc_void)
{
    ucontext_t *uc = uc_void;
    mcontext_t *mc = &uc->uc_mcontext;
    void *pc = (void *)mc->gregs[REG_RIP];
    struct vcpu *v = sig_vcpu;
    struct block *b = sig_dbt ? dbt_block_at(sig_dbt, pc) : NULL;

    if (!b || !classify(v, sig, si, mc, b))
        fatal_signal(sig, pc, si->si_addr);
    /* The poll load comes before the first instruction's own code: its
     * PCF_* (registers in another home) do not apply there yet. */
    struct pcmap pm = dbt_pcmap_at(b, pc);
    if ((uint8_t *)pc < b->host + b->pcmap[0].host_off)
        pm.flags = 0;
    save_guest_regs(v, mc, &pm);
    v->eip = pm.eip;
    v->exit_resume = b->host + pm.host_off;
    v->stats.signals++;
    mc->gregs[REG_RIP] = (greg_t)(uintptr_t)bt_exit_restore;
    mc->gregs[REG_R14] = (greg_t)(uintptr_t)v;
    mc->gregs[REG_EFL] &= ~(greg_t)(EFL_DF | EFL_TF | EFL_AC);
}

/* The handler's own stack, so it runs even if the host stack is bad. */
static uint8_t sig_stack[SIGSTACK_SIZE] __attribute__((aligned(16)));

extern void bt_signal_thunk(int sig, siginfo_t *si, void *uc);
void (*bt_signal_handlers[NSIG])(int, siginfo_t *, void *);

int dbt_sigaction(int sig, void (*handler)(int, siginfo_t *, void *),
                  int flags)
{
    struct sigaction sa;
    if (sig <= 0 || sig >= NSIG)
        return -1;
    bt_signal_handlers[sig] = handler;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = bt_signal_thunk;
    sa.sa_flags = flags | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

int dbt_signals_install(struct dbt *d, struct vcpu *v)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    stack_t ss = {.ss_sp = sig_stack, .ss_size = SIGSTACK_SIZE};

    if (sigaltstack(&ss, NULL) != 0)
        return -1;
    sig_dbt = d;
    sig_vcpu = v;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (dbt_sigaction(sigs[i], on_signal, SA_ONSTACK) != 0)
            return -1;
    return 0;
}
