; SPDX-License-Identifier: MIT
; System tests entry: the Multiboot header, the stacks, the 256 exception
; stubs and their common path, and the switches to CPL 3 and V86 and back.

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003         ; page-align modules, give us memory info

SEL_KDATA equ 0x10
SEL_UCODE equ 0x1B
SEL_UDATA equ 0x23

section .multiboot progbits alloc noexec nowrite align=4
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)

section .text
global _start
extern sys_init, test_main, systest_finish, trap_dispatch

; Multiboot entry: 32-bit protected mode, paging off, the loader's flat
; segments (replaced by sys_init), ESP undefined, EFLAGS partly undefined.
_start:
        mov esp, kstack_top
        push 2                  ; EFLAGS: IF, DF, TF, NT, AC, IOPL all 0
        popfd
        call sys_init
        call test_main
        call systest_finish
.halt:  cli
        hlt
        jmp .halt

; ------------------------------------------------------------ stubs ---
; Vectors 8, 10-14 and 17 push an error code; the others get a 0 so every
; frame has the same layout (struct trap_frame in sys.h).
%macro STUB 1
isr_%1:
%if !(%1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17)
        push 0
%endif
        push %1
        jmp trap_common
%endmacro

%assign v 0
%rep 256
        STUB v
%assign v v + 1
%endrep

section .rodata
global isr_table
isr_table:
%macro STUB_ADDR 1
        dd isr_%1
%endmacro
%assign v 0
%rep 256
        STUB_ADDR v
%assign v v + 1
%endrep

section .text
; Save the interrupted state, call trap_dispatch(frame) with the kernel's
; data segments, and return to what the (possibly edited) frame says.
trap_common:
        pushad
        push ds
        push es
        push fs
        push gs
        mov ax, SEL_KDATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        cld
        push esp
        call trap_dispatch
        add esp, 4
        pop gs
        pop fs
        pop es
        pop ds
        popad
        add esp, 8              ; vector, error code
        iretd

; ----------------------------------------------------- CPL 3 and V86 ---
; uint32_t user_call(uint32_t (*fn)(uint32_t), uint32_t arg, uint32_t eflags)
global user_call
user_call:
        push ebp
        push ebx
        push esi
        push edi
        pushfd
        mov [user_saved_esp], esp
        mov eax, [esp + 24]
        mov [user_fn], eax
        mov eax, [esp + 28]
        mov [user_arg], eax
        mov edx, [esp + 32]
        push SEL_UDATA          ; SS
        push ustack_top         ; ESP
        push edx                ; EFLAGS
        push SEL_UCODE          ; CS
        push user_trampoline    ; EIP
        mov ax, SEL_UDATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        iretd

; CPL 3: call the function, then hand its value to the kernel.
user_trampoline:
        push dword [user_arg]
        call [user_fn]
        add esp, 4
        int 0x81
        ud2                     ; not reached

; uint32_t v86_call(const uint32_t frame[9])
global v86_call
v86_call:
        push ebp
        push ebx
        push esi
        push edi
        pushfd
        mov [user_saved_esp], esp
        mov esi, [esp + 24]
        mov ecx, 9
.push:  push dword [esi + ecx * 4 - 4] ; gs first, eip last
        loop .push
        iretd

; INT 0x81 (a DPL 3 interrupt gate): the user function's return.
global isr_user_return
isr_user_return:
        push eax
        call user_abort

; void user_abort(uint32_t value): back to user_call's or v86_call's caller.
global user_abort
user_abort:
        mov eax, [esp + 4]
        mov cx, SEL_KDATA
        mov ds, cx
        mov es, cx
        mov fs, cx
        mov gs, cx
        mov ss, cx
        mov esp, [user_saved_esp]
        popfd
        pop edi
        pop esi
        pop ebx
        pop ebp
        ret

section .bss
alignb 16
user_saved_esp: resd 1
user_fn:        resd 1
user_arg:       resd 1

alignb 4096
        resb 16384
global kstack_top
kstack_top:
        resb 8192
global istack_top
istack_top:                     ; TSS.ESP0: entries from CPL 3 and V86
        resb 8192
global ustack_top
ustack_top:

; No executable stack wanted (otherwise ld warns that one is implied).
section .note.GNU-stack noalloc noexec nowrite progbits
