/* SPDX-License-Identifier: MIT */
/* The translator's interface to the monitor: find or make host code. */
#ifndef BT386_DBT_DBT_H
#define BT386_DBT_DBT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;
struct insn;

/* Mode bits that change what guest bytes mean; part of the cache key. */
#define MODE_CODE32 0x1 /* CS.D: 32-bit default operand and address size */
#define MODE_STACK32 0x2 /* SS.B: 32-bit stack pointer */
#define MODE_FLAT 0x4   /* CS, DS, ES, SS bases are all zero */
#define MODE_PAGING 0x8 /* CR0.PG: memory goes through shadow tables */
#define MODE_TS 0x10    /* CR0.TS: FPU/SIMD instructions raise #NM */
#define MODE_EM 0x20    /* CR0.EM: x87 raises #NM, MMX/SSE #UD */
#define MODE_NOFXSR 0x40 /* CR4.OSFXSR clear: SSE raises #UD */
#define MODE_MP 0x80    /* CR0.MP: WAIT/FWAIT honours TS */
#define MODE_ONE 0x100  /* a one-instruction block (interrupt shadow) */
#define MODE_TSD 0x200  /* CR4.TSD: RDTSC checks CPL (in the monitor) */
/* A restricted data segment (protected mode): not present, a limit below
 * 4 GiB, expand-down, read-only or code. Accesses through it leave for
 * the monitor's checks (EXIT_SEGCHECK). One bit per SEG_*; the CS bit
 * is set in all of protected mode, for CS-override accesses (a code
 * segment is never writable). */
#define MODE_SEGCHK(seg) (0x400u << (seg))
#define MODE_SEGCHK_ALL (0x3fu << 10)
/* Paging on and guest ESP not a multiple of 4 at lookup: the block does
 * not test ESP at entry nor count on its alignment (gen_esp_check). */
#define MODE_ESP_UNALIGNED 0x10000u

/* One host-PC -> guest-EIP record, at the start of each guest instruction. */
struct pcmap {
    uint32_t host_off;  /* offset of the instruction's host code in the block */
    uint32_t eip;       /* guest EIP of the instruction */
    uint32_t flags;     /* PCF_* */
};
#define PCF_RSI_IN_R11 0x1 /* guest ESI is parked in R11 around the access */
/* A REP MOVS/STOS chunk under paging (gen_rep_string_paged): RSI/RDI hold
 * host addresses (guest ESI = RSI - R8, EDI = RDI - R10), guest ECX =
 * RCX + R9, and the guest's flags are in vcpu->str_flags. */
#define PCF_STR_SRC 0x2
#define PCF_STR_DST 0x4
/* The access's lookup is in the write table: a zero entry's fault there
 * is a write miss, whatever the host's error code says (a read-modify-
 * write instruction may report its read). */
#define PCF_MISS_WRITE 0x8
/* The access's lookup adds bit 63 to the entry when it crosses a page
 * (gen_lookup_faulting): a #GP there with bit 63 in R10 is a crossing. */
#define PCF_CROSS_GP 0x10

/* A translated block. */
struct block {
    uint32_t eip;        /* guest EIP at the start */
    uint32_t cs_base;    /* CS base it was translated under */
    uint32_t phys;       /* physical address of the first byte */
    uint32_t mode;       /* MODE_* */
    uint32_t guest_len;  /* bytes of guest code covered */
    uint32_t ninsns;
    uint8_t *host;       /* entry point in the code cache */
    uint32_t host_len;
    struct pcmap *pcmap; /* ninsns entries, then ntwin for the twin */
    /* A counted loop's second body, which runs without shadow lookups
     * (gen_run_twin): its host offset, 0 if none, and its instructions
     * (one per guest instruction of the block, in the same order). */
    uint32_t twin_off;
    uint32_t ntwin;
    struct block *hash_next;
    /* The code pages it lies on (one or two), and the next block on each
     * page's list (index + 1; 0 ends it), for per-page invalidation. */
    uint32_t pages[2];
    uint32_t page_next[2];
    bool stale; /* its code was written: the entry now leaves for the
                   monitor, and later jumps to the new translation */
    bool cached; /* in the hash: not a one-off (single step, fetch fault) */
};

struct dbt;

/* Create the translator with a code cache of cache_bytes; NULL on failure. */
struct dbt *dbt_create(size_t cache_bytes);
void dbt_destroy(struct dbt *d);

/* Current mode key of the vCPU. */
uint32_t dbt_mode(const struct vcpu *v);

/*
 * Return the block for guest EIP v->eip in the current mode, translating it
 * if needed. Never NULL: undecodable code becomes a block that raises #UD.
 */
struct block *dbt_find(struct dbt *d, struct vcpu *v);

/* Flush counter: a patch site recorded before a flush is stale. */
uint64_t dbt_generation(const struct dbt *d);

/* Point the branch whose rel32 field is at `site` (recorded when the cache
 * had `generation`) to block b: chaining. Stale sites are ignored. */
void dbt_chain(struct dbt *d, uint8_t *site, uint64_t generation,
               struct block *b);

/* The stale block whose entry called the stale stub (EXIT_STALE's
 * exit_arg is the call's return address), or NULL. */
struct block *dbt_stale_block(struct dbt *d, uint64_t return_address);

/* Record b in the jump cache for indirect branches. */
void dbt_jc_fill(struct vcpu *v, struct block *b);

/* Is physical address pa in a page holding translated code? */
bool dbt_is_code_page(const struct dbt *d, uint32_t pa);

/* The monitor or a device wrote [pa, pa + len): drop translations of code
 * there (writes by translated code fault instead; see dbt_smc_fault). */
void dbt_note_write(struct dbt *d, struct vcpu *v, uint32_t pa, unsigned len);

/* Translate the next block as one instruction, uncached (single step). */
void dbt_step_next(struct dbt *d);
/* Like dbt_step_next, for the instruction at an instruction breakpoint
 * that EFLAGS.RF lets run once: its block does not stop there. */
void dbt_step_past_breakpoint(struct dbt *d);
/* Like dbt_step_next, for an instruction whose segment checks the monitor
 * has done (EXIT_SEGCHECK): its accesses run unchecked this once. */
void dbt_step_unchecked(struct dbt *d);

/* Run the next block as one instruction, from a cached one-instruction
 * translation (the instruction after STI or MOV SS: a hot path). */
void dbt_step_next_cached(struct dbt *d);

/* The next lookup takes the block variant that assumes nothing about ESP
 * (MODE_ESP_UNALIGNED): a block's ESP entry test failed. */
void dbt_next_esp_unaligned(struct dbt *d);

/* Run the instruction at v->eip once with its memory operand in the
 * vCPU's bounce buffer (the monitor does the access around it). */
void dbt_bounce_next(struct dbt *d);
/* Like dbt_bounce_next, with the stack slot of a PUSH/POP-like instruction
 * (insn_stack_access) in the bounce buffer instead. */
void dbt_bounce_stack_next(struct dbt *d);

/* Translated code wrote to a code page (FAULT_SMC): drop the translations
 * of that page and run the writing instruction once, uncached, with the
 * page writable. */
void dbt_smc_fault(struct dbt *d, struct vcpu *v);

/* Drop every translation (cache full, mode change, code written). */
void dbt_flush(struct dbt *d, struct vcpu *v);

/*
 * Data breakpoints with paging off: the window pages (up to 4) whose
 * every access must fault, leaving through FAULT_WATCH; dbt_watch_open
 * lets the instruction that touched one run (true) and shuts them again
 * (false). SMC write protection of code pages is kept underneath.
 */
void dbt_watch_pages(struct dbt *d, struct vcpu *v, const uint32_t *pages,
                     int n);
void dbt_watch_open(struct dbt *d, struct vcpu *v, bool open);
bool dbt_is_watch_page(const struct dbt *d, uint32_t pa);

/* Find the block holding host address pc, or NULL (signal handler use). */
struct block *dbt_block_at(struct dbt *d, const void *pc);
/* The guest EIP of the translated instruction whose host code holds the
 * address whose low 32 bits are low32 (an x87 FIP); false if none. */
bool dbt_host_to_eip(struct dbt *d, uint32_t low32, uint32_t *eip);
/* The pcmap record for host pc inside block b. In a counted loop's twin,
 * the record of the same guest instruction there (its PCF_* flags) with
 * the host offset of the instruction in the block's first body, where a
 * resumed instruction goes on with lookups. */
struct pcmap dbt_pcmap_at(const struct block *b, const void *pc);

/* Decode the guest instruction at v->eip (for the monitor's emulator). */
bool dbt_decode_at(struct dbt *d, struct vcpu *v, uint32_t eip,
                   struct insn *out);

/* How the translator handles an instruction (the coverage tool). */
enum { TR_COPY, TR_REWRITE, TR_MONITOR, TR_UNDEFINED };
int dbt_classify(struct vcpu *v, const struct insn *in, uint32_t mode);

/* The bounds of the code cache (signal handler use). */
bool dbt_in_cache(struct dbt *d, const void *pc);

/* Enter translated code at v->enter_target; returns when it exits, with
 * the guest state saved in v (dbt/trampoline.S). */
void bt_enter(struct vcpu *v);

/* sigaction() for host signals: the handler is entered through a thunk
 * that clears RFLAGS.AC first (translated code runs with the guest's AC
 * for #AC). flags: SA_* (SA_SIGINFO is implied); the mask is empty. */
int dbt_sigaction(int sig, void (*handler)(int, siginfo_t *, void *),
                  int flags);

/* Install the host signal handlers that recover guest state from faults
 * in translated code, for this vCPU and translator. */
int dbt_signals_install(struct dbt *d, struct vcpu *v);

#endif
