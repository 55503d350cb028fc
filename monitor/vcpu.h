/* SPDX-License-Identifier: MIT */
/* The virtual CPU: guest architectural state and the monitor's view of it. */
#ifndef BT386_MONITOR_VCPU_H
#define BT386_MONITOR_VCPU_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* General registers, in x86 encoding order (ModRM reg numbers). */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
/* Segment registers, in x86 encoding order (MOV Sreg numbers). */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

/* EFLAGS bits. */
#define EFL_CF   0x00000001u
#define EFL_FIXED 0x00000002u /* bit 1 always reads as one */
#define EFL_PF   0x00000004u
#define EFL_AF   0x00000010u
#define EFL_ZF   0x00000040u
#define EFL_SF   0x00000080u
#define EFL_TF   0x00000100u
#define EFL_IF   0x00000200u
#define EFL_DF   0x00000400u
#define EFL_OF   0x00000800u
#define EFL_IOPL 0x00003000u
#define EFL_NT   0x00004000u
#define EFL_RF   0x00010000u
#define EFL_VM   0x00020000u
#define EFL_AC   0x00040000u
#define EFL_VIF  0x00080000u
#define EFL_VIP  0x00100000u
#define EFL_ID   0x00200000u
/* The bits that live in host RFLAGS while translated code runs. */
#define EFL_HOST_MASK (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF | EFL_DF)

/* CR0 bits. */
#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u

/* CR4 bits. */
#define CR4_TSD 0x004u
#define CR4_DE 0x008u
#define CR4_PSE 0x010u
#define CR4_PGE 0x080u
#define CR4_OSFXSR 0x200u
#define CR4_OSXMMEXCPT 0x400u

/* IA32_MISC_ENABLE at reset: fast strings on; the "unavailable" status
 * bits say there is no performance monitoring, branch trace store or
 * PEBS (bt386 models none of them), and writes leave those bits alone. */
#define MISC_ENABLE_FAST_STRING     (1ull << 0)
#define MISC_ENABLE_PERF_AVAIL      (1ull << 7)
#define MISC_ENABLE_BTS_UNAVAIL     (1ull << 11)
#define MISC_ENABLE_PEBS_UNAVAIL    (1ull << 12)
#define MISC_ENABLE_RESET (MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | \
                           MISC_ENABLE_PEBS_UNAVAIL)
#define MISC_ENABLE_READONLY (MISC_ENABLE_PERF_AVAIL | MISC_ENABLE_BTS_UNAVAIL | \
                              MISC_ENABLE_PEBS_UNAVAIL)

/* Exception vectors. */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11,
    EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17,
    EXC_MC = 18, EXC_XM = 19,
};

/*
 * Why translated code returned to the monitor. Translated code stores the
 * reason in vcpu->exit_reason and the guest EIP to continue at in vcpu->eip.
 */
enum exit_reason {
    EXIT_NONE,
    EXIT_CHAIN,     /* direct branch not yet chained; exit_arg = patch site */
    EXIT_LOOKUP,    /* indirect branch missed the jump cache */
    EXIT_EMULATE,   /* sensitive instruction at eip: the monitor runs it */
    EXIT_UNDEFINED, /* instruction at eip is invalid or not translated: #UD */
    EXIT_INTERRUPT, /* the poll page was armed: deliver an event */
    EXIT_FAULT,     /* host fault in translated code; see fault_* fields */
    EXIT_BREAKPOINT, /* a block at an instruction breakpoint (DR0-3) */
    EXIT_EXCEPTION, /* raise exception exit_arg at eip (e.g. #NM) */
    EXIT_PAGE,      /* shadow miss or page-crossing access; exit_arg says
                       which (PAGE_ARG_*), exit_resume where to go on */
    EXIT_STALE,     /* entered a block whose code was written; exit_arg =
                       the host address after its entry's call */
    EXIT_SEGCHECK,  /* the instruction at eip uses a restricted segment
                       (MODE_SEGCHK): the monitor checks, then runs it */
    EXIT_FPU_ENV,   /* FNSTENV/FNSAVE/FXSAVE at guest eip exit_arg stored
                       the host's FIP: the monitor makes it the guest's */
    EXIT_ESP_UNALIGNED, /* a block made for a 4-aligned ESP was entered
                       without one: the monitor looks up the other */
    EXIT_MAX
};

/* exit_arg of EXIT_PAGE: the linear address, and what happened. */
#define PAGE_ARG_WRITE (1ull << 32)
#define PAGE_ARG_CROSS (1ull << 33)
#define PAGE_ARG_FETCH (1ull << 34) /* code fetch fault (CR2 = low half) */

/* Host faults recovered by the signal handler. */
enum fault_kind {
    FAULT_NONE,
    FAULT_MEMORY,   /* access to an address with no backing: fault_addr */
    FAULT_DIVIDE,   /* #DE from DIV/IDIV */
    FAULT_EXCEPTION, /* other guest exception: fault_vector, fault_error */
    FAULT_SMC,       /* write to a page holding translated code */
    FAULT_PAGE,      /* shadow miss (zero entry): fault_addr, fault_write */
    FAULT_WATCH,     /* access to a data-breakpoint page (monitor/watch.c) */
    FAULT_CROSS      /* a page-crossing access (gen_lookup_faulting) */
};

/* A segment register with its hidden descriptor cache. */
struct segment {
    uint16_t sel;   /* visible selector */
    uint32_t base;  /* cached base address */
    uint32_t limit; /* cached limit, in bytes (granularity applied) */
    uint16_t attr;  /* descriptor bits 40..47 and 52..55 (type, S, DPL, P, AVL, L, D/B, G) */
};
#define SEG_ATTR_DB 0x400u /* default operation size 32-bit */

/* Number of jump-cache entries (indexed by the low 16 bits of guest EIP). */
#define JC_SIZE 65536
/* A tag that never matches: tag + eip cannot wrap to 0 for a 32-bit eip. */
#define JC_INVALID_TAG 1
/* Filled slots remembered so a flush touches only those. */
#define JC_USED_MAX 4096

/* Counters printed by --stats. */
struct vcpu_stats {
    uint64_t blocks_translated;
    uint64_t insns_translated;
    uint64_t code_bytes;
    uint64_t translate_ns;
    uint64_t exits[EXIT_MAX];
    uint64_t emulated[64];     /* by enum emu_kind (monitor/emulate.h) */
    uint64_t exceptions[32];   /* by vector */
    uint64_t signals;          /* host signals taken in translated code */
    uint64_t chains;           /* direct branches patched */
    uint64_t undefined;        /* #UD raised for untranslated instructions */
    uint64_t smc_flushes;      /* translations dropped for written code */
    uint64_t shadow_fills;     /* shadow entries filled from guest tables */
    uint64_t shadow_miss_stub;  /* misses taken through a tested branch */
    uint64_t shadow_miss_fault; /* misses taken as a zero entry's fault */
    uint64_t shadow_memo_refills; /* memo slots refilled (dbt/translate.c) */
    uint64_t shadow_runs;         /* counted loops run without lookups */
    uint64_t shadow_run_declines; /* ... and entries to them that looked up */
    uint64_t shadow_true_pf;   /* misses that were the guest's #PF */
    uint64_t shadow_miss_ns;   /* host time spent handling misses */
    uint64_t shadow_flushes;   /* all entries dropped (CR0/CR4, no PGE) */
    uint64_t shadow_flushes_nonglobal; /* CR3 loads keeping global pages */
    uint64_t shadow_invlpgs;   /* single pages dropped (INVLPG) */
    uint64_t slow_accesses;    /* accesses done through the bounce buffer */
    uint64_t interrupts;       /* external interrupts delivered */
    uint64_t task_switches;    /* hardware task switches */
    uint64_t ticks_reinjected; /* lost PIT periods sent late (board.c) */
    uint64_t mov_cr[5][2];     /* MOV from (0) and to (1) CR0..CR4 */
    uint64_t irq_vectors[256]; /* external interrupts by vector */
};

/*
 * The first part of this structure has a fixed layout: translated code and
 * dbt/trampoline.S address it as [r14 + offset]. Keep VCPU_OFF_* in step.
 */
struct vcpu {
    uint32_t regs[8];     /* 0x00: guest GPRs, encoding order */
    uint32_t eip;         /* 0x20 */
    uint32_t eflags;      /* 0x24: full guest EFLAGS (outside translated code) */
    uint64_t host_rflags; /* 0x28: RFLAGS captured by the exit stub */
    uint64_t host_rsp;    /* 0x30: host stack pointer saved by bt_enter */
    uint64_t exit_reason; /* 0x38 */
    uint64_t exit_arg;    /* 0x40 */
    void *enter_target;   /* 0x48: host code bt_enter jumps to */
    void *exit_fn;        /* 0x50: the exit stub (bt_exit) */
    uint64_t phys_base;   /* 0x58: host address of guest physical 0 */
    uint32_t seg_base[SEG_COUNT]; /* 0x60: copies of seg[].base for code */
    void *shadow_table;   /* 0x78: R13: current shadow view (paging on) */
    void *exit_resume;    /* 0x80: host code of the instruction to resume */
    uint64_t pad0[15];
    /* 0x100: guest x87/MMX/SSE state (FXSAVE image) while the monitor runs;
     * 0x300: the host's clean state, loaded for the monitor's C code. */
    uint8_t fpu_guest[512] __attribute__((aligned(16)));
    uint8_t fpu_host[512] __attribute__((aligned(16)));

    /* Host-side fault report, filled by the signal handler. */
    uint32_t fault_kind;
    uint32_t fault_vector;
    int32_t fault_error;   /* error code, or -1 */
    uint32_t fault_write;  /* FAULT_PAGE: the access was a write */
    uint64_t fault_addr;

    /* Guest system state. */
    struct segment seg[SEG_COUNT];
    struct { uint32_t base; uint16_t limit; } gdtr, idtr;
    struct segment ldtr, tr;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];       /* debug registers (DR4/DR5 alias DR6/DR7) */
    struct {              /* data breakpoints (monitor/watch.c) */
        uint32_t lpage[4]; /* linear pages of the armed ones */
        int n;
        bool open;        /* paging: a watched page may be filled now */
        bool stepping;    /* an instruction that touched one is running */
        bool precise;     /* its accesses are known: */
        int nranges;      /*   how many (memory operand, stack) */
        bool write[2];    /*   written (else read) */
        uint32_t la[2], size[2]; /* where */
        uint64_t events;  /* v->events when it started */
        uint32_t before[4]; /* the watched bytes before it ran */
        uint8_t known;    /* which of before[] could be read */
    } watch;
    int cpl;
    int sys_access;       /* > 0: the CPU's own descriptor-table and TSS
                             accesses, which are supervisor at any CPL */
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip; /* MSRs 0x174-0x176 */
    uint64_t tsc_offset;  /* guest TSC = host TSC + offset (MSR 0x10) */
    uint64_t misc_enable; /* IA32_MISC_ENABLE (MSR 0x1a0) */
    uint64_t str_flags;   /* guest RFLAGS while a paged REP MOVS/STOS runs */
    uint64_t str_want;    /* ... and the bytes its next chunk may cover */
    /* A counted loop's entry test (dbt/translate.c, gen_run_test): the
     * range of its counter, its step, and the one shadow entry that all
     * its accesses find. */
    int64_t run_lo, run_hi, run_step;
    uint64_t run_delta;
    int delivering;       /* exception being delivered, + 1 (0: none) */
    bool delivering_soft; /* ... and it is a software INT n/INT3/INTO */
    /* While the monitor emulates an instruction, a fault is only recorded
     * and delivered after the instruction has undone its partial effects,
     * so the handler sees the state from before it (precise faults). */
    bool defer_faults;
    int deferred_vector;   /* -1: none */
    int32_t deferred_error;
    bool no_reboot;       /* a triple fault stops instead of resetting */
    bool intr_shadow;     /* STI / MOV SS: no interrupt before the next insn */
    bool db_shadow;       /* MOV SS / POP SS: no single-step #DB either */
    bool halted;
    bool resume;          /* re-enter at exit_resume (after a shadow fill) */
    bool stepping;        /* an instruction started with TF set is running */
    uint64_t events;      /* exceptions and interrupts delivered so far */
    bool shutdown;        /* triple fault or power-off: stop the machine */
    bool reset_requested;
    int exit_status;      /* process exit status when shutdown is set */
    char shutdown_why[96];

    struct vcpu_stats stats;

    /* Test harness hooks: stop the machine at HLT, or at any exception or
     * interrupt instead of delivering it (recording what it was). */
    volatile bool stop_requested; /* vcpu_request_stop() from any thread */
    bool test_stop_on_hlt;
    bool test_stop_on_event;
    int test_event_vector;     /* -1: none */
    int32_t test_event_error;  /* error code, or -1 */

    /* The INTR line, wired by the board (the PIC): is an interrupt
     * requested, and the acknowledge cycle that returns its vector. */
    bool (*intr_pending)(void *opaque);
    int (*intr_ack)(void *opaque);
    void *intr_opaque;
    bool shadow_armed;    /* the one instruction after STI/MOV SS is running */
    /* Called when the vCPU is halted with interrupts enabled: wait until
     * something may have happened (a device deadline), then return. NULL:
     * nothing can ever wake it. */
    void (*idle)(void *opaque);

    /* Port I/O, wired by the board; dbt never sees devices directly. */
    uint32_t (*io_read)(void *opaque, uint16_t port, unsigned size);
    void (*io_write)(void *opaque, uint16_t port, unsigned size, uint32_t val);
    void *io_opaque;

    /* Guest RAM, as the host sees it (also phys_base .. phys_base + ram_size). */
    uint8_t *ram;
    uint32_t ram_size;

    /* Translator state (dbt/) and shadow page tables (mmu/). */
    struct dbt *dbt;
    struct shadow *shadow;

    /* The slow access path: the monitor reads the operand here, runs the
     * instruction against it, and writes it back (page crossing, MMIO). */
    uint8_t bounce[512] __attribute__((aligned(16)));
    struct {
        bool pending;
        bool write;
        uint32_t la;
        uint32_t size;
    } slow;

    /* Slots of the jump cache filled since it was last cleared; more than
     * JC_USED_MAX means "clear it all". */
    uint32_t jc_used[JC_USED_MAX];
    uint32_t njc_used;

    /* Jump cache: tag is -(guest eip + shadow_table) so that tag + eip +
     * R13 == 0 on a hit: a slot filled under one privilege view (or
     * address-space table) never hits under another, so user code cannot
     * jump into supervisor code through it. */
    uint64_t jc_tag[JC_SIZE];
    uint32_t jc_eip[JC_SIZE];
    void *jc_host[JC_SIZE];
    uint8_t jc_global[JC_SIZE]; /* the target's code page is global */

    /* The poll page: translated code loads from it at every block entry;
     * the monitor makes it PROT_NONE to force an exit. Page aligned. */
    uint8_t poll_page[4096] __attribute__((aligned(4096)));
};

#define VCPU_OFF_REGS        0x00
#define VCPU_OFF_EIP         0x20
#define VCPU_OFF_EFLAGS      0x24
#define VCPU_OFF_HOST_RFLAGS 0x28
#define VCPU_OFF_HOST_RSP    0x30
#define VCPU_OFF_EXIT_REASON 0x38
#define VCPU_OFF_EXIT_ARG    0x40
#define VCPU_OFF_ENTER       0x48
#define VCPU_OFF_EXIT_FN     0x50
#define VCPU_OFF_PHYS_BASE   0x58
#define VCPU_OFF_SEG_BASE    0x60
#define VCPU_OFF_SHADOW      0x78
#define VCPU_OFF_EXIT_RESUME 0x80
#define VCPU_OFF_FPU_GUEST   0x100
#define VCPU_OFF_FPU_HOST    0x300

/* Protected mode proper (PE set, not virtual-8086). */
static inline bool cpu_protected_mode(const struct vcpu *v)
{
    return (v->cr0 & CR0_PE) && !(v->eflags & EFL_VM);
}

/* A flat 4 GiB segment cache: `type` (descriptor type bits), present,
 * 32-bit, page granular, with privilege dpl. */
struct segment seg_flat(uint16_t sel, uint16_t type, int dpl);

/* Allocate a vCPU (page aligned, zeroed, in reset state); NULL on failure. */
struct vcpu *vcpu_create(void);
void vcpu_destroy(struct vcpu *v);

/* Connect the vCPU to its translator, shadow tables and guest memory. */
struct window;
void vcpu_attach(struct vcpu *v, struct dbt *d, struct shadow *s,
                 const struct window *w);

/* Put the vCPU in the state the Multiboot spec gives at kernel entry. */
void vcpu_set_flat32(struct vcpu *v, uint32_t eip);

/* Reset the guest FPU/SSE state (FNINIT, MXCSR 0x1F80). */
void vcpu_fpu_reset(struct vcpu *v);

/* Invalidate the jump cache (after a mode change or a flush), or the
 * entries that can hold targets on the page of linear address la. */
void vcpu_jc_clear(struct vcpu *v);
void vcpu_jc_clear_page(struct vcpu *v, uint32_t la);
/* A CR3 load with CR4.PGE: keep the slots whose code page is global. */
void vcpu_jc_clear_nonglobal(struct vcpu *v);

/* Ask translated code to return to the monitor soon (thread safe). */
void vcpu_kick(struct vcpu *v);
/* Undo vcpu_kick (monitor thread only). */
void vcpu_unkick(struct vcpu *v);

/* Stop the machine from another thread (or a signal handler): the run
 * loop returns at the next block boundary with status VCPU_STOPPED. */
#define VCPU_STOPPED 124
void vcpu_request_stop(struct vcpu *v);

/*
 * The DR6 B0-B3 bits of the enabled instruction breakpoints (DR7 L or G
 * set, R/W 00) at linear address la; 0 if none. LEN is 00 for these (the
 * SDM leaves other lengths undefined), so only the first byte matches.
 */
static inline uint32_t vcpu_exec_breakpoints(const struct vcpu *v, uint32_t la)
{
    uint32_t dr7 = v->dr[7], hit = 0;
    if (!(dr7 & 0xff))
        return 0;
    for (int n = 0; n < 4; n++)
        if ((dr7 & (3u << (2 * n))) && ((dr7 >> (16 + 4 * n)) & 3) == 0 &&
            v->dr[n] == la)
            hit |= 1u << n;
    return hit;
}

#endif
