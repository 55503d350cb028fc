/* SPDX-License-Identifier: MIT */
/*
 * sys_privilege: privilege levels. IRET to ring 3; INT 0x80 from ring 3
 * through a DPL 3 interrupt gate with the TSS stack switch; INT through a
 * DPL 0 gate from ring 3; a call gate with parameter copying and the far
 * RET back to the outer level; privileged instructions, CLI/STI and POPF at
 * CPL 3; SGDT/SIDT/SMSW/STR/SLDT at CPL 3.
 */
#include "io.h"
#include "lib/sys.h"

#define GDT_ALT_SS    (GDT_FREE + 0) /* a second flat ring-0 data segment */
#define GDT_CALL_GATE (GDT_FREE + 1) /* DPL 3 call gate to gate_target */
#define GDT_GATE_DPL0 (GDT_FREE + 2) /* DPL 0 call gate to gate_target */

#define VEC_SYSCALL   0x80 /* DPL 3 interrupt gate */
#define VEC_KERNEL    0x41 /* DPL 0 interrupt gate */
#define SYSCALL_VALUE 0x5A5A1234u

#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1

static uint8_t alt_stack[4096] __attribute__((aligned(16)));

/* ------------------------------------------------------------ INT 0x80 */

/* What the INT 0x80 handler saw. */
static volatile struct {
    uint32_t eip, cs, eflags, esp, ss; /* pushed by the CPU */
    uint32_t frame_top;                /* address just above the CPU's push */
    uint16_t handler_ss;
    uint32_t handler_eflags;
} sys_seen;

/* What the ring-3 side saw around its INT 0x80. */
static volatile struct {
    uint32_t esp, eflags, after, eax;
    uint16_t cs, es;
} user_seen;

static void syscall_handler(struct trap_frame *f)
{
    sys_seen.eip = f->eip;
    sys_seen.cs = f->cs & 0xFFFF;
    sys_seen.eflags = f->eflags;
    sys_seen.esp = f->esp;
    sys_seen.ss = f->ss & 0xFFFF;
    sys_seen.frame_top = (uint32_t)&f->ss + 4;
    sys_seen.handler_ss = ss_read();
    sys_seen.handler_eflags = eflags_read();
    f->eax = SYSCALL_VALUE;
    /* A DPL 0 selector in ES: IRET to CPL 3 must load ES with null. */
    f->es = SEL_KDATA;
}

static uint32_t user_syscall(uint32_t arg)
{
    (void)arg;
    __asm__ volatile("movl %%esp, user_seen\n\t"
                     "pushfl\n\t"
                     "popl user_seen+4\n\t"
                     "int $0x80\n"
                     "1:\n\t"
                     "movl $1b, user_seen+8\n\t"
                     "movl %%eax, user_seen+12\n\t"
                     "movw %%cs, user_seen+16\n\t"
                     "movw %%es, user_seen+18\n\t"
                     "movw %%ds, %%ax\n\t" /* ES back for the C code */
                     "movw %%ax, %%es"
                     :
                     :
                     : "eax", "memory");
    return 0;
}

static uint32_t user_read_cs(uint32_t arg)
{
    return arg ? ss_read() : cs_read();
}

static void test_iret_and_int80(void)
{
    check_eq("iret_to_cpl3_cs", SEL_UCODE,
             user_call(user_read_cs, 0, EFL_FIXED));
    check_eq("iret_to_cpl3_ss", SEL_UDATA,
             user_call(user_read_cs, 1, EFL_FIXED));

    /* A distinct SS0:ESP0, so the handler can tell they were used. */
    uint16_t alt_ss =
        gdt_set(GDT_ALT_SS, desc_seg(0, 0xFFFFF, ACC_DATA(0), FLG_G | FLG_DB));
    uint32_t alt_top = (uint32_t)alt_stack + sizeof(alt_stack);
    tss_main.t.ss0 = alt_ss;
    tss_main.t.esp0 = alt_top;
    idt_set_default(VEC_SYSCALL, 3);
    trap_set_handler(VEC_SYSCALL, syscall_handler);
    user_call(user_syscall, 0, EFL_FIXED);
    tss_main.t.ss0 = SEL_KDATA;
    tss_main.t.esp0 = (uint32_t)istack_top;

    check_eq("int80_handler_ss_is_ss0", alt_ss, sys_seen.handler_ss);
    check_eq("int80_frame_at_esp0", alt_top, sys_seen.frame_top);
    check_eq("int80_pushed_ss", SEL_UDATA, sys_seen.ss);
    check_eq("int80_pushed_esp", user_seen.esp, sys_seen.esp);
    check_eq("int80_pushed_cs", SEL_UCODE, sys_seen.cs);
    check_eq("int80_pushed_eip_after_int", user_seen.after, sys_seen.eip);
    check_eq("int80_pushed_eflags", user_seen.eflags, sys_seen.eflags);
    check_eq("int80_gate_clears_if_tf_nt", 0,
             sys_seen.handler_eflags & (EFL_IF | EFL_TF | EFL_NT));
    check_eq("iret_back_to_cpl3", SEL_UCODE, user_seen.cs);
    check_eq("iret_returns_eax", SYSCALL_VALUE, user_seen.eax);
    check_eq("iret_outer_nulls_dpl0_es", 0, user_seen.es);
}

/* -------------------------------------------------- INT to DPL 0 gates */

USER_TRY(user_int_kernel, "int $0x41")
USER_TRY(user_int3, "int3")
USER_TRY(user_into,
         "pushfl\n\torl $0x800, (%%esp)\n\tpopfl\n\t" TRY_MARK "into")

static void test_int_dpl(void)
{
    /* The gate's DPL is checked for INT n, INT3 and INTO: #GP with the
     * IDT bit (2) and the vector in the error code. */
    user_call(user_int_kernel, 0, EFL_FIXED);
    check_trap("int_dpl0_gate_from_cpl3", VEC_GP, VEC_KERNEL * 8 + 2, try_at);
    user_call(user_int3, 0, EFL_FIXED);
    check_trap("int3_dpl0_gate_from_cpl3", VEC_GP, VEC_BP * 8 + 2, try_at);
    user_call(user_into, 0, EFL_FIXED);
    check_trap_flags("into_dpl0_gate_from_cpl3", VEC_GP, VEC_OF * 8 + 2,
                     try_mark, try_flags | EFL_OF);
    idt_set_default(VEC_BP, 3);
    user_call(user_int3, 0, EFL_FIXED);
    check_trap("int3_dpl3_gate_from_cpl3", VEC_BP, 0, try_end);
    idt_set_default(VEC_BP, 0);
}

/* ---------------------------------------------------------- call gate */

/* What gate_target saw: CS, SS, ESP and the six dwords of its stack. */
volatile uint16_t gate_cs, gate_ss;
volatile uint32_t gate_esp, gate_stack[6];
/* The ring-3 side: ESP before the pushes, after the return, the return
 * address, ES and FS after the return. */
static volatile uint32_t call_esp_before, call_esp_after, call_ret;
static volatile uint16_t call_es, call_fs;

void gate_target(void);
/* CPL 0 through the call gate (two parameters). Loads a DPL 0 selector in
 * ES and a DPL 3 one in FS, then RETF 8 back to CPL 3: ES must come back
 * null, FS unchanged. DS is still the caller's (flat, DPL 3). */
__asm__(".text\n"
        "gate_target:\n\t"
        "movw %cs, gate_cs\n\t"
        "movw %ss, gate_ss\n\t"
        "movl %esp, gate_esp\n\t"
        "pushl %esi\n\t"
        "pushl %edi\n\t"
        "pushl %ecx\n\t"
        "leal 12(%esp), %esi\n\t"
        "movl $gate_stack, %edi\n\t"
        "movl $6, %ecx\n\t"
        "cld\n\t"
        "rep movsl\n\t"
        "popl %ecx\n\t"
        "popl %edi\n\t"
        "popl %esi\n\t"
        "movw $0x10, %ax\n\t"
        "movw %ax, %es\n\t"
        "movw $0x23, %ax\n\t"
        "movw %ax, %fs\n\t"
        "lret $8\n");

static uint32_t user_call_gate(uint32_t arg)
{
    (void)arg;
    __asm__ volatile("movl %%esp, call_esp_before\n\t"
                     "pushl $0x11111111\n\t"
                     "pushl $0x22222222\n\t"
                     "lcall $%c0, $0\n"
                     "1:\n\t"
                     "movl $1b, call_ret\n\t"
                     "movl %%esp, call_esp_after\n\t"
                     "movw %%es, call_es\n\t"
                     "movw %%fs, call_fs\n\t"
                     "movw %%ds, %%ax\n\t"
                     "movw %%ax, %%es"
                     :
                     : "i"(GDT_CALL_GATE * 8 + 3)
                     : "eax", "memory");
    return 0;
}

USER_TRY(user_call_gate_dpl0, "lcall $0x43, $0") /* GDT_GATE_DPL0, RPL 3 */

static void test_call_gate(void)
{
    uint32_t top = (uint32_t)istack_top;

    gdt_set(GDT_CALL_GATE,
            desc_gate(SEL_KCODE, (uint32_t)gate_target, TYPE_CALL_GATE, 3, 2));
    user_call(user_call_gate, 0, EFL_FIXED);
    check_eq("callgate_cs", SEL_KCODE, gate_cs);
    check_eq("callgate_ss_is_ss0", SEL_KDATA, gate_ss);
    check_eq("callgate_esp_is_esp0_minus_24", top - 24, gate_esp);
    check_eq("callgate_pushed_eip", call_ret, gate_stack[0]);
    check_eq("callgate_pushed_cs", SEL_UCODE, gate_stack[1]);
    check_eq("callgate_param_last_pushed", 0x22222222, gate_stack[2]);
    check_eq("callgate_param_first_pushed", 0x11111111, gate_stack[3]);
    check_eq("callgate_pushed_esp", call_esp_before - 8, gate_stack[4]);
    check_eq("callgate_pushed_ss", SEL_UDATA, gate_stack[5]);
    check_eq("retf_outer_releases_params", call_esp_before, call_esp_after);
    check_eq("retf_outer_nulls_dpl0_es", 0, call_es);
    check_eq("retf_outer_keeps_dpl3_fs", SEL_UDATA, call_fs);

    gdt_set(GDT_GATE_DPL0,
            desc_gate(SEL_KCODE, (uint32_t)gate_target, TYPE_CALL_GATE, 0, 2));
    user_call(user_call_gate_dpl0, 0, EFL_FIXED);
    check_trap("callgate_dpl0_from_cpl3", VEC_GP, GDT_GATE_DPL0 * 8, try_at);
}

/* ----------------------------------------------- privileged at CPL 3 */

/* An operand for the instructions that must not get as far as using it. */
struct dtr some_dtr;

USER_TRY(user_hlt, "hlt")
USER_TRY(user_cli, "cli")
USER_TRY(user_sti, "sti")
USER_TRY(user_mov_from_cr0, "movl %%cr0, %%eax")
USER_TRY(user_mov_to_cr0, "movl $0x11, %%eax\n\t" TRY_MARK "movl %%eax, %%cr0")
USER_TRY(user_mov_to_cr3, "xorl %%eax, %%eax\n\t" TRY_MARK "movl %%eax, %%cr3")
USER_TRY(user_lgdt, "lgdt some_dtr")
USER_TRY(user_lidt, "lidt some_dtr")
USER_TRY(user_ltr, "movw $0x28, %%ax\n\t" TRY_MARK "ltr %%ax")
USER_TRY(user_lldt, "xorl %%eax, %%eax\n\t" TRY_MARK "lldt %%ax")
USER_TRY(user_clts, "clts")
USER_TRY(user_invlpg, "invlpg some_dtr")
USER_TRY(user_mov_from_dr7, "movl %%dr7, %%eax")
USER_TRY(user_wbinvd, "wbinvd")
USER_TRY(user_lmsw, "smsw %%ax\n\t" TRY_MARK "lmsw %%ax")

static const struct {
    const char *name;
    uint32_t (*fn)(uint32_t);
    bool marked; /* the faulting instruction is at try_mark */
} privileged[] = {
    {"cpl3_hlt_gp", user_hlt, false},
    {"cpl3_cli_iopl0_gp", user_cli, false},
    {"cpl3_sti_iopl0_gp", user_sti, false},
    {"cpl3_mov_from_cr0_gp", user_mov_from_cr0, false},
    {"cpl3_mov_to_cr0_gp", user_mov_to_cr0, true},
    {"cpl3_mov_to_cr3_gp", user_mov_to_cr3, true},
    {"cpl3_lgdt_gp", user_lgdt, false},
    {"cpl3_lidt_gp", user_lidt, false},
    {"cpl3_ltr_gp", user_ltr, true},
    {"cpl3_lldt_gp", user_lldt, true},
    {"cpl3_clts_gp", user_clts, false},
    {"cpl3_invlpg_gp", user_invlpg, false},
    {"cpl3_mov_from_dr7_gp", user_mov_from_dr7, false},
    {"cpl3_wbinvd_gp", user_wbinvd, false},
    {"cpl3_lmsw_gp", user_lmsw, true},
};

static void test_privileged(void)
{
    for (unsigned i = 0; i < sizeof(privileged) / sizeof(privileged[0]); i++) {
        user_call(privileged[i].fn, 0, EFL_FIXED);
        check_trap(privileged[i].name, VEC_GP, 0,
                   privileged[i].marked ? try_mark : try_at);
    }
}

/* ------------------------------------------------- CLI/STI and POPF */

static uint32_t user_cli_sti(uint32_t arg)
{
    uint32_t after_sti, after_cli;

    (void)arg;
    TRY("sti\n\t"
        "pushfl\n\t"
        "popl %0\n\t"
        "cli\n\t"
        "pushfl\n\t"
        "popl %1",
        : "=r"(after_sti), "=r"(after_cli)
        :
        : "memory");
    return (after_sti & EFL_IF) && !(after_cli & EFL_IF);
}

/* POPF of `arg`, then PUSHF: what the flags became. */
static uint32_t user_popf(uint32_t arg)
{
    uint32_t v;
    __asm__ volatile("pushl %1\n\t"
                     "popfl\n\t"
                     "pushfl\n\t"
                     "popl %0\n\t"
                     "pushl $2\n\t" /* IF and TF off again, as far as allowed */
                     "popfl"
                     : "=r"(v)
                     : "r"(arg)
                     : "memory", "cc");
    return v;
}

static void test_iopl(void)
{
    uint32_t v;

    /* No interrupt may arrive while a test sets IF: mask the PICs. */
    outb(PIC1_DATA, 0xFF);
    outb(PIC2_DATA, 0xFF);

    v = user_call(user_cli_sti, 0, EFL_FIXED | EFL_IOPL3);
    check_no_trap("cpl3_cli_sti_iopl3_allowed");
    check_eq("cpl3_cli_sti_iopl3_change_if", 1, v);

    v = user_call(user_popf, EFL_FIXED | EFL_IF | EFL_IOPL3 | EFL_CF,
                  EFL_FIXED);
    check_eq("cpl3_popf_iopl0_keeps_if_iopl", EFL_CF,
             v & (EFL_IF | EFL_IOPL | EFL_CF));
    v = user_call(user_popf, EFL_FIXED | EFL_IF | EFL_CF,
                  EFL_FIXED | EFL_IOPL3);
    check_eq("cpl3_popf_iopl3_sets_if_keeps_iopl", EFL_IF | EFL_IOPL3 | EFL_CF,
             v & (EFL_IF | EFL_IOPL | EFL_CF));
    v = user_popf(EFL_FIXED | EFL_IOPL3);
    check_eq("cpl0_popf_sets_iopl", EFL_IOPL3, v & EFL_IOPL);
    eflags_write(EFL_FIXED);
}

/* ------------------------------------------ descriptor-table reads */

static volatile struct {
    struct dtr gdtr, idtr;
    uint16_t msw, tr, ldtr;
} seen3;

static uint32_t user_store_tables(uint32_t arg)
{
    (void)arg;
    TRY("sgdt seen3\n\t"
        "sidt seen3+6\n\t"
        "smsw seen3+12\n\t"
        "str seen3+14\n\t"
        "sldt seen3+16",
        :
        :
        : "memory");
    return 0;
}

static void test_store_tables(void)
{
    struct dtr g, i;

    sgdt(&g);
    sidt(&i);
    user_call(user_store_tables, 0, EFL_FIXED);
    check_no_trap("cpl3_store_tables_allowed");
    check_eq("cpl3_sgdt_base", g.base, seen3.gdtr.base);
    check_eq("cpl3_sgdt_limit", g.limit, seen3.gdtr.limit);
    check_eq("cpl3_sidt_base", i.base, seen3.idtr.base);
    check_eq("cpl3_sidt_limit", i.limit, seen3.idtr.limit);
    check_eq("cpl3_smsw", cr0_read() & 0xFFFF, seen3.msw);
    check_eq("cpl3_str", SEL_TSS, seen3.tr);
    check_eq("cpl3_sldt", 0, seen3.ldtr);
}

void test_main(void)
{
    test_iret_and_int80();
    test_int_dpl();
    test_call_gate();
    test_privileged();
    test_iopl();
    test_store_tables();
}
