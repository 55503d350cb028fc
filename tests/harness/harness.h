/* SPDX-License-Identifier: MIT */
/* A test harness around the real translator and monitor: load bytes into
 * guest RAM, set registers, run translated until HLT or an exception. */
#ifndef BT386_TESTS_HARNESS_H
#define BT386_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct harness;

/* Guest state in and out of a run. */
struct harness_state {
    uint32_t regs[8];   /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint32_t eip;
    uint32_t eflags;
    uint8_t fpu[512];   /* FXSAVE image (x87, MMX, SSE) */
};

/* How a run ended. */
struct harness_result {
    int vector;         /* -1: stopped at HLT (EIP after it); else the
                           exception (EIP at the faulting instruction) */
    int32_t error;      /* error code, or -1 */
    int status;         /* machine exit status (0 unless the guest stopped
                           the machine some other way) */
};

/* A flat 32-bit ring-0 machine with ram_mb MiB, paging off, and SSE
 * enabled by the "OS" (CR4.OSFXSR and OSXMMEXCPT set). NULL on error. */
struct harness *harness_create(uint32_t ram_mb);
void harness_destroy(struct harness *h);

/* Guest physical memory access (paging is off: linear = physical). */
void harness_write(struct harness *h, uint32_t addr, const void *src, size_t n);
void harness_read(struct harness *h, uint32_t addr, void *dst, size_t n);
uint8_t *harness_ram(struct harness *h);
uint32_t harness_ram_size(struct harness *h);

/* The default FPU image (after FNINIT, MXCSR 0x1F80). */
void harness_default_fpu(struct harness *h, uint8_t fpu[512]);

/*
 * Run from *st until HLT or an exception; *st is updated with the final
 * state. Translations are dropped first, so new code bytes are seen.
 */
void harness_run(struct harness *h, struct harness_state *st,
                 struct harness_result *res);

/* Like harness_run, but stop after about budget_us microseconds of guest
 * time (result.status is then VCPU_STOPPED); for code that may loop. */
void harness_run_budget(struct harness *h, struct harness_state *st,
                        struct harness_result *res, unsigned budget_us);

/* Deliver exceptions through the guest's IDT (with #DF and triple fault)
 * instead of stopping at the first one. */
void harness_deliver_exceptions(struct harness *h, int on);

/* How a run starts: paging on (an identity map of all RAM, user and
 * writable, in the top pages of RAM), at CPL 3 (flat segments with DPL
 * 3), and/or with SSE not enabled by the OS. Applies to every later run. */
#define HARNESS_PAGING 0x1
#define HARNESS_RING3 0x2
#define HARNESS_NO_SSE 0x4 /* CR4.OSFXSR clear: SSE not yet enabled */
void harness_set_start(struct harness *h, unsigned flags);

/* Connect a fake INTR line: pending() says whether an interrupt is
 * requested, ack() returns its vector (the PIC's acknowledge cycle). */
void harness_set_intr(struct harness *h, bool (*pending)(void *),
                      int (*ack)(void *), void *opaque);

/* The vCPU (for --stats-like counters in tests). */
struct vcpu *harness_vcpu(struct harness *h);

#endif
