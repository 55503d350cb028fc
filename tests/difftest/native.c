// SPDX-License-Identifier: MIT
/*
 * The native runner: runs difftest cases on the host CPU in a child
 * process. Built as a static i386 program (the reference for every case),
 * and as a static x86-64 program for the cases whose bytes mean the same
 * thing in 64-bit mode, for hosts that cannot run 32-bit processes.
 *
 * Each case is loaded at the fixed guest addresses, entered with the given
 * registers, EFLAGS and FXSAVE image, and stopped by a signal: the HLT
 * sentinel (a #GP in ring 3) or any exception. The final state comes from
 * the signal context.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* REG_* names of the signal context */
#endif
#include "proto.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NREG(r) REG_R##r
#define REG_PC REG_RIP
#else
#define NREG(r) REG_E##r
#define REG_PC REG_EIP
#endif

/* The state native_enter loads; read by the assembly below. */
struct enter_state {
    uint32_t regs[8];
    uint32_t eflags;
    uint32_t pad;
    uint64_t entry;
};
struct enter_state native_in;
uint8_t native_fpu_in[512] __attribute__((aligned(16)));

static sigjmp_buf run_jmp;
static volatile int run_active;     /* a case is running */
static uint32_t run_sentinel;
static struct dt_res run_out;
static uint8_t baseline[DT_MEM_SIZE];
static uint32_t code_len_prev = DT_CODE_SIZE;

/*
 * native_enter: FXRSTOR, EFLAGS, all eight registers, then jump to the
 * case. It never returns; the case ends in the signal handler.
 */
void native_enter(void) __attribute__((noreturn));
#if defined(__x86_64__)
__asm__(".text\n.globl native_enter\nnative_enter:\n"
        "  fxrstor native_fpu_in(%rip)\n"
        "  movl native_in+32(%rip), %eax\n"
        "  pushq %rax\n"
        "  popfq\n"
        "  movl native_in+0(%rip), %eax\n"
        "  movl native_in+4(%rip), %ecx\n"
        "  movl native_in+8(%rip), %edx\n"
        "  movl native_in+12(%rip), %ebx\n"
        "  movl native_in+16(%rip), %esp\n"
        "  movl native_in+20(%rip), %ebp\n"
        "  movl native_in+24(%rip), %esi\n"
        "  movl native_in+28(%rip), %edi\n"
        "  jmp *native_in+40(%rip)\n");
#else
__asm__(".text\n.globl native_enter\nnative_enter:\n"
        "  fxrstor native_fpu_in\n"
        "  pushl native_in+32\n"
        "  popfl\n"
        "  movl native_in+0, %eax\n"
        "  movl native_in+4, %ecx\n"
        "  movl native_in+8, %edx\n"
        "  movl native_in+12, %ebx\n"
        "  movl native_in+16, %esp\n"
        "  movl native_in+20, %ebp\n"
        "  movl native_in+24, %esi\n"
        "  movl native_in+28, %edi\n"
        "  jmp *native_in+40\n");
#endif

static void die(const char *what)
{
    fprintf(stderr, "native: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int read_full(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = read(0, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void write_full(const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = write(1, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("write");
        p += r;
        n -= (size_t)r;
    }
}

/* Vectors whose exceptions push an error code. */
static int vector_has_error(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

#if defined(__x86_64__)
/* The x86-64 signal frame holds the FXSAVE image itself. */
static void fpu_from_context(const ucontext_t *uc, uint8_t out[512])
{
    const uint8_t *fx = (const uint8_t *)uc->uc_mcontext.fpregs;
    for (int i = 0; i < 512; i++)
        out[i] = fx ? fx[i] : 0;
}
#else
/* The i386 signal frame: an FSAVE image, then status, magic (0 when the
 * FXSAVE image follows) and the FXSAVE image at byte 112. */
#define FRAME_MAGIC_OFF 110
#define FRAME_FXSAVE_OFF 112

static void fpu_from_fsave(const uint8_t *fs, uint8_t out[512]);

static void fpu_from_context(const ucontext_t *uc, uint8_t out[512])
{
    const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
    if (fp && fp[FRAME_MAGIC_OFF] == 0 && fp[FRAME_MAGIC_OFF + 1] == 0) {
        for (int i = 0; i < 512; i++)
            out[i] = fp[FRAME_FXSAVE_OFF + i];
    } else if (fp) {
        fpu_from_fsave(fp, out);
    }
}

/*
 * Without FXSAVE data in the frame (QEMU user mode writes a bare FSAVE
 * image, and not a faithful one), take the live state: such a frame
 * leaves the x87/SSE registers alone for the handler.
 */
static void fpu_from_fsave(const uint8_t *fs, uint8_t out[512])
{
    static uint8_t live[512] __attribute__((aligned(16)));
    (void)fs;
    __asm__ volatile("fxsave %0" : "=m"(live));
    for (int i = 0; i < 512; i++)
        out[i] = live[i];
}
#endif

/* The byte at address a, past any legacy prefixes. */
static uint8_t opcode_at(uint32_t a)
{
    const uint8_t *p = (const uint8_t *)(uintptr_t)a;
    for (int i = 0; i < 14; i++, p++)
        if (*p != 0x66 && *p != 0x67 && *p != 0xf0 && *p != 0xf2 &&
            *p != 0xf3 && *p != 0x26 && *p != 0x2e && *p != 0x36 &&
            *p != 0x3e && *p != 0x64 && *p != 0x65)
            break;
    return *p;
}

/*
 * QEMU user mode leaves trapno at -1: work the vector out from the signal
 * and the instruction, as far as the cases difftest generates need.
 */
static int vector_from_signal(int sig, const siginfo_t *si, uint32_t eip,
                              uint32_t eflags)
{
    switch (sig) {
    case SIGILL: return 6;
    case SIGTRAP: return 3;
    case SIGBUS: return 17;
    case SIGFPE:
        if (si->si_code == FPE_INTDIV || si->si_code == FPE_INTOVF)
            return 0;
        return (opcode_at(eip) & 0xf8) == 0xd8 || opcode_at(eip) == 0x9b ? 16 : 19;
    default: /* BOUND faults at itself; INTO traps after itself, with OF */
        if (eip != run_sentinel && opcode_at(eip) == 0x62)
            return 5;
        if (eip > DT_CODE_BASE && (eflags & 0x800) &&
            *(const uint8_t *)(uintptr_t)(eip - 1) == 0xce)
            return 4;
        return 13;
    }
}

/* Fill run_out from the signal context. */
static void result_from_context(int sig, const siginfo_t *si,
                                const ucontext_t *uc)
{
    const greg_t *gr = uc->uc_mcontext.gregs;
    static const int map[8] = {NREG(AX), NREG(CX), NREG(DX), NREG(BX),
                               NREG(SP), NREG(BP), NREG(SI), NREG(DI)};
    for (int i = 0; i < 8; i++)
        run_out.regs[i] = (uint32_t)gr[map[i]];
    run_out.eip = (uint32_t)gr[REG_PC];
    run_out.eflags = (uint32_t)gr[REG_EFL];
    int trapno = (int)gr[REG_TRAPNO];
    int32_t err = (int32_t)gr[REG_ERR];
    if (trapno < 0 || trapno > 31) {
        trapno = vector_from_signal(sig, si, run_out.eip, run_out.eflags);
        err = 0;
    }
    run_out.vector = trapno;
    run_out.error = vector_has_error(trapno) ? err : -1;
    run_out.status = sig;
    if (sig == SIGSEGV && trapno == 13 && run_out.eip == run_sentinel) {
        run_out.vector = DT_VEC_HLT;
        run_out.error = -1;
        run_out.eip = run_sentinel + 1;
    } else if (sig != SIGSEGV && sig != SIGILL && sig != SIGFPE &&
               sig != SIGTRAP && sig != SIGBUS) {
        run_out.vector = DT_VEC_SIGNAL;
    }
    fpu_from_context(uc, run_out.fpu);
}

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    if (!run_active) {
        /* A fault in the runner itself: die with it. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    run_active = 0;
    result_from_context(sig, si, (const ucontext_t *)ucv);
    siglongjmp(run_jmp, 1);
}

static void setup_signals(void)
{
    static uint8_t altstack[1 << 16];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    if (sigaltstack(&ss, NULL) != 0)
        die("sigaltstack");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    static const int sigs[] = {SIGSEGV, SIGILL, SIGFPE, SIGTRAP, SIGBUS};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) != 0)
            die("sigaction");
}

static void map_region(uint32_t base, uint32_t size, int prot)
{
    void *p = mmap((void *)(uintptr_t)base, size, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)(uintptr_t)base)
        die("mmap at the guest address");
}

static uint8_t *mem_at(uint32_t off)
{
    return (uint8_t *)(uintptr_t)dt_mem_addr(off);
}

/* Load code and memory initialisers of a request. 0 on success. */
static int load_case(const struct dt_req *rq, uint8_t *extra)
{
    uint8_t *code = (uint8_t *)(uintptr_t)DT_CODE_BASE;
    memset(code, DT_CODE_FILL, code_len_prev);
    memcpy(code, extra, rq->code_len);
    code_len_prev = rq->code_len;
    uint8_t *p = extra + rq->code_len, *end = p + rq->init_len;
    while (p < end) {
        struct dt_init in;
        memcpy(&in, p, sizeof(in));
        p += sizeof(in);
        if (!dt_mem_valid(in.addr, in.len) || in.len > (size_t)(end - p))
            return -1;
        memcpy((void *)(uintptr_t)in.addr, p, in.len);
        p += in.len;
    }
    return 0;
}

static void run_case(const struct dt_req *rq)
{
    memcpy(native_in.regs, rq->regs, sizeof(native_in.regs));
    native_in.eflags = rq->eflags;
    native_in.entry = rq->eip;
    memcpy(native_fpu_in, rq->fpu, 512);
    run_sentinel = rq->sentinel;
    memset(&run_out, 0, sizeof(run_out));
    if (sigsetjmp(run_jmp, 1) == 0) {
        run_active = 1;
        native_enter();
    }
}

/* Send the result and every chunk that differs from the baseline, then
 * restore those chunks. */
static void send_result(void)
{
    static struct dt_chunk chunks[DT_NCHUNKS];
    uint32_t n = 0;
    for (uint32_t i = 0; i < DT_NCHUNKS; i++) {
        uint8_t *m = mem_at(i * DT_CHUNK);
        if (memcmp(m, baseline + i * DT_CHUNK, DT_CHUNK) == 0)
            continue;
        chunks[n].index = i;
        memcpy(chunks[n].bytes, m, DT_CHUNK);
        memcpy(m, baseline + i * DT_CHUNK, DT_CHUNK);
        n++;
    }
    run_out.magic = DT_MAGIC_RES;
    run_out.nchunks = n;
    write_full(&run_out, sizeof(run_out));
    write_full(chunks, n * sizeof(chunks[0]));
}

static void read_hello(void)
{
    struct dt_hello h;
    if (read_full(&h, sizeof(h)) != 0)
        exit(0);
    if (h.magic != DT_MAGIC_HELLO || h.mem_size != DT_MEM_SIZE ||
        read_full(baseline, sizeof(baseline)) != 0) {
        fprintf(stderr, "native: bad hello\n");
        exit(2);
    }
    memcpy(mem_at(0), baseline, DT_DATA_SIZE);
    memcpy(mem_at(DT_DATA_SIZE), baseline + DT_DATA_SIZE, DT_STACK_SIZE);
}

int main(void)
{
    static uint8_t extra[DT_CODE_SIZE + (1 << 20)];
    map_region(DT_CODE_BASE, DT_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
    map_region(DT_DATA_BASE, DT_DATA_SIZE, PROT_READ | PROT_WRITE);
    map_region(DT_STACK_BASE, DT_STACK_SIZE, PROT_READ | PROT_WRITE);
    memset((void *)(uintptr_t)DT_CODE_BASE, DT_CODE_FILL, DT_CODE_SIZE);
    setup_signals();
    read_hello();
    for (;;) {
        struct dt_req rq;
        if (read_full(&rq, sizeof(rq)) != 0)
            return 0;
        if (rq.magic != DT_MAGIC_REQ || rq.code_len > DT_CODE_SIZE ||
            rq.init_len > sizeof(extra) - rq.code_len ||
            read_full(extra, rq.code_len + rq.init_len) != 0 ||
            load_case(&rq, extra) != 0) {
            fprintf(stderr, "native: bad request\n");
            return 2;
        }
        run_case(&rq);
        send_result();
    }
}
