/* SPDX-License-Identifier: MIT */
/*
 * System tests: the support every test kernel shares — its own GDT, IDT and
 * TSS, exception capture, running code at CPL 3, and reporting checks.
 *
 * A kernel defines test_main(); the entry code (entry.asm) sets up the
 * descriptor tables, calls it, and leaves through systest_finish(), which
 * prints PASS or FAIL and writes 0x10 or 0x11 to the debug-exit port.
 */
#ifndef SYSTESTS_SYS_H
#define SYSTESTS_SYS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "kprintf.h"

/* ------------------------------------------------------------- GDT --- */

/* The fixed GDT layout; SYSENTER/SYSEXIT need code, data, code, data in
 * this order (SYSENTER_CS, +8, +16, +24). */
#define SEL_KCODE   0x08
#define SEL_KDATA   0x10
#define SEL_UCODE   0x1B /* index 3, RPL 3 */
#define SEL_UDATA   0x23 /* index 4, RPL 3 */
#define SEL_TSS     0x28 /* the task the kernel runs in */
#define GDT_FREE    6    /* first index the tests may use */
#define GDT_ENTRIES 32

/* Access byte: present, DPL, S (code/data), type. */
#define ACC_P       0x80
#define ACC_DPL(n)  ((n) << 5)
#define ACC_S       0x10
#define TYPE_A      0x01 /* accessed */
#define TYPE_DATA_W 0x02 /* data: writable */
#define TYPE_DATA_E 0x04 /* data: expand-down */
#define TYPE_CODE   0x08
#define TYPE_CODE_R 0x02 /* code: readable */
#define TYPE_CODE_C 0x04 /* code: conforming */
/* System types (S = 0). */
#define TYPE_LDT        0x2
#define TYPE_TASK_GATE  0x5
#define TYPE_TSS32      0x9
#define TYPE_TSS32_BUSY 0xB
#define TYPE_CALL_GATE  0xC
#define TYPE_INT_GATE   0xE
#define TYPE_TRAP_GATE  0xF

/* Flags nibble (descriptor bits 52-55). */
#define FLG_DB 0x4 /* 32-bit code / big stack / 4 GiB expand-down bound */
#define FLG_G  0x8 /* limit in 4 KiB units */

/* Common access bytes. */
#define ACC_CODE(dpl) (ACC_P | ACC_DPL(dpl) | ACC_S | TYPE_CODE | TYPE_CODE_R)
#define ACC_DATA(dpl) (ACC_P | ACC_DPL(dpl) | ACC_S | TYPE_DATA_W)

extern uint64_t gdt[GDT_ENTRIES];

/* A code or data segment descriptor (access byte, flags nibble). */
uint64_t desc_seg(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
/* A call, interrupt or trap gate to sel:offset (params: call gates only). */
uint64_t desc_gate(uint16_t sel, uint32_t offset, uint8_t type, int dpl,
                   int params);
/* A task gate naming TSS selector tss_sel. */
uint64_t desc_task_gate(uint16_t tss_sel, int dpl);

/* Fill GDT entry index; returns its selector with RPL 0. */
uint16_t gdt_set(int index, uint64_t desc);
/* The access byte of GDT entry index (from memory, as the CPU wrote it). */
uint8_t gdt_access(int index);

/* ------------------------------------------------------------- IDT --- */

extern uint64_t idt[256];

/* The address of the entry stub for vector vec (entry.asm). */
uint32_t isr_addr(int vec);
/* Point vector vec at its stub with an interrupt gate of this DPL. */
void idt_set_default(int vec, int dpl);
/* Set vector vec to any gate. */
void idt_set(int vec, uint64_t gate);

/* ------------------------------------------------------------- TSS --- */

struct tss {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t esp1;
    uint16_t ss1, r2;
    uint32_t esp2;
    uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
    uint16_t trap, iomap_base;
} __attribute__((packed));

#define TSS_MIN_LIMIT 0x67
#define IOMAP_BYTES   8192 /* one bit per port, 65536 ports */

/* The kernel's task: a TSS followed by a full I/O permission bitmap and
 * the all-ones byte the CPU may read past its end. */
struct tss_io {
    struct tss t;
    uint8_t iomap[IOMAP_BYTES + 1];
} __attribute__((packed));

extern struct tss_io tss_main;

/* Ring-0 stack the CPU switches to from CPL 3 (TSS.ESP0), and the user
 * stack user_call() runs on (entry.asm). */
extern uint8_t istack_top[], ustack_top[];

/* --------------------------------------------------- exceptions --- */

/* What the entry stub and the CPU pushed, lowest address first. */
struct trap_frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error; /* error is 0 for vectors without one */
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;                        /* only on a privilege change */
    uint32_t v86_es, v86_ds, v86_fs, v86_gs; /* only when leaving V86 */
};

typedef void (*trap_handler)(struct trap_frame *f);

/* Route vector vec to h (NULL: back to the catch / unexpected path). */
void trap_set_handler(int vec, trap_handler h);
/* What happens without a handler: TRY's catch if armed, else report the
 * exception as unexpected and stop. For handlers to fall back on. */
void trap_default(struct trap_frame *f);

/* The last exception caught by TRY (see below). */
struct trap_record {
    uint32_t count; /* exceptions since trap_reset() */
    uint32_t vector, error, eip, cs, eflags;
    uint32_t esp, ss; /* valid when it came from an outer level */
    uint32_t cr2;     /* read at entry for #PF */
};

extern volatile struct trap_record caught;
/* Set by TRY: where to resume, the first instruction's address and the
 * address after the last, and EFLAGS and CS just before. */
extern volatile uint32_t catch_resume, try_at, try_end, try_flags;
extern volatile uint16_t try_cs;
/* Free for INSNS to record an address of their own ("movl $1f, try_mark"). */
extern volatile uint32_t try_mark;

void trap_reset(void);

/*
 * TRY(INSNS, OPERANDS) runs the assembly INSNS. An exception taken inside
 * is recorded in `caught` and execution resumes after INSNS, at the same
 * privilege level. OPERANDS are extended-asm operand lists starting with
 * ':' and must clobber "memory", e.g.
 *     TRY("divl %%ecx", : "+a"(a), "+d"(d) : "c"(0) : "memory");
 * Usable at CPL 3 too (the flat data segments are DPL 3 writable).
 *
 * TRY_FIX(INSNS, FIXUP, OPERANDS) also runs FIXUP after INSNS, whether or
 * not they faulted, before anything touches memory through DS: for INSNS
 * that leave a segment register unusable (FIXUP reloads it).
 */
#define TRY_FIX(insns, fixup, ...)                                             \
    do {                                                                       \
        trap_reset();                                                          \
        __asm__ volatile("movl $8880f, catch_resume\n\t"                       \
                         "movl $8881f, try_at\n\t"                             \
                         "movl $8880f, try_end\n\t"                            \
                         "movw %%cs, try_cs\n\t"                               \
                         "pushfl\n\t"                                          \
                         "popl try_flags\n\t"                                  \
                         "8881:\n\t" insns "\n"                                \
                         "8880:\n\t" fixup "\n\t"                              \
                         "movl $0, catch_resume" __VA_ARGS__);                 \
    } while (0)
#define TRY(insns, ...) TRY_FIX(insns, "", __VA_ARGS__)

/* Inside INSNS: set try_mark to the address of the instruction after it. */
#define TRY_MARK "movl $8882f, try_mark\n8882:\n\t"

/* Define uint32_t FNAME(uint32_t), for user_call(): INSNS under TRY, with
 * EAX, ECX, EDX, ESI and EDI free for them to use. */
#define USER_TRY(fname, insns)                                                 \
    static uint32_t fname(uint32_t arg)                                        \
    {                                                                          \
        (void)arg;                                                             \
        TRY(insns, : : : "eax", "ecx", "edx", "esi", "edi", "memory");         \
        return 0;                                                              \
    }

/* ------------------------------------------------------------ CPL 3 --- */

/*
 * Run fn(arg) at CPL 3 (CS 0x1B, data 0x23, on the user stack) with EFLAGS
 * eflags, and return its value. fn leaves with `return`, which reaches the
 * kernel through INT 0x81. Not reentrant.
 */
uint32_t user_call(uint32_t (*fn)(uint32_t), uint32_t arg, uint32_t eflags);

/* Enter V86 mode: IRET to the frame (from eip upwards: eip, cs, eflags,
 * esp, ss, es, ds, fs, gs). Returns the value a handler passes to
 * user_abort(). */
uint32_t v86_call(const uint32_t frame[9]);

/* From a ring-0 trap handler: drop the interrupted CPL 3 / V86 context and
 * return value from the user_call() or v86_call() that started it. */
__attribute__((noreturn)) void user_abort(uint32_t value);

/* ----------------------------------------------------------- checks --- */

/* Print "ok NAME". */
void check_ok(const char *name);
/* Print "FAIL NAME: " and count a failure; the caller finishes the line. */
void check_fail(const char *name);
/* Print "ok NAME (skipped: why)". */
void check_skip(const char *name, const char *why);
bool check_eq(const char *name, uint32_t expected, uint32_t got);
bool check_true(const char *name, bool cond, const char *what);
/* Exactly one exception of vector vec with error code err (0 if the vector
 * has none) at eip, CS as at the TRY, EFLAGS as at the TRY apart from RF. */
bool check_trap(const char *name, uint32_t vec, uint32_t err, uint32_t eip);
/* The same with the expected EFLAGS (RF aside) given. */
bool check_trap_flags(const char *name, uint32_t vec, uint32_t err,
                      uint32_t eip, uint32_t eflags);
/* No exception since trap_reset(). */
bool check_no_trap(const char *name);

/* Print PASS or FAIL and leave through the debug-exit port. */
__attribute__((noreturn)) void systest_finish(void);

/* Defined by each test kernel; called once the tables are set up. */
void test_main(void);

/* Set up GDT, IDT and TSS (called by entry.asm). */
void sys_init(void);

#endif
