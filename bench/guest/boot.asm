; SPDX-License-Identifier: MIT
; bench guest entry: Multiboot header, stack, x87/SSE enabled, call into C.

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003         ; page-align modules, give us memory info

CR0_MP         equ 1 << 1       ; WAIT/FWAIT honours CR0.TS
CR0_EM         equ 1 << 2       ; no FPU: x87 and SSE raise #UD/#NM
CR0_TS         equ 1 << 3       ; task switched: next FPU use raises #NM
CR4_OSFXSR     equ 1 << 9       ; OS uses FXSAVE/FXRSTOR: SSE allowed
CR4_OSXMMEXCPT equ 1 << 10      ; OS handles #XM (unmasked SIMD FP faults)

section .multiboot progbits alloc noexec nowrite align=4
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)

section .text
global _start
extern kmain

; Multiboot entry state: 32-bit protected mode, paging off, flat segments,
; EAX = 0x2BADB002, EBX = information structure, ESP and DF undefined.
_start:
        mov esp, stack_top
        cld
        ; Turn the FPU and SSE on as an OS must before the first SSE
        ; instruction: with CR4.OSFXSR clear, SSE instructions raise #UD.
        mov ecx, cr0
        and ecx, ~(CR0_EM | CR0_TS)
        or ecx, CR0_MP
        mov cr0, ecx
        mov ecx, cr4
        or ecx, CR4_OSFXSR | CR4_OSXMMEXCPT
        mov cr4, ecx
        fninit
        sub esp, 8              ; keep ESP 16-byte aligned at the call
        push ebx                ; kmain(magic, mbi)
        push eax
        call kmain
.halt:  cli                     ; kmain does not return; if it did, stop
        hlt
        jmp .halt

section .bss
align 16
        resb 65536
stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
