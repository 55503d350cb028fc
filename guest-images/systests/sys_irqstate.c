/* SPDX-License-Identifier: MIT */
/*
 * sys_irqstate: an external interrupt leaves the interrupted code's
 * registers and memory as they were. Loops whose every pass enters a few
 * short blocks (each conditional branch ends one) run while PIT channel 0
 * interrupts them a few thousand times a second; the IRQ handler saves and
 * restores everything (the stub's PUSHA), so after each pass every register
 * and the memory cell must still hold what the loop put there. The first
 * instruction of the loop's head block varies: an emulator that stops
 * translated code at block boundaries sees most interrupts arrive right
 * there, with that instruction not yet begun. Each loop runs with paging
 * off and on, and must have been interrupted often enough to count.
 */
#include "io.h"
#include "lib/paging.h"
#include "lib/sys.h"

#define PIC1_CMD       0x20
#define PIC1_DATA      0x21
#define PIC2_CMD       0xA0
#define PIC2_DATA      0xA1
#define ICW1_INIT_ICW4 0x11
#define ICW4_8086      0x01
#define OCW2_EOI       0x20
#define VEC_IRQ0       0x20

#define PIT_CH0          0x40
#define PIT_MODE         0x43
#define PIT_CH0_LOHI_RATE 0x34 /* channel 0, lo/hi byte, mode 2 */
#define PIT_COUNT        400  /* about 3 kHz */

#define WANT_IRQS  300   /* interrupts each loop must have taken */
#define MAX_PASSES 50000 /* calls of a loop before giving up */
#define ITERATIONS 20000 /* loop iterations per call */

static void pic_init(void)
{
    outb(PIC1_CMD, ICW1_INIT_ICW4);
    outb(PIC2_CMD, ICW1_INIT_ICW4);
    outb(PIC1_DATA, VEC_IRQ0);
    outb(PIC2_DATA, VEC_IRQ0 + 8);
    outb(PIC1_DATA, 0x04);
    outb(PIC2_DATA, 0x02);
    outb(PIC1_DATA, ICW4_8086);
    outb(PIC2_DATA, ICW4_8086);
    outb(PIC1_DATA, 0xFE); /* IRQ0 only */
    outb(PIC2_DATA, 0xFF);
}

static volatile uint32_t irq_count;

static void irq0_handler(struct trap_frame *f)
{
    (void)f;
    irq_count++;
    outb(PIC1_CMD, OCW2_EOI);
}

/* The memory cell the loops read and write: 0x11 in every byte. */
volatile uint32_t irq_cell = 0x11111111;

/*
 * uint32_t NAME(uint32_t iterations): run the loop; 0 if every check held,
 * else the number of the first check that failed (1 ESI, 2 EDI, 3 EBP,
 * 4 EDX, 5 EBX, 6 EAX, 7 the cell). FIRST is the head block's first
 * instruction; it must leave the registers and the cell unchanged (EAX
 * holds 0x11111111, the cell's value, so AH loads and stores are no-ops).
 */
#define IRQ_LOOP(name, first)                                              \
    uint32_t name(uint32_t iterations);                                    \
    __asm__(".text\n" #name ":\n\t"                                        \
            "pushl %ebp\n\tpushl %ebx\n\tpushl %esi\n\tpushl %edi\n\t"     \
            "movl 20(%esp), %ecx\n\t"                                      \
            "movl $irq_cell, %ebx\n\t"                                     \
            "movl $0x5a5a5a5a, %esi\n\t"                                   \
            "movl $0x3c3c3c3c, %edi\n\t"                                   \
            "movl $0x12345678, %ebp\n\t"                                   \
            "movl $0x0f0f0f0f, %edx\n\t"                                   \
            "movl $0x11111111, %eax\n"                                     \
            "1:\n\t" first "\n\t"                                          \
            "cmpl $0x5a5a5a5a, %esi\n\tjne 11f\n\t"                        \
            "cmpl $0x3c3c3c3c, %edi\n\tjne 12f\n\t"                        \
            "cmpl $0x12345678, %ebp\n\tjne 13f\n\t"                        \
            "cmpl $0x0f0f0f0f, %edx\n\tjne 14f\n\t"                        \
            "cmpl $irq_cell, %ebx\n\tjne 15f\n\t"                          \
            "cmpl $0x11111111, %eax\n\tjne 16f\n\t"                        \
            "cmpl $0x11111111, (%ebx)\n\tjne 17f\n\t"                      \
            "decl %ecx\n\tjnz 1b\n\t"                                      \
            "xorl %eax, %eax\n\tjmp 20f\n"                                 \
            "11:\n\tmovl $1, %eax\n\tjmp 20f\n"                            \
            "12:\n\tmovl $2, %eax\n\tjmp 20f\n"                            \
            "13:\n\tmovl $3, %eax\n\tjmp 20f\n"                            \
            "14:\n\tmovl $4, %eax\n\tjmp 20f\n"                            \
            "15:\n\tmovl $5, %eax\n\tjmp 20f\n"                            \
            "16:\n\tmovl $6, %eax\n\tjmp 20f\n"                            \
            "17:\n\tmovl $7, %eax\n"                                       \
            "20:\n\t"                                                      \
            "popl %edi\n\tpopl %esi\n\tpopl %ebx\n\tpopl %ebp\n\t"         \
            "ret\n")

/* A plain load; AH..BH with memory operands (no REX form on x86-64, so
 * an emulator may need another register for the address); a byte load
 * and store through ESI/EDI-based addresses. */
IRQ_LOOP(loop_plain_load, "movl (%ebx), %eax");
IRQ_LOOP(loop_ah_load, "movb (%ebx), %ah");
IRQ_LOOP(loop_ah_store, "movb %ah, 1(%ebx)");
IRQ_LOOP(loop_bh_cmp, "cmpb %bh, 2(%ebx)");
IRQ_LOOP(loop_dh_test, "testb %dh, 3(%ebx)");

static const char *const what[] = {
    "", "ESI", "EDI", "EBP", "EDX", "EBX", "EAX", "the memory cell",
};

static void run(const char *name, uint32_t (*loop)(uint32_t))
{
    irq_count = 0;
    uint32_t bad = 0, passes = 0;
    __asm__ volatile("sti");
    while (irq_count < WANT_IRQS && passes < MAX_PASSES && !bad) {
        bad = loop(ITERATIONS);
        passes++;
    }
    __asm__ volatile("cli");
    if (bad) {
        check_fail(name);
        kprintf("%s changed after %u interrupts (pass %u)\n",
                bad < 8 ? what[bad] : "?", irq_count, passes);
    } else if (irq_count < WANT_IRQS) {
        check_fail(name);
        kprintf("only %u interrupts in %u passes; wanted %u\n", irq_count,
                passes, WANT_IRQS);
    } else {
        check_ok(name);
    }
}

#define LOOP(n) {#n "_unpaged", #n "_paged", loop_##n}
static const struct {
    const char *unpaged, *paged;
    uint32_t (*loop)(uint32_t);
} loops[] = {
    LOOP(plain_load), LOOP(ah_load), LOOP(ah_store), LOOP(bh_cmp),
    LOOP(dh_test),
};

static void run_all(bool paged)
{
    for (unsigned i = 0; i < sizeof(loops) / sizeof(loops[0]); i++)
        run(paged ? loops[i].paged : loops[i].unpaged, loops[i].loop);
}

void test_main(void)
{
    pic_init();
    trap_set_handler(VEC_IRQ0, irq0_handler);
    outb(PIT_MODE, PIT_CH0_LOHI_RATE);
    outb(PIT_CH0, PIT_COUNT & 0xFF);
    outb(PIT_CH0, PIT_COUNT >> 8);
    run_all(false);
    pg_enable(pg_dir_new());
    run_all(true);
    pg_disable();
    outb(PIC1_DATA, 0xFF);
}
