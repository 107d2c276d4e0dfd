; A root partition that exercises the VM register calls without running a
; guest: FPU state at reset and a round trip through SET/GET_FPU, MSRs the
; core emulates and one it does not, and SET_CPUID's bounds. It prints
; "vm_calls: all N checks passed" and exits with 0, or exits with 100 + the
; number of the check that failed.

bits 64
default rel

KEEL_HC_CONSOLE_WRITE equ 0
KEEL_HC_EXIT          equ 2
KEEL_HC_CREATE_VM     equ 32
KEEL_HC_CREATE_VCPU   equ 34
KEEL_HC_GET_MSRS      equ 40
KEEL_HC_SET_MSRS      equ 41
KEEL_HC_GET_FPU       equ 42
KEEL_HC_SET_FPU       equ 43
KEEL_HC_SET_CPUID     equ 44
EINVAL                equ -22
FPU_FCW    equ 128                       ; offsets in struct keel_fpu (kvm_fpu)
FPU_XMM0   equ 160
FPU_MXCSR  equ 416 - 8

%macro HC 3                              ; HC number, rdi, rsi
    mov eax, %1
    mov rdi, %2
    mov rsi, %3
    syscall
%endmacro

%macro EXPECT 2
    cmp %1, %2
    jne fail
    inc r15
%endmacro

section .text
global _start
_start:
    xor r15d, r15d
    HC KEEL_HC_CREATE_VM, 0, 0
    test rax, rax
    jle fail
    mov rdi, rax
    mov eax, KEEL_HC_CREATE_VCPU
    xor esi, esi
    lea rdx, [run_ptr]
    syscall
    test rax, rax
    jle fail
    mov r12, rax                                         ; the vCPU
    HC KEEL_HC_GET_FPU, r12, fpu
    EXPECT rax, 0
    EXPECT word [fpu + FPU_FCW], 0x37f                   ; x87 reset control word
    EXPECT dword [fpu + FPU_MXCSR], 0x1f80               ; MXCSR reset value
    mov rax, 0x1122334455667788
    mov [fpu + FPU_XMM0], rax
    mov [fpu + FPU_XMM0 + 8], rax
    mov word [fpu + FPU_FCW], 0x27f
    HC KEEL_HC_SET_FPU, r12, fpu
    EXPECT rax, 0
    mov qword [fpu + FPU_XMM0], 0
    HC KEEL_HC_GET_FPU, r12, fpu
    EXPECT rax, 0
    mov rax, 0x1122334455667788
    EXPECT [fpu + FPU_XMM0 + 8], rax
    EXPECT [fpu + FPU_XMM0], rax
    EXPECT word [fpu + FPU_FCW], 0x27f
    HC KEEL_HC_GET_MSRS, r12, msrs                       ; PAT, then an unknown MSR
    EXPECT rax, 1                                        ; stops at the unknown one
    mov rax, 0x0007040600070406
    EXPECT [msrs + 8 + 8], rax                           ; PAT's power-on value
    mov dword [msrs], 1
    mov rax, 0x0006060606060606
    mov [msrs + 8 + 8], rax
    HC KEEL_HC_SET_MSRS, r12, msrs
    EXPECT rax, 1
    HC KEEL_HC_GET_MSRS, r12, msrs
    EXPECT rax, 1
    mov rax, 0x0006060606060606
    EXPECT [msrs + 8 + 8], rax
    mov dword [msrs], 33                                 ; more than KEEL_MSRS_MAX
    HC KEEL_HC_GET_MSRS, r12, msrs
    EXPECT rax, EINVAL
    mov dword [cpuid], 65                                ; more than KEEL_CPUID_MAX
    HC KEEL_HC_SET_CPUID, r12, cpuid
    EXPECT rax, EINVAL
    mov dword [cpuid], 1
    HC KEEL_HC_SET_CPUID, r12, cpuid
    EXPECT rax, 0
    mov eax, r15d                                        ; "vm_calls: all NN ..."
    xor edx, edx
    mov ecx, 10
    div ecx
    add al, '0'
    add dl, '0'
    mov [count], al
    mov [count + 1], dl
    HC KEEL_HC_CONSOLE_WRITE, report, report_len
    HC KEEL_HC_EXIT, 0, 0
fail:
    lea rdi, [r15 + 100]
    mov eax, KEEL_HC_EXIT
    syscall
    ud2

section .data
report:     db "vm_calls: all "
count:      db "00 checks passed", 10
report_len  equ $ - report
align 8
msrs:       dd 2, 0
            dd 0x277, 0                                  ; IA32_PAT
            dq 0
            dd 0x4b454500, 0                             ; unknown to Keel
            dq 0
            times 30 * 16 db 0
cpuid:      dd 0, 0
            dd 0x80000008, 0, 0, 0x3030, 0, 0, 0, 0, 0, 0 ; one leaf replaced
            times 63 * 40 db 0

section .bss
fpu:     resb 416
run_ptr: resq 1

section .note.GNU-stack noalloc noexec nowrite progbits
