/* SPDX-License-Identifier: MIT */
/*
 * sys_v86: virtual-8086 mode, entered by IRET with EFLAGS.VM (CR4.VME
 * off). Two 16-bit programs run from low memory: one with IOPL 3 (real-mode
 * segment arithmetic; CLI/STI/PUSHF allowed; IN/OUT still governed by the
 * TSS I/O bitmap, as IOPL does not apply to I/O in V86 mode; INT n through
 * a DPL 3 IDT gate to a ring-0 handler that sees the V86 frame), one with
 * IOPL 0 (CLI, STI, PUSHF, POPF, INT n and IRET raise #GP(0) to the
 * monitor; INT3 does not: it goes through the IDT). Each program ends with
 * HLT, whose #GP takes the monitor back to protected mode.
 */
#include "io.h"
#include "kstring.h"
#include "lib/sys.h"

#define V86_CS            0x2000 /* code copied to linear 0x20000 */
#define V86_SS            0x3000 /* stack: 0x30000 - 0x31000 */
#define V86_SP            0x1000
#define V86_DS            0x4000 /* results at linear 0x40000 */
#define V86_LIN(seg, off) ((uint32_t)(seg)*16 + (off))

#define VEC_V86_INT     0x30
#define AX_FROM_HANDLER 0x4242

#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1

/* The two programs (offsets relative to their first byte, which runs at
 * V86_CS:0). Labels mark the instructions the checks refer to. */
extern const uint8_t p1[], p1_deny_out[], p1_int[], p1_after_int[], p1_end[];
extern const uint8_t p2[], p2_cli[], p2_sti[], p2_pushf[], p2_popf[], p2_int[],
    p2_int3[], p2_after_int3[], p2_iret[], p2_hlt[], p2_end[];
__asm__(".text\n"
        ".code16\n"
        "p1:\n\t"
        "movw $0x1234, %ax\n\t"
        "movw %ax, %ds:0\n\t" /* 0x40000 */
        "movw %cs, %ds:2\n\t"
        "movw %ss, %ds:4\n\t"
        "movw $0x4001, %bx\n\t" /* ES:0 = linear 0x40010 */
        "movw %bx, %es\n\t"
        "movw $0xBEEF, %es:0\n\t"
        "outb %al, $0x80\n" /* allowed by the bitmap */
        "p1_deny_out:\n\t"
        "outb %al, $0x84\n\t" /* denied by the bitmap: #GP(0) */
        "cli\n\t"
        "sti\n\t"
        "cli\n\t"
        "pushfw\n\t"
        "popw %ax\n\t"
        "movw %ax, %ds:6\n"
        "p1_int:\n\t"
        "int $0x30\n"
        "p1_after_int:\n\t"
        "movw %ax, %ds:8\n\t"
        "hlt\n"
        "p1_end:\n"
        "p2:\n"
        "p2_cli:\n\t"
        "cli\n"
        "p2_sti:\n\t"
        "sti\n"
        "p2_pushf:\n\t"
        "pushfw\n"
        "p2_popf:\n\t"
        "popfw\n\t"
        "outb %al, $0x80\n\t" /* the bitmap allows it, whatever IOPL */
        "inb $0x80, %al\n"
        "p2_int:\n\t"
        "int $0x30\n"
        "p2_int3:\n\t"
        "int3\n"
        "p2_after_int3:\n"
        "p2_iret:\n\t"
        "iretw\n"
        "p2_hlt:\n\t"
        "hlt\n"
        "p2_end:\n"
        ".code32\n");

/* One #GP from V86 mode as the monitor saw it. */
struct gp_event {
    uint32_t ip, error;
    uint8_t opcode;
};

#define LOG_MAX 16
static struct gp_event gp_log[LOG_MAX];
static unsigned gp_count;

/* Length of the instructions the programs fault on. */
static uint32_t insn_length(uint8_t op)
{
    return (op == 0xCD || op == 0xE4 || op == 0xE6) ? 2 : 1;
}

/* The monitor: log the #GP, skip the instruction, or on HLT leave V86. */
static void v86_gp(struct trap_frame *f)
{
    if (!(f->eflags & EFL_VM)) {
        trap_default(f);
        return;
    }
    uint8_t op = *(volatile uint8_t *)V86_LIN(f->cs & 0xFFFF, f->eip & 0xFFFF);
    if (gp_count < LOG_MAX)
        gp_log[gp_count] = (struct gp_event){f->eip, f->error, op};
    gp_count++;
    if (op == 0xF4)
        user_abort(gp_count);
    f->eip += insn_length(op);
}

/* What the INT 0x30 / INT3 handler saw. */
static volatile struct {
    uint32_t count, eip, cs, eflags, esp, ss, v86_ds, v86_es;
    uint32_t ds, es, fs, gs; /* the handler's, as the CPU left them */
} int_seen;

static void v86_int(struct trap_frame *f)
{
    int_seen.count++;
    int_seen.eip = f->eip;
    int_seen.cs = f->cs & 0xFFFF;
    int_seen.eflags = f->eflags;
    int_seen.esp = f->esp;
    int_seen.ss = f->ss & 0xFFFF;
    int_seen.v86_ds = f->v86_ds & 0xFFFF;
    int_seen.v86_es = f->v86_es & 0xFFFF;
    int_seen.ds = f->ds & 0xFFFF;
    int_seen.es = f->es & 0xFFFF;
    int_seen.fs = f->fs & 0xFFFF;
    int_seen.gs = f->gs & 0xFFFF;
    f->eax = (f->eax & 0xFFFF0000u) | AX_FROM_HANDLER;
}

static uint32_t v86_run(const uint8_t *start, const uint8_t *end, uint32_t iopl)
{
    uint32_t frame[9] = {0,      V86_CS, EFL_FIXED | EFL_VM | iopl,
                         V86_SP, V86_SS, V86_DS,
                         V86_DS, 0,      0};

    memcpy((void *)V86_LIN(V86_CS, 0), start, (size_t)(end - start));
    gp_count = 0;
    int_seen.count = 0;
    return v86_call(frame);
}

static uint32_t off(const uint8_t *label, const uint8_t *start)
{
    return (uint32_t)(label - start);
}

static void test_iopl3(void)
{
    volatile uint16_t *res = (volatile uint16_t *)V86_LIN(V86_DS, 0);

    memset((void *)res, 0, 16);
    *(volatile uint16_t *)V86_LIN(0x4001, 0) = 0;
    v86_run(p1, p1_end, EFL_IOPL3);
    check_eq("v86_iopl3_two_gp", 2, gp_count);
    check_eq("v86_iopl3_denied_out_gp_ip", off(p1_deny_out, p1), gp_log[0].ip);
    check_eq("v86_iopl3_denied_out_gp_error", 0, gp_log[0].error);
    check_eq("v86_hlt_gp_ip", off(p1_end, p1) - 1, gp_log[1].ip);
    check_eq("v86_store_through_ds", 0x1234, res[0]);
    check_eq("v86_cs_value", V86_CS, res[1]);
    check_eq("v86_ss_value", V86_SS, res[2]);
    check_eq("v86_segment_times_16", 0xBEEF,
             *(volatile uint16_t *)V86_LIN(0x4001, 0));
    check_eq("v86_iopl3_pushf_iopl", EFL_IOPL3, res[3] & EFL_IOPL);
    check_eq("v86_int_iopl3_via_idt", 1, int_seen.count);
    check_eq("v86_int_pushed_eflags_vm", EFL_VM, int_seen.eflags & EFL_VM);
    check_eq("v86_int_pushed_cs", V86_CS, int_seen.cs);
    check_eq("v86_int_pushed_eip_after", off(p1_after_int, p1), int_seen.eip);
    check_eq("v86_int_pushed_ss", V86_SS, int_seen.ss);
    check_eq("v86_int_pushed_sp", V86_SP, int_seen.esp);
    check_eq("v86_int_pushed_ds", V86_DS, int_seen.v86_ds);
    check_eq("v86_int_pushed_es", 0x4001, int_seen.v86_es);
    check_eq("v86_int_handler_null_data_segments", 0,
             int_seen.ds | int_seen.es | int_seen.fs | int_seen.gs);
    check_eq("v86_iret_back_with_ax", AX_FROM_HANDLER, res[4]);
}

static void test_iopl0(void)
{
    static const struct {
        const char *name;
        const uint8_t *label;
    } expect[] = {
        {"v86_iopl0_cli_gp", p2_cli},     {"v86_iopl0_sti_gp", p2_sti},
        {"v86_iopl0_pushf_gp", p2_pushf}, {"v86_iopl0_popf_gp", p2_popf},
        {"v86_iopl0_int_n_gp", p2_int},   {"v86_iopl0_iret_gp", p2_iret},
        {"v86_iopl0_hlt_gp", p2_hlt},
    };
    unsigned n = sizeof(expect) / sizeof(expect[0]);

    v86_run(p2, p2_end, 0);
    check_eq("v86_iopl0_gp_count", n, gp_count);
    for (unsigned i = 0; i < n && i < gp_count; i++) {
        uint32_t ip = off(expect[i].label, p2);
        if (gp_log[i].ip == ip && gp_log[i].error == 0) {
            check_ok(expect[i].name);
            continue;
        }
        check_fail(expect[i].name);
        kprintf("expected #GP(0) at %x got #GP(%x) at %x\n", ip,
                gp_log[i].error, gp_log[i].ip);
    }
    check_eq("v86_iopl0_int3_via_idt", 1, int_seen.count);
    check_eq("v86_iopl0_int3_pushed_eip_after", off(p2_after_int3, p2),
             int_seen.eip);
}

/* INT n with IOPL 3 and INT3 with any IOPL check the gate's DPL. */
static void test_gate_dpl(void)
{
    idt_set_default(VEC_V86_INT, 0);
    idt_set_default(VEC_BP, 0);
    v86_run(p1, p1_end, EFL_IOPL3);
    check_eq("v86_int_dpl0_gate_gp_ip", off(p1_int, p1), gp_log[1].ip);
    check_eq("v86_int_dpl0_gate_gp_error", VEC_V86_INT * 8 + 2,
             gp_log[1].error);
    v86_run(p2, p2_end, 0);
    check_eq("v86_int3_dpl0_gate_gp_ip", off(p2_int3, p2), gp_log[5].ip);
    check_eq("v86_int3_dpl0_gate_gp_error", VEC_BP * 8 + 2, gp_log[5].error);
}

void test_main(void)
{
    /* Nothing may interrupt while a program runs with IF set. */
    outb(PIC1_DATA, 0xFF);
    outb(PIC2_DATA, 0xFF);
    tss_main.iomap[0x80 / 8] &= (uint8_t) ~(1u << (0x80 % 8));
    trap_set_handler(VEC_GP, v86_gp);
    trap_set_handler(VEC_V86_INT, v86_int);
    trap_set_handler(VEC_BP, v86_int);
    idt_set_default(VEC_V86_INT, 3);
    idt_set_default(VEC_BP, 3);
    test_iopl3();
    test_iopl0();
    test_gate_dpl();
}
