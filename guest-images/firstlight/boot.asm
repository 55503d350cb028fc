; SPDX-License-Identifier: MIT
; firstlight entry: the Multiboot header, a stack, and the call into C.

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003         ; page-align modules, give us memory info

; The loader searches the first 8 KiB of the file for this; the linker
; script puts it first in the text segment.
section .multiboot progbits alloc noexec nowrite align=4
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)

section .text
global _start
extern kmain

; Multiboot entry state: 32-bit protected mode, paging off, flat CS/DS/SS,
; EAX = 0x2BADB002, EBX = physical address of the information structure,
; ESP undefined (so ours comes first), EFLAGS.DF undefined (the C ABI wants
; it clear).
_start:
        mov esp, stack_top
        cld
        sub esp, 8              ; keep ESP 16-byte aligned at the call
        push ebx                ; kmain(magic, mbi)
        push eax
        call kmain
.halt:  cli                     ; kmain does not return; if it did, stop
        hlt
        jmp .halt

section .bss
align 16
        resb 16384
stack_top:

; No executable stack wanted (otherwise ld warns that one is implied).
section .note.GNU-stack noalloc noexec nowrite progbits
