/* SPDX-License-Identifier: MIT */
/*
 * bench-nano: nanobenchmarks of system operations, in TSC cycles per
 * operation, after Adams & Agesen, "A Comparison of Software and Hardware
 * Techniques for x86 Virtualization" (ASPLOS 2006), Figure 4.
 *
 * Each operation is an assembly loop of N iterations (below). Its cost is
 * RDTSC before and after the loop, the best of RUNS runs, minus the best
 * of RUNS runs of the empty loop at the same privilege level, divided by
 * the number of operations. Paging is on throughout (an identity map of
 * the low 16 MiB with 4 KiB pages, systests/lib/paging.c) and interrupts
 * are off. The handlers are minimal assembly (no trap_dispatch): each does
 * what the operation needs and IRETs.
 *
 *   syscall   INT 0x80 from CPL 3 through a DPL 3 interrupt gate to a
 *             handler that IRETs back
 *   pgfault   a CPL 3 load from a not-present page; the #PF handler sets
 *             its PTE present, INVLPGs it, clears the other page's PTE and
 *             INVLPGs that (so the loop, alternating between two pages,
 *             faults on every access), and returns
 *   ptemod    a CPL 0 write to a PTE (alternating between two frames)
 *             followed by INVLPG of its page
 *   cr3switch MOV to CR3, alternating between two address spaces that map
 *             one page to different frames, and a load from that page
 *   in80      IN AL, 0x80 at CPL 0
 *   callret   CALL of an empty function (RET) at CPL 0
 *   divzero   DIV by zero at CPL 3; the #DE handler skips the 2-byte DIV
 *             by advancing the saved EIP
 *
 * Prints "nano NAME cycles=N" per operation, then PASS (or FAIL if a
 * handler did not run as often as it should) and leaves through
 * isa-debug-exit (0x10, or 0x11 on failure).
 */
#include <stddef.h>

#include "lib/paging.h"
#include "lib/sys.h"

#define RUNS 5 /* timed runs per loop, after one warm-up run */

#define PF_PAGE   0x40000000u /* and PF_PAGE + 4 KiB: the faulting pair */
#define PTE_PAGE  0x40400000u /* ptemod's page */
#define CR3_PAGE  0x40800000u /* mapped differently in the two spaces */
#define PWU       (PTE_P | PTE_W | PTE_U)
#define VEC_SYS   0x80

/* Read by the assembly below. */
volatile uint32_t *nano_pf_pte;        /* PTE of PF_PAGE (then PF_PAGE+4K) */
volatile uint32_t *nano_mod_pte;       /* PTE of PTE_PAGE */
uint32_t nano_mod_val, nano_mod_xor;   /* its first value; frame0 ^ frame1 */
uint32_t nano_cr3_a, nano_cr3_b;       /* the two page directories */
volatile uint32_t nano_sys_count, nano_pf_count, nano_de_count;

typedef void (*nano_loop)(uint32_t n);

/* The loops: cdecl, n in 4(%esp), free with EAX, ECX, EDX. */
void nano_loop_empty(uint32_t n);
void nano_loop_syscall(uint32_t n);
void nano_loop_pgfault(uint32_t n);
void nano_loop_ptemod(uint32_t n);
void nano_loop_cr3(uint32_t n);
void nano_loop_in80(uint32_t n);
void nano_loop_callret(uint32_t n);
void nano_loop_divzero(uint32_t n);
void nano_isr_syscall(void);
void nano_isr_pf(void);
void nano_isr_de(void);

__asm__(".text\n"
        ".p2align 4\n"
        "nano_loop_empty:\n\t"
        "movl 4(%esp), %ecx\n"
        "1:\n\t"
        "decl %ecx\n\t"
        "jnz 1b\n\t"
        "ret\n"

        ".p2align 4\n"
        "nano_loop_syscall:\n\t"
        "movl 4(%esp), %ecx\n"
        "1:\n\t"
        "int $0x80\n\t"
        "decl %ecx\n\t"
        "jnz 1b\n\t"
        "ret\n"

        /* Two faults per iteration: PF_PAGE, then PF_PAGE + 4 KiB. */
        ".p2align 4\n"
        "nano_loop_pgfault:\n\t"
        "movl 4(%esp), %ecx\n"
        "1:\n\t"
        "movl 0x40000000, %eax\n\t"
        "movl 0x40001000, %eax\n\t"
        "decl %ecx\n\t"
        "jnz 1b\n\t"
        "ret\n"

        ".p2align 4\n"
        "nano_loop_ptemod:\n\t"
        "pushl %ebx\n\t"
        "movl 8(%esp), %ecx\n\t"
        "movl nano_mod_pte, %edx\n\t"
        "movl nano_mod_val, %eax\n\t"
        "movl nano_mod_xor, %ebx\n"
        "1:\n\t"
        "xorl %ebx, %eax\n\t"
        "movl %eax, (%edx)\n\t"
        "invlpg 0x40400000\n\t"
        "decl %ecx\n\t"
        "jnz 1b\n\t"
        "movl %eax, nano_mod_val\n\t"
        "popl %ebx\n\t"
        "ret\n"

        /* Two switches per iteration: to B and back to A. */
        ".p2align 4\n"
        "nano_loop_cr3:\n\t"
        "pushl %ebx\n\t"
        "movl 8(%esp), %ecx\n\t"
        "movl nano_cr3_a, %eax\n\t"
        "movl nano_cr3_b, %edx\n"
        "1:\n\t"
        "movl %edx, %cr3\n\t"
        "movl 0x40800000, %ebx\n\t"
        "movl %eax, %cr3\n\t"
        "movl 0x40800000, %ebx\n\t"
        "decl %ecx\n\t"
        "jnz 1b\n\t"
        "popl %ebx\n\t"
        "ret\n"

        ".p2align 4\n"
        "nano_loop_in80:\n\t"
        "movl 4(%esp), %ecx\n"
        "1:\n\t"
        "inb $0x80, %al\n\t"
        "decl %ecx\n\t"
        "jnz 1b\n\t"
        "ret\n"

        ".p2align 4\n"
        "nano_empty_fn:\n\t"
        "ret\n"
        ".p2align 4\n"
        "nano_loop_callret:\n\t"
        "movl 4(%esp), %ecx\n"
        "1:\n\t"
        "call nano_empty_fn\n\t"
        "decl %ecx\n\t"
        "jnz 1b\n\t"
        "ret\n"

        /* DIV %EBX (F7 F3, 2 bytes) with EBX = 0. */
        ".p2align 4\n"
        "nano_loop_divzero:\n\t"
        "pushl %ebx\n\t"
        "movl 8(%esp), %ecx\n\t"
        "xorl %ebx, %ebx\n"
        "1:\n\t"
        "xorl %edx, %edx\n\t"
        "divl %ebx\n\t"
        "decl %ecx\n\t"
        "jnz 1b\n\t"
        "popl %ebx\n\t"
        "ret\n"

        /* Handlers (interrupt gates, so IF stays 0). */
        ".p2align 4\n"
        "nano_isr_syscall:\n\t"
        "incl nano_sys_count\n\t"
        "iret\n"

        /* #PF: map the faulting page (P in its PTE), INVLPG it; unmap the
         * other page of the pair (its PTE is the neighbour: the pair's
         * PTEs are at an 8-byte-aligned address) and INVLPG it. */
        ".p2align 4\n"
        "nano_isr_pf:\n\t"
        "pushl %eax\n\t"
        "pushl %edx\n\t"
        "movl %cr2, %eax\n\t"
        "andl $0xfffff000, %eax\n\t"
        "movl %eax, %edx\n\t"
        "shrl $10, %edx\n\t"
        "andl $4, %edx\n\t"
        "addl nano_pf_pte, %edx\n\t"
        "orl $1, (%edx)\n\t"
        "invlpg (%eax)\n\t"
        "xorl $0x1000, %eax\n\t"
        "xorl $4, %edx\n\t"
        "andl $0xfffffffe, (%edx)\n\t"
        "invlpg (%eax)\n\t"
        "incl nano_pf_count\n\t"
        "popl %edx\n\t"
        "popl %eax\n\t"
        "addl $4, %esp\n\t" /* the error code */
        "iret\n"

        ".p2align 4\n"
        "nano_isr_de:\n\t"
        "addl $2, (%esp)\n\t"
        "incl nano_de_count\n\t"
        "iret\n");

/* u64 / u32 without libgcc. */
static uint32_t div64(uint64_t a, uint32_t b)
{
    uint64_t q = 0, r = 0;

    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((a >> i) & 1);
        if (r >= b) {
            r -= b;
            q |= 1ull << i;
        }
    }
    return (uint32_t)q;
}

/* One timed run of loop(n) at the current privilege level. */
static volatile uint64_t user_cycles;
static nano_loop user_loop;

static uint64_t time_loop(nano_loop loop, uint32_t n)
{
    uint64_t t0 = rdtsc();
    loop(n);
    return rdtsc() - t0;
}

static uint32_t user_time(uint32_t n)
{
    user_cycles = time_loop(user_loop, n);
    return 0;
}

static uint64_t time_at(int cpl, nano_loop loop, uint32_t n)
{
    if (cpl == 0)
        return time_loop(loop, n);
    user_loop = loop;
    user_call(user_time, n, EFL_FIXED);
    return user_cycles;
}

/* The best of RUNS runs (after a warm-up). */
static uint64_t best_of(int cpl, nano_loop loop, uint32_t n)
{
    uint64_t best = ~0ull;

    time_at(cpl, loop, n);
    for (int r = 0; r < RUNS; r++) {
        uint64_t t = time_at(cpl, loop, n);
        if (t < best)
            best = t;
    }
    return best;
}

static void measure(const char *name, int cpl, nano_loop loop, uint32_t n,
                    uint32_t ops_per_iter, volatile uint32_t *count)
{
    uint32_t before = count ? *count : 0;
    uint64_t t = best_of(cpl, loop, n);
    uint64_t empty = best_of(cpl, nano_loop_empty, n);
    uint32_t ops = n * ops_per_iter;
    uint32_t cycles = t > empty ? div64(t - empty, ops) : 0;

    kprintf("nano %s cycles=%u\n", name, cycles);
    if (count && *count - before != ops * (RUNS + 1)) {
        check_fail(name);
        kprintf("handler ran %u times, expected %u\n", *count - before,
                ops * (RUNS + 1));
    }
}

static void set_gate(int vec, void (*isr)(void), int dpl)
{
    idt_set(vec, desc_gate(SEL_KCODE, (uint32_t)isr, TYPE_INT_GATE, dpl, 0));
}

void test_main(void)
{
    uint32_t *pd_a = pg_dir_new(), *pd_b = pg_dir_new();
    uint32_t *pf_frames[2] = {pg_alloc(), pg_alloc()};
    uint32_t *mod_frames[2] = {pg_alloc(), pg_alloc()};
    uint32_t *cr3_frames[2] = {pg_alloc(), pg_alloc()};

    /* The faulting pair, not present (P clear, the rest ready). */
    pg_map(pd_a, PF_PAGE, (uint32_t)pf_frames[0], PTE_W | PTE_U);
    pg_map(pd_a, PF_PAGE + PAGE_SIZE, (uint32_t)pf_frames[1], PTE_W | PTE_U);
    nano_pf_pte = pg_pte(pd_a, PF_PAGE);
    /* ptemod's page. */
    pg_map(pd_a, PTE_PAGE, (uint32_t)mod_frames[0], PWU);
    nano_mod_pte = pg_pte(pd_a, PTE_PAGE);
    nano_mod_val = (uint32_t)mod_frames[0] | PWU;
    nano_mod_xor = (uint32_t)mod_frames[0] ^ (uint32_t)mod_frames[1];
    /* The two address spaces: the same but for CR3_PAGE. */
    pg_map(pd_a, CR3_PAGE, (uint32_t)cr3_frames[0], PWU);
    pg_map(pd_b, PF_PAGE, (uint32_t)pf_frames[0], PTE_W | PTE_U);
    pg_map(pd_b, PTE_PAGE, (uint32_t)mod_frames[0], PWU);
    pg_map(pd_b, CR3_PAGE, (uint32_t)cr3_frames[1], PWU);
    nano_cr3_a = (uint32_t)pd_a;
    nano_cr3_b = (uint32_t)pd_b;

    set_gate(VEC_SYS, nano_isr_syscall, 3);
    set_gate(VEC_PF, nano_isr_pf, 0);
    set_gate(VEC_DE, nano_isr_de, 0);

    pg_enable(pd_a);
    measure("syscall", 3, nano_loop_syscall, 20000, 1, &nano_sys_count);
    measure("pgfault", 3, nano_loop_pgfault, 5000, 2, &nano_pf_count);
    measure("ptemod", 0, nano_loop_ptemod, 20000, 1, NULL);
    measure("cr3switch", 0, nano_loop_cr3, 5000, 2, NULL);
    measure("in80", 0, nano_loop_in80, 20000, 1, NULL);
    measure("callret", 0, nano_loop_callret, 200000, 1, NULL);
    measure("divzero", 3, nano_loop_divzero, 20000, 1, &nano_de_count);
    pg_disable();
}
