; A hostile root partition: it feeds the core every kind of bad hypercall
; argument and checks each error code, then tries port I/O, which must get it
; killed (#GP: ring 3 has no I/O permission). The core must survive all of
; it. Linked at 0x401000 by tests/partitions/partitions.mk.

bits 64
default rel

KEEL_HC_CONSOLE_WRITE equ 0
KEEL_HC_MEM_MAP       equ 3
KEEL_HC_MEM_UNMAP     equ 4
KEEL_HC_MODULE_OPEN   equ 5
KEEL_HC_MODULE_MAP    equ 6
KEEL_HC_EXIT          equ 2
EFAULT equ -14
EINVAL equ -22
ENOENT equ -2
EBADF  equ -9
ENOSYS equ -38

; EXPECT_HC number, rdi, rsi, expected: makes the call, compares RAX.
%macro EXPECT_HC 4
    mov eax, %1
    mov rdi, %2
    mov rsi, %3
    syscall
    mov rbx, %4
    cmp rax, rbx
    jne fail
    inc r15
%endmacro

section .text
global _start
_start:
    xor r15d, r15d                                      ; checks passed
    EXPECT_HC KEEL_HC_CONSOLE_WRITE, 0xffffffff80100000, 8, EFAULT   ; the core's image
    EXPECT_HC KEEL_HC_CONSOLE_WRITE, 0xffff800000000000, 8, EFAULT   ; the direct map
    EXPECT_HC KEEL_HC_CONSOLE_WRITE, 0x7000000000, 8, EFAULT         ; unmapped
    EXPECT_HC KEEL_HC_CONSOLE_WRITE, 0x8000000000000000, 8, EFAULT   ; non-canonical
    EXPECT_HC KEEL_HC_CONSOLE_WRITE, msg, 0x7fffffffffffffff, EINVAL ; absurd length
    EXPECT_HC KEEL_HC_MEM_MAP, 4096, 0, EINVAL                       ; no READ
    EXPECT_HC KEEL_HC_MEM_MAP, 100, 3, EINVAL                        ; not a page multiple
    EXPECT_HC KEEL_HC_MEM_MAP, 0, 3, EINVAL                          ; empty
    EXPECT_HC KEEL_HC_MEM_MAP, 0x100000000000, 3, EINVAL             ; absurd size
    EXPECT_HC KEEL_HC_MEM_MAP, 4096, 0x80000003, EINVAL              ; unknown flag
    EXPECT_HC KEEL_HC_MEM_UNMAP, 0xffffffff80100000, 4096, EINVAL    ; the core's memory
    EXPECT_HC KEEL_HC_MEM_UNMAP, 0x401001, 4096, EINVAL              ; misaligned
    EXPECT_HC KEEL_HC_MODULE_OPEN, name_missing, 7, ENOENT           ; no such module
    EXPECT_HC KEEL_HC_MODULE_OPEN, 0xffff800000001000, 4, EFAULT     ; name in the core
    EXPECT_HC KEEL_HC_MODULE_OPEN, name_missing, 0, EINVAL           ; empty name
    EXPECT_HC KEEL_HC_MODULE_MAP, 0, info, EBADF                     ; handle 0 is never valid
    EXPECT_HC KEEL_HC_MODULE_MAP, 63, info, EBADF                    ; an empty slot
    EXPECT_HC KEEL_HC_MODULE_MAP, -5, info, EBADF                    ; negative
    EXPECT_HC KEEL_HC_MODULE_MAP, 1000000, info, EBADF               ; out of range
    EXPECT_HC 9999, 0, 0, ENOSYS                                     ; no such hypercall
    ; Memory that works: a read-only page reads as zeros.
    mov eax, KEEL_HC_MEM_MAP
    mov edi, 4096
    mov esi, 1
    syscall
    test rax, rax
    jle fail
    cmp qword [rax], 0
    jne fail
    inc r15
    mov eax, r15d                                                    ; "hostile: all NN ..."
    xor edx, edx
    mov ecx, 10
    div ecx
    add al, '0'
    add dl, '0'
    mov [report_count], al
    mov [report_count + 1], dl
    mov eax, KEEL_HC_CONSOLE_WRITE
    lea rdi, [report]
    mov esi, report_len
    syscall
    mov dx, 0x3f8
    in al, dx                                                        ; #GP: killed here
    mov eax, KEEL_HC_EXIT
    mov edi, 1
    syscall
fail:
    mov eax, KEEL_HC_CONSOLE_WRITE
    lea rdi, [failed]
    mov esi, failed_len
    syscall
    mov eax, KEEL_HC_EXIT
    mov rdi, r15
    add rdi, 100                                                     ; status 100 + check
    syscall
    ud2

section .data
report:       db "hostile: all "
report_count: db "00 checks passed; now port I/O, which must end this partition", 10
report_len    equ $ - report
failed:       db "hostile: a check FAILED (exit status 100 + its index)", 10
failed_len    equ $ - failed
msg:          db "x"
name_missing: db "missing"

section .bss
info: resb 64

section .note.GNU-stack noalloc noexec nowrite progbits
