; The smallest useful root partition: prints through the core, maps memory,
; uses it, exits with status 7 (tests/boot checks each step).

bits 64
default rel

section .text
global _start
_start:
    cmp dword [rdi], 0x5452534b         ; KEEL_START_MAGIC in the start information
    jne .bad_start
    mov eax, 0                          ; KEEL_HC_CONSOLE_WRITE
    lea rdi, [hello]
    mov esi, hello_len
    syscall
    mov eax, 3                          ; KEEL_HC_MEM_MAP 8 KiB read/write
    mov edi, 8192
    mov esi, 3
    syscall
    test rax, rax
    jle .bad_map
    mov qword [rax + 4096], 0x1234
    cmp qword [rax + 4096], 0x1234
    jne .bad_map
    mov eax, 0
    lea rdi, [memory_ok]
    mov esi, memory_ok_len
    syscall
    mov eax, 2                          ; KEEL_HC_EXIT
    mov edi, 7
    syscall
.bad_start:
    mov edi, 2
    jmp .exit
.bad_map:
    mov edi, 3
.exit:
    mov eax, 2
    syscall
    ud2

section .rodata
hello:          db "smoke: hello from ring 3", 10
hello_len       equ $ - hello
memory_ok:      db "smoke: memory map works", 10
memory_ok_len   equ $ - memory_ok

section .note.GNU-stack noalloc noexec nowrite progbits
