/* SPDX-License-Identifier: MIT */
/*
 * sys_shadow: instructions that hold off events for one instruction.
 * After STI a pending external interrupt is taken only after the next
 * instruction (STI; CLI takes none; STI; HLT wakes after the HLT). After
 * MOV SS and POP SS the single-step #DB of TF is held until after the next
 * instruction.
 *
 * The interrupt comes from PIT channel 0 (mode 0, one shot) through the
 * master 8259A, made pending in the PIC's IRR with IF clear before STI, so
 * the moment it is taken does not depend on timing.
 */
#include "io.h"
#include "lib/sys.h"

/* 8259A programmable interrupt controllers */
#define PIC1_CMD       0x20
#define PIC1_DATA      0x21
#define PIC2_CMD       0xA0
#define PIC2_DATA      0xA1
#define ICW1_INIT_ICW4 0x11 /* edge triggered, cascade, ICW4 follows */
#define ICW4_8086      0x01
#define OCW3_READ_IRR  0x0A
#define OCW2_EOI       0x20
#define VEC_IRQ0       0x20 /* master: vectors 0x20-0x27 */

/* 8253/8254 interval timer */
#define PIT_CH0            0x40
#define PIT_MODE           0x43
#define PIT_CH0_LOHI_MODE0 0x30 /* channel 0, lo/hi byte, one shot */
#define PIT_COUNT          1000 /* about 0.84 ms */

static void pic_init(void)
{
    outb(PIC1_CMD, ICW1_INIT_ICW4);
    outb(PIC2_CMD, ICW1_INIT_ICW4);
    outb(PIC1_DATA, VEC_IRQ0);
    outb(PIC2_DATA, VEC_IRQ0 + 8);
    outb(PIC1_DATA, 0x04); /* slave on IRQ2 */
    outb(PIC2_DATA, 0x02);
    outb(PIC1_DATA, ICW4_8086);
    outb(PIC2_DATA, ICW4_8086);
    outb(PIC1_DATA, 0xFE); /* IRQ0 only */
    outb(PIC2_DATA, 0xFF);
}

/* Start a one-shot PIT countdown and wait (IF clear) until IRQ0 is
 * pending in the IRR; false if it never comes. */
static bool irq0_make_pending(void)
{
    outb(PIT_MODE, PIT_CH0_LOHI_MODE0);
    outb(PIT_CH0, PIT_COUNT & 0xFF);
    outb(PIT_CH0, PIT_COUNT >> 8);
    outb(PIC1_CMD, OCW3_READ_IRR);
    for (uint32_t i = 0; i < 20000000; i++)
        if (inb(PIC1_CMD) & 1)
            return true;
    return false;
}

static volatile uint32_t marker, irq_count, irq_eip, irq_marker;

static void irq0_handler(struct trap_frame *f)
{
    irq_count++;
    irq_eip = f->eip;
    irq_marker = marker;
    outb(PIC1_CMD, OCW2_EOI);
}

static void test_sti(void)
{
    uint32_t second;

    if (!check_true("irq0_pending", irq0_make_pending(),
                    "PIT IRQ0 never became pending in the PIC"))
        return;
    irq_count = 0;
    __asm__ volatile("movl $0, marker\n\t"
                     "sti\n\t"
                     "movl $1, marker\n"
                     "1:\n\t"
                     "movl $2, marker\n\t"
                     "cli\n\t"
                     "movl $1b, %0"
                     : "=r"(second)
                     :
                     : "memory");
    check_eq("sti_one_interrupt", 1, irq_count);
    check_eq("sti_shadow_next_insn_runs", 1, irq_marker);
    check_eq("sti_interrupt_after_one_insn", second, irq_eip);

    if (!check_true("irq0_pending_again", irq0_make_pending(),
                    "PIT IRQ0 never became pending in the PIC"))
        return;
    irq_count = 0;
    __asm__ volatile("sti\n\tcli" : : : "memory");
    check_eq("sti_cli_takes_no_interrupt", 0, irq_count);

    /* Still pending: STI; HLT halts, and the interrupt wakes it. */
    uint32_t after_hlt;
    __asm__ volatile("sti\n\t"
                     "hlt\n"
                     "1:\n\t"
                     "cli\n\t"
                     "movl $1b, %0"
                     : "=r"(after_hlt)
                     :
                     : "memory");
    check_eq("sti_hlt_one_interrupt", 1, irq_count);
    check_eq("sti_hlt_wakes_after_hlt", after_hlt, irq_eip);
}

/* ------------------------------------------------ MOV SS / POP SS */

#define LOG_MAX 8
static volatile uint32_t db_eip[LOG_MAX], db_dr6[LOG_MAX];
static volatile unsigned db_count;
static volatile uint32_t step_end;

static void db_handler(struct trap_frame *f)
{
    if (db_count < LOG_MAX) {
        db_eip[db_count] = f->eip;
        db_dr6[db_count] = dr6_read();
    }
    db_count++;
    dr6_write(0);
    if (f->eip == step_end)
        f->eflags &= ~EFL_TF;
}

extern const uint8_t ms_load[], ms_end[], ps_load[], ps_end[];
void mov_ss_code(void);
void pop_ss_code(void);
/* TF from POPF applies after the NOP; the load of SS holds the trap it
 * would cause until after the following NOP. */
__asm__(".text\n"
        "mov_ss_code:\n\t"
        "movw %ss, %ax\n\t"
        "pushfl\n\t"
        "orl $0x100, (%esp)\n\t"
        "popfl\n\t"
        "nop\n"
        "ms_load:\n\t"
        "movw %ax, %ss\n\t"
        "nop\n"
        "ms_end:\n\t"
        "ret\n"
        "pop_ss_code:\n\t"
        "pushl %ss\n\t"
        "pushfl\n\t"
        "orl $0x100, (%esp)\n\t"
        "popfl\n\t"
        "nop\n"
        "ps_load:\n\t"
        "popl %ss\n\t"
        "nop\n"
        "ps_end:\n\t"
        "ret\n");

static void check_ss_shadow(const char *name, void (*code)(void),
                            const uint8_t *load, const uint8_t *end)
{
    db_count = 0;
    dr6_write(0);
    step_end = (uint32_t)end;
    code();
    if (db_count == 2 && db_eip[0] == (uint32_t)load &&
        db_eip[1] == (uint32_t)end && (db_dr6[1] & DR6_BS)) {
        check_ok(name);
        return;
    }
    check_fail(name);
    kprintf("expected #DB at %08x then %08x (BS) got %u: %08x %08x dr6 %08x\n",
            (uint32_t)load, (uint32_t)end, db_count, db_eip[0], db_eip[1],
            db_dr6[1]);
}

void test_main(void)
{
    pic_init();
    trap_set_handler(VEC_IRQ0, irq0_handler);
    /* Without a PIC the IRR would read as all ones (no device) and the
     * STI; HLT check would wait for ever. */
    if (check_eq("pic_mask_reads_back", 0xFE, inb(PIC1_DATA)))
        test_sti();
    outb(PIC1_DATA, 0xFF);

    trap_set_handler(VEC_DB, db_handler);
    check_ss_shadow("mov_ss_holds_single_step", mov_ss_code, ms_load, ms_end);
    check_ss_shadow("pop_ss_holds_single_step", pop_ss_code, ps_load, ps_end);
}
