; A root partition that maps a boot module (its own image, module "init")
; and writes to it: the core mapped it read-only, so the write must kill the
; partition with a #PF report, and the module stays intact.

bits 64
default rel

section .text
global _start
_start:
    mov eax, 5                          ; KEEL_HC_MODULE_OPEN
    lea rdi, [name]
    mov esi, 4
    syscall
    test rax, rax
    jle .failed
    mov rdi, rax
    mov eax, 6                          ; KEEL_HC_MODULE_MAP
    lea rsi, [info]
    syscall
    test rax, rax
    jnz .failed
    mov rbx, [info]                     ; the module's address
    cmp dword [rbx], 0x464c457f         ; it reads: "\x7fELF"
    jne .failed
    mov eax, 0
    lea rdi, [writing]
    mov esi, writing_len
    syscall
    mov byte [rbx], 0                   ; must fault: read-only
    mov eax, 2                          ; not reached
    mov edi, 1
    syscall
.failed:
    mov eax, 2
    mov edi, 2
    syscall
    ud2

section .rodata
name:        db "init"
writing:     db "module_write: the module reads fine; now writing to it", 10
writing_len  equ $ - writing

section .bss
info: resb 64

section .note.GNU-stack noalloc noexec nowrite progbits
