/* SPDX-License-Identifier: MIT */
/* Entering and leaving translated code: host callee-saved registers are
 * kept on the host stack; guest registers and flags move between the vCPU
 * structure and the host registers that pin them. */

#define OFF_REGS        0x00
#define OFF_EFLAGS      0x24
#define OFF_HOST_RFLAGS 0x28
#define OFF_HOST_RSP    0x30
#define OFF_ENTER       0x48
#define OFF_PHYS_BASE   0x58
#define OFF_SHADOW      0x78
#define OFF_FPU_GUEST   0x100
#define OFF_FPU_HOST    0x300

    .intel_syntax noprefix
    .text

/* void bt_enter(struct vcpu *v) */
    .globl bt_enter
    .type bt_enter, @function
bt_enter:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    sub rsp, 8                      /* keep the stack 16-byte aligned */
    mov r14, rdi
    mov [r14 + OFF_HOST_RSP], rsp
    mov r15, [r14 + OFF_PHYS_BASE]
    mov r13, [r14 + OFF_SHADOW]
    test r13, r13                   /* paging on: r15 is the page shift */
    jz 1f
    mov r15d, 12
1:
    fxrstor64 [r14 + OFF_FPU_GUEST] /* the host FPU becomes the guest's */
    mov rax, [r14 + OFF_HOST_RFLAGS] /* the guest flags the host keeps,
                                       and AC for the guest's #AC (run.c) */
    push rax
    popfq
    mov eax, [r14 + OFF_REGS + 0]
    mov ecx, [r14 + OFF_REGS + 4]
    mov edx, [r14 + OFF_REGS + 8]
    mov ebx, [r14 + OFF_REGS + 12]
    mov r12d, [r14 + OFF_REGS + 16]
    mov ebp, [r14 + OFF_REGS + 20]
    mov esi, [r14 + OFF_REGS + 24]
    mov edi, [r14 + OFF_REGS + 28]
    jmp [r14 + OFF_ENTER]
    .size bt_enter, . - bt_enter

/* Translated code jumps here (through vcpu->exit_fn) with r14 = vcpu. */
    .globl bt_exit
    .type bt_exit, @function
bt_exit:
    mov [r14 + OFF_REGS + 0], eax
    mov [r14 + OFF_REGS + 4], ecx
    mov [r14 + OFF_REGS + 8], edx
    mov [r14 + OFF_REGS + 12], ebx
    mov [r14 + OFF_REGS + 16], r12d
    mov [r14 + OFF_REGS + 20], ebp
    mov [r14 + OFF_REGS + 24], esi
    mov [r14 + OFF_REGS + 28], edi
    pushfq
    pop qword ptr [r14 + OFF_HOST_RFLAGS]
/* The signal handler resumes here after saving guest state itself. */
    .globl bt_exit_restore
bt_exit_restore:
    cld                             /* the C ABI wants DF clear */
    pushfq                          /* and C code no alignment checks */
    and dword ptr [rsp], ~0x40000
    popfq
    fxsave64 [r14 + OFF_FPU_GUEST]
    fninit                          /* clean x87/SSE state for C code: */
    ldmxcsr [r14 + OFF_FPU_HOST + 24] /* as FXRSTOR of the host's, faster */
    mov rsp, [r14 + OFF_HOST_RSP]
    add rsp, 8
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
    .size bt_exit, . - bt_exit

    
/* Every host signal handler is entered here (dbt_sigaction): translated
 * code may run with the guest's EFLAGS.AC set for its #AC, and the kernel
 * keeps AC for the handler, where C code (and sanitizer instrumentation)
 * may access memory unaligned. Clear it, then go to the real handler. */
    .globl bt_signal_thunk
    .type bt_signal_thunk, @function
bt_signal_thunk:
    pushfq
    and dword ptr [rsp], ~0x40000
    popfq
    mov r11d, edi
    lea rax, [rip + bt_signal_handlers]
    jmp [rax + r11 * 8]
    .size bt_signal_thunk, . - bt_signal_thunk
.section .note.GNU-stack, "", @progbits
