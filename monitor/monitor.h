/* SPDX-License-Identifier: MIT */
/* The monitor's internal interface: exceptions, emulation, the run loop. */
#ifndef BT386_MONITOR_MONITOR_H
#define BT386_MONITOR_MONITOR_H

#include "monitor/vcpu.h"

struct dbt;
struct insn;

/* Kinds of emulated instruction, counted in --stats. */
enum emu_kind {
    EMU_CLI, EMU_STI, EMU_PUSHF, EMU_POPF, EMU_HLT, EMU_IN, EMU_OUT,
    EMU_INS, EMU_OUTS, EMU_STRING, EMU_INT, EMU_IRET, EMU_CPUID, EMU_RDTSC,
    EMU_RDMSR, EMU_WRMSR, EMU_MOV_CR, EMU_MOV_DR, EMU_LGDT, EMU_LIDT,
    EMU_SGDT, EMU_SIDT, EMU_LMSW, EMU_SMSW, EMU_CLTS, EMU_INVLPG,
    EMU_MOV_SREG, EMU_PUSH_SREG, EMU_POP_SREG, EMU_FAR_JMP, EMU_FAR_CALL,
    EMU_FAR_RET, EMU_LXS, EMU_PUSHA, EMU_POPA, EMU_ENTER, EMU_OTHER,
    EMU_COUNT
};
extern const char *const emu_kind_names[EMU_COUNT];

/*
 * Raise exception `vector` at the current instruction (v->eip points at
 * it): deliver it through the IDT/IVT, escalating to #DF and a triple
 * fault as the hardware does. err < 0 means no error code.
 */
void cpu_exception(struct vcpu *v, int vector, int32_t err);

/* Bracket the emulation of one instruction: faults raised in between are
 * delivered at cpu_end_insn, after the instruction has rolled back. */
void cpu_begin_insn(struct vcpu *v);
void cpu_end_insn(struct vcpu *v);

/* Deliver an external interrupt (from the INTR line) at the current EIP. */
void cpu_interrupt(struct vcpu *v, int vector);

/* Deliver a software interrupt (INT n) with return address next_eip. */
void cpu_soft_interrupt(struct vcpu *v, int vector, uint32_t next_eip);

/* Load segment register seg with selector sel (MOV Sreg semantics).
 * Returns 0, or -1 after raising the fault. */
int cpu_load_seg(struct vcpu *v, int seg, uint16_t sel);
/* The same, with vec (e.g. #TS while loading a new task's segments) where
 * MOV Sreg raises #GP. */
int cpu_load_seg_as(struct vcpu *v, int seg, uint16_t sel, int vec);

/* Descriptor tables and the TSS (monitor/exception.c). */
struct segment;
int sys_read(struct vcpu *v, uint32_t la, void *buf, unsigned size);
int sys_write(struct vcpu *v, uint32_t la, const void *buf, unsigned size);
bool read_desc(struct vcpu *v, uint16_t sel, uint64_t *d, uint32_t *addr);
void seg_from_desc(struct segment *s, uint16_t sel, uint64_t d);
void set_seg(struct vcpu *v, int seg, const struct segment *s);

/* IRET and far RET in protected mode, to the same or an outer level
 * (monitor/exception.c); 0, or -1 after raising the fault. */
int cpu_iret(struct vcpu *v, int osize);
int cpu_far_return(struct vcpu *v, int osize, uint16_t release);

/* Mark a descriptor (at linear addr) accessed, as a segment load does. */
void set_accessed(struct vcpu *v, uint32_t addr, uint64_t d);

/* Hardware task switches (monitor/task.c). */
enum task_reason { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };
/* Switch to the task of TSS selector sel, saving ret_eip as the old
 * task's EIP and pushing err (>= 0) on the new task's stack; 0, or -1
 * after raising the fault. */
int cpu_task_switch(struct vcpu *v, uint16_t sel, enum task_reason why,
                    uint32_t ret_eip, int32_t err);
/* Through task gate g (selector gate_sel, or an IDT entry for TASK_INT,
 * whose DPL the caller checked). */
int cpu_task_gate(struct vcpu *v, uint16_t gate_sel, uint64_t g,
                  enum task_reason why, uint32_t ret_eip, int32_t err);
/* A far JMP or CALL to sel: if it names a TSS or a task gate, switch
 * tasks and return true (*r: 0 or -1 after a fault). */
bool cpu_far_task(struct vcpu *v, uint16_t sel, bool call, uint32_t next_eip,
                  int *r);
/* IRET with NT: back to the task in the current TSS's link field. */
int cpu_task_return(struct vcpu *v, uint32_t ret_eip);

/* Data breakpoints (monitor/watch.c). watch_update follows DR7/DR0-3 and
 * CR0.PG; watch_page says whether a shadow fill at la must stop instead;
 * watch_step_begin runs the instruction at EIP alone with the watched
 * pages open, and watch_step_end (completed or faulted) closes them and
 * raises the #DB trap if it hit a breakpoint. */
void watch_update(struct vcpu *v);
bool watch_page(const struct vcpu *v, uint32_t la);
void watch_step_begin(struct vcpu *v);
void watch_step_end(struct vcpu *v, bool completed);

/* For an instruction that pushes or pops one operand-size item (PUSH,
 * POP, CALL, RET, PUSH/POP Sreg, PUSHF/POPF): the stack slot's offset in
 * SS, its size and whether it is written; false for any other (PUSHA,
 * ENTER, IRET, ...). monitor/slowmem.c. */
bool insn_stack_slot(const struct vcpu *v, const struct insn *in,
                     uint32_t *off, uint32_t *size, bool *write);

/* EXIT_SEGCHECK (monitor/segcheck.c): check the instruction's accesses
 * through restricted segments, raising #GP(0)/#SS(0), or run it once. */
void cpu_segcheck(struct vcpu *v);

/* Far CALL/JMP through a call gate (descriptor g of selector sel). */
int cpu_call_gate(struct vcpu *v, uint16_t sel, uint64_t g, uint32_t next_eip,
                  bool call);

/* System instructions (monitor/system.c). */
bool cpu_io_allowed(struct vcpu *v, uint16_t port, int size);

/* "#DE", "#DB", ... by exception vector, for messages and --stats. */
extern const char *const cpu_vector_names[32];

/* The EFLAGS bits POPF and IRET may change at the current privilege (IF
 * only with CPL <= IOPL, IOPL only at CPL 0), for an operand size of 2
 * or 4 bytes. IRET may change RF as well. */
uint32_t cpu_flags_writable(const struct vcpu *v, int osize);

/* Far jump to sel:eip at the current privilege level; 0 or -1 (faulted). */
int cpu_far_jump(struct vcpu *v, uint16_t sel, uint32_t eip);

/* Push/pop on the guest stack (size 2 or 4); false if it faulted. */
bool cpu_push(struct vcpu *v, uint32_t val, int size);
bool cpu_pop(struct vcpu *v, uint32_t *val, int size);

/* Set CR0 (also flushes translations when the mode changes). */
void cpu_set_cr0(struct vcpu *v, uint32_t val);

/* Stop the machine: the process exits with `status` after printing why
 * (NULL: silently). */
void cpu_shutdown(struct vcpu *v, int status, const char *why);

/* Linear address of an instruction's memory operand. */
uint32_t insn_linear(const struct vcpu *v, const struct insn *in);

/* Slow access path (monitor/slowmem.c): start the instruction at v->eip
 * with its operand in the bounce buffer; finish (write back if it
 * completed) when its one-off block exits. */
void slowmem_begin(struct vcpu *v);
void slowmem_finish(struct vcpu *v, bool completed);

/* Paging state changed (CR0.PG/WP, CR3, CR4, CPL): drop shadow entries and
 * jump-cache entries as the hardware's TLB would be, and point translated
 * code at the table for the current privilege. */
void cpu_paging_changed(struct vcpu *v, bool flush);
/* MOV CR3 with CR4.PGE set: the TLB keeps global pages. */
void cpu_cr3_loaded(struct vcpu *v);

/* Run the instruction at v->eip in C (EXIT_EMULATE). */
void emulate_insn(struct vcpu *v);

/* Run the vCPU until shutdown; returns the process exit status. */
int cpu_run(struct vcpu *v);

/* Print --stats to f. */
#include <stdio.h>
void stats_print(const struct vcpu *v, FILE *f);

#endif
