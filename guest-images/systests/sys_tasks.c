/* SPDX-License-Identifier: MIT */
/*
 * sys_tasks: hardware task switches. A far JMP and a far CALL to a TSS
 * descriptor and a CALL through a task gate, IRET back with NT; what a
 * switch saves, loads and marks (busy bits, NT, the previous-task link,
 * CR0.TS, LDTR); switches the CPU must refuse; and a double fault handled
 * by a task gate in the IDT, as Linux i386 does, provoked twice: a #GP
 * whose IDT gate is not present, and a #GP at CPL 3 whose ring-0 stack
 * segment is not present.
 *
 * A #DF is an abort: the CS:EIP saved for the interrupted task is
 * undefined, so the checks look only at the #DF task's side (error code,
 * link, NT, busy bits, its own registers); the handler then points the
 * interrupted task at a resume address before returning to it.
 */
#include <stddef.h>

#include "lib/sys.h"

#define GDT_TSS_B     (GDT_FREE + 0)
#define GDT_TSS_DF    (GDT_FREE + 1)
#define GDT_LDT_B     (GDT_FREE + 2)
#define GDT_TASK_GATE (GDT_FREE + 3) /* task gate to TSS B */
#define GDT_TSS_NP    (GDT_FREE + 4) /* a TSS descriptor marked not present */
#define GDT_NP_STACK  (GDT_FREE + 5) /* not-present data segment (SS0) */
#define SEL_TSS_B     (GDT_TSS_B * 8)
#define SEL_TSS_DF    (GDT_TSS_DF * 8)
#define SEL_LDT_FLAT  0x0C /* LDT index 1, TI = 1, RPL 0 */

#define B_ESI  0xB0B0B0B0u /* preset in TSS B */
#define DF_EBX 0xDFDFDFDFu /* preset in the #DF TSS */

static struct tss tss_b, tss_df;
static uint64_t ldt_b[2];
static uint8_t stack_b[4096] __attribute__((aligned(16)));
static uint8_t stack_df[4096] __attribute__((aligned(16)));

/* A task of this kernel: flat ring-0 segments, paging state of now. */
static void tss_prepare(struct tss *t, void (*entry)(void), uint8_t *stack,
                        size_t size)
{
    *t = (struct tss){0};
    t->eip = (uint32_t)entry;
    t->esp = (uint32_t)stack + size;
    t->eflags = EFL_FIXED;
    t->cs = SEL_KCODE;
    t->ss = t->ds = t->es = t->fs = t->gs = SEL_KDATA;
    t->cr3 = cr3_read();
    t->iomap_base = sizeof(struct tss); /* no bitmap */
}

static bool tss_busy(int index)
{
    return (gdt_access(index) & 0xF) == TYPE_TSS32_BUSY;
}

/* ------------------------------------------------------------ task B */

/* What task B saw at its latest entry. */
volatile struct {
    uint32_t eflags, esi, cr0;
    uint16_t tr, ldtr, link, fs;
    bool a_busy, b_busy;
    uint32_t fs_read; /* a dword read through the LDT segment in FS */
} b_seen;
/* 1: leave by IRET (entered by CALL); 0: by JMP back to the kernel task. */
volatile uint32_t b_leave_by_iret;
static volatile uint32_t ldt_probe = 0x1DF0CAFE;

uint32_t task_b_main(void);

uint32_t task_b_main(void)
{
    uint32_t v;

    b_seen.tr = str_read();
    __asm__ volatile("sldt %0" : "=r"(b_seen.ldtr));
    __asm__ volatile("movw %%fs, %0" : "=r"(b_seen.fs));
    __asm__ volatile("movl %%fs:(%1), %0" : "=r"(v) : "r"(&ldt_probe));
    b_seen.fs_read = v;
    b_seen.link = tss_b.link;
    b_seen.a_busy = tss_busy(SEL_TSS / 8);
    b_seen.b_busy = tss_busy(GDT_TSS_B);
    b_seen.cr0 = cr0_read();
    clts();
    return b_leave_by_iret;
}

void task_b_entry(void);
/* Task B's code: record, then leave as told; the next switch to B resumes
 * after the JMP or IRET and loops back to the top. */
__asm__(".text\n"
        "task_b_entry:\n\t"
        "pushfl\n\t"
        "popl b_seen\n\t"
        "movl %esi, b_seen+4\n\t"
        "call task_b_main\n\t"
        "testl %eax, %eax\n\t"
        "jz 1f\n\t"
        "iret\n\t"
        "jmp task_b_entry\n"
        "1:\n\t"
        "ljmp $0x28, $0\n\t"
        "jmp task_b_entry\n");

static void task_b_reset(void)
{
    tss_prepare(&tss_b, task_b_entry, stack_b, sizeof(stack_b));
    tss_b.esi = B_ESI;
    tss_b.ldt = GDT_LDT_B * 8;
    tss_b.fs = SEL_LDT_FLAT;
    tss_b.link = 0xFFFF; /* only CALL and INT may write it */
}

static void test_jmp(void)
{
    uint32_t ebx = 0xA5A5A5A5u, esi = 0x5A5A5A5Au;

    task_b_reset();
    b_leave_by_iret = 0;
    TRY("ljmp $%c2, $0",
        : "+b"(ebx), "+S"(esi)
        : "i"(SEL_TSS_B)
        : "eax", "ecx", "edx", "edi", "memory");
    check_no_trap("jmp_tss_and_back");
    check_eq("jmp_new_task_tr", SEL_TSS_B, b_seen.tr);
    check_eq("jmp_new_task_ldtr", GDT_LDT_B * 8, b_seen.ldtr);
    check_eq("jmp_new_task_fs_from_ldt", SEL_LDT_FLAT, b_seen.fs);
    check_eq("jmp_new_task_ldt_segment_usable", ldt_probe, b_seen.fs_read);
    check_eq("jmp_new_task_esi_from_tss", B_ESI, b_seen.esi);
    check_eq("jmp_new_task_nt_clear", 0, b_seen.eflags & EFL_NT);
    check_eq("jmp_leaves_link_alone", 0xFFFF, b_seen.link);
    check_true("jmp_clears_old_busy", !b_seen.a_busy, "kernel TSS busy");
    check_true("jmp_sets_new_busy", b_seen.b_busy, "TSS B not busy");
    check_true("task_switch_sets_cr0_ts", b_seen.cr0 & CR0_TS, "TS clear");
    check_eq("jmp_back_restores_ebx", 0xA5A5A5A5u, ebx);
    check_eq("jmp_back_restores_esi", 0x5A5A5A5Au, esi);
    check_true("jmp_back_old_task_not_busy", !tss_busy(GDT_TSS_B), "busy");
    check_true("jmp_back_kernel_task_busy", tss_busy(SEL_TSS / 8), "not busy");
    check_eq("jmp_back_tr", SEL_TSS, str_read());
    check_true("task_switch_back_sets_cr0_ts", cr0_read() & CR0_TS, "TS clear");
    clts();
}

/* "prefix" + "name" in one of a few static buffers (check names). */
static const char *cat(const char *prefix, const char *name)
{
    static char bufs[4][64];
    static unsigned next;
    char *b = bufs[next++ % 4], *p = b;

    while (*prefix && p < b + 32)
        *p++ = *prefix++;
    while (*name && p < b + 63)
        *p++ = *name++;
    *p = 0;
    return b;
}

static volatile struct {
    uint32_t offset;
    uint16_t sel;
} __attribute__((packed)) far_ptr;

/* CALL to sel (a TSS or a task gate to TSS B), B returns with IRET. */
static void test_call(const char *prefix, uint16_t sel)
{
    uint32_t ebx = 0x12345678u;

    task_b_reset();
    b_leave_by_iret = 1;
    far_ptr.sel = sel;
    TRY("lcall *far_ptr",
        : "+b"(ebx)
        :
        : "eax", "ecx", "edx", "esi", "edi", "memory");
    check_no_trap(cat(prefix, "and_iret_back"));
    check_eq(cat(prefix, "new_task_tr"), SEL_TSS_B, b_seen.tr);
    check_eq(cat(prefix, "sets_nt"), EFL_NT, b_seen.eflags & EFL_NT);
    check_eq(cat(prefix, "writes_link"), SEL_TSS, b_seen.link);
    check_true(cat(prefix, "keeps_old_busy"), b_seen.a_busy, "not busy");
    check_true(cat(prefix, "sets_new_busy"), b_seen.b_busy, "not busy");
    check_eq(cat(prefix, "iret_back_restores_ebx"), 0x12345678u, ebx);
    check_true(cat(prefix, "iret_clears_returning_busy"), !tss_busy(GDT_TSS_B),
               "busy");
    check_eq(cat(prefix, "iret_clears_nt_in_returning_tss"), 0,
             tss_b.eflags & EFL_NT);
    check_eq(cat(prefix, "iret_back_tr"), SEL_TSS, str_read());
    clts();
}

/* ------------------------------------------------ refused switches */

static void test_refused(void)
{
    uint16_t np;

    /* The running task is busy: JMP or CALL to it is #GP(selector). */
    TRY("ljmp $%c0, $0", : : "i"(SEL_TSS) : "memory");
    check_trap("jmp_busy_tss_gp", VEC_GP, SEL_TSS, try_at);
    TRY("lcall $%c0, $0", : : "i"(SEL_TSS) : "memory");
    check_trap("call_busy_tss_gp", VEC_GP, SEL_TSS, try_at);

    np = gdt_set(GDT_TSS_NP,
                 desc_seg((uint32_t)&tss_b, sizeof(tss_b) - 1, TYPE_TSS32, 0));
    TRY("ljmp $%c0, $0", : : "i"(GDT_TSS_NP * 8) : "memory");
    check_trap("jmp_not_present_tss_np", VEC_NP, np, try_at);

    /* IRET with NT to a link naming a TSS that is not busy: #TS(link). */
    task_b_reset();
    tss_main.t.link = SEL_TSS_B;
    TRY_FIX("pushfl\n\t"
            "orl $0x4000, (%%esp)\n\t" /* NT */
            "popfl\n\t" TRY_MARK "iret",
            "pushfl\n\t"
            "andl $~0x4000, (%%esp)\n\t"
            "popfl",
            :
            :
            : "memory");
    check_trap_flags("iret_nt_to_non_busy_tss_ts", VEC_TS, SEL_TSS_B, try_mark,
                     try_flags | EFL_NT);
    tss_main.t.link = 0;
}

/* ------------------------------------------------------- double fault */

/* What the #DF task saw. */
volatile struct {
    uint32_t error, esp, ebx, eflags, cr0;
    uint16_t tr, link, cs, ss, ds;
    bool prev_busy, df_busy;
} df_seen;
volatile uint32_t df_count;

uint32_t df_task_main(void);

/* Record, repair what caused the fault, and point the interrupted task at
 * TRY's resume address (its saved CS:EIP is undefined after a #DF). */
uint32_t df_task_main(void)
{
    df_count++;
    df_seen.tr = str_read();
    df_seen.link = tss_df.link;
    df_seen.cr0 = cr0_read();
    __asm__ volatile("movw %%cs, %0" : "=r"(df_seen.cs));
    __asm__ volatile("movw %%ss, %0" : "=r"(df_seen.ss));
    __asm__ volatile("movw %%ds, %0" : "=r"(df_seen.ds));
    df_seen.prev_busy = tss_busy(SEL_TSS / 8);
    df_seen.df_busy = tss_busy(GDT_TSS_DF);
    idt_set_default(VEC_GP, 0);
    tss_main.t.ss0 = SEL_KDATA;
    tss_main.t.eip = catch_resume;
    catch_resume = 0;
    clts();
    return 0;
}

void df_entry(void);
/* The #DF task: the error code is on its stack. After its IRET the TSS
 * holds the EIP of the JMP below, so the next #DF starts over. */
__asm__(".text\n"
        "df_entry:\n\t"
        "movl %esp, df_seen+4\n\t"
        "movl %ebx, df_seen+8\n\t"
        "pushfl\n\t"
        "popl df_seen+12\n\t"
        "popl df_seen\n\t"
        "call df_task_main\n\t"
        "iret\n\t"
        "jmp df_entry\n");

static uint32_t user_hlt(uint32_t arg)
{
    (void)arg;
    TRY("hlt", : : : "memory");
    return 0;
}

static void check_df(const char *prefix)
{
    uint32_t top = (uint32_t)stack_df + sizeof(stack_df);

    check_eq(cat(prefix, "df_task_ran_once"), 1, df_count);
    check_eq(cat(prefix, "df_error_code_zero"), 0, df_seen.error);
    check_eq(cat(prefix, "df_error_on_task_stack"), top - 4, df_seen.esp);
    check_eq(cat(prefix, "df_task_tr"), SEL_TSS_DF, df_seen.tr);
    check_eq(cat(prefix, "df_task_link"), SEL_TSS, df_seen.link);
    check_eq(cat(prefix, "df_task_nt"), EFL_NT, df_seen.eflags & EFL_NT);
    check_eq(cat(prefix, "df_task_ebx_from_tss"), DF_EBX, df_seen.ebx);
    check_eq(cat(prefix, "df_task_cs"), SEL_KCODE, df_seen.cs);
    check_eq(cat(prefix, "df_task_ss"), SEL_KDATA, df_seen.ss);
    check_true(cat(prefix, "df_prev_task_still_busy"), df_seen.prev_busy,
               "not busy");
    check_true(cat(prefix, "df_task_busy"), df_seen.df_busy, "not busy");
    check_true(cat(prefix, "df_task_cr0_ts"), df_seen.cr0 & CR0_TS, "clear");
    check_true(cat(prefix, "df_task_not_busy_after"), !tss_busy(GDT_TSS_DF),
               "busy");
}

static void test_double_fault(void)
{
    uint16_t np_ss =
        gdt_set(GDT_NP_STACK,
                desc_seg(0, 0xFFFFF, ACC_DATA(0) & ~ACC_P, FLG_G | FLG_DB));

    tss_prepare(&tss_df, df_entry, stack_df, sizeof(stack_df));
    tss_df.ebx = DF_EBX;
    gdt_set(GDT_TSS_DF, desc_seg((uint32_t)&tss_df, sizeof(tss_df) - 1,
                                 ACC_P | TYPE_TSS32, 0));
    idt_set(VEC_DF, desc_task_gate(SEL_TSS_DF, 0));

    /* #GP, and its gate is not present: #NP while delivering #GP. */
    df_count = 0;
    idt_set(VEC_GP, idt[VEC_GP] & ~((uint64_t)ACC_P << 40));
    TRY_FIX("movw %w0, %%ds", "movw %w1, %%ds",
            :
            : "r"(GDT_ENTRIES * 8), "r"(SEL_KDATA)
            : "memory");
    check_df("gp_gate_np_");

    /* #GP at CPL 3, and SS0 is not present: #SS while delivering it. */
    df_count = 0;
    tss_df.ebx = DF_EBX;
    tss_main.t.ss0 = np_ss;
    user_call(user_hlt, 0, EFL_FIXED);
    check_df("gp_ss0_np_");
    idt_set_default(VEC_DF, 0);
}

void test_main(void)
{
    ldt_b[0] = 0;
    ldt_b[1] = desc_seg(0, 0xFFFFF, ACC_DATA(0), FLG_G | FLG_DB);
    gdt_set(GDT_LDT_B,
            desc_seg((uint32_t)ldt_b, sizeof(ldt_b) - 1, ACC_P | TYPE_LDT, 0));
    gdt_set(GDT_TSS_B, desc_seg((uint32_t)&tss_b, sizeof(tss_b) - 1,
                                ACC_P | TYPE_TSS32, 0));
    gdt_set(GDT_TASK_GATE, desc_task_gate(SEL_TSS_B, 0));
    test_jmp();
    test_call("call_tss_", SEL_TSS_B);
    test_call("call_task_gate_", GDT_TASK_GATE * 8);
    test_refused();
    test_double_fault();
}
