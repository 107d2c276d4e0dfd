; mb_triple: a multiboot1 guest in ELF64 form (32-bit code in an x86-64 ELF
; file, as GRUB accepts for multiboot1: nasm -f elf64, ld -m elf_x86_64).
; It prints
;   mb_triple: triple-faulting on purpose
; then loads an empty IDT and raises an exception: #GP, #DF, shutdown. The
; VMM must report the triple fault. If the guest survives, status 2.

%include "mb_common.inc"

%define TRIPLE_FLAGS (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO)

bits 32
section .text
align 4
multiboot_header:
    dd MB_HEADER_MAGIC
    dd TRIPLE_FLAGS
    dd -(MB_HEADER_MAGIC + TRIPLE_FLAGS)

global _start
_start:
    mov esp, stack_top
    cmp eax, MB_BOOTLOADER_MAGIC
    jne .wrong
    PRINT `mb_triple: triple-faulting on purpose\n`
    lidt [empty_idt]
    int3
    PRINT `mb_triple: FAIL: still running after the fault\n`
    mov al, 2
    jmp exit_vm
.wrong:
    PRINT `mb_triple: FAIL: no multiboot magic\n`
    mov al, 2
    jmp exit_vm

MB_COMMON_CODE

align 8
empty_idt:
    dw 0                               ; limit 0: every vector is out of bounds
    dd 0

section .bss
align 16
stack: resb 4096
stack_top:
