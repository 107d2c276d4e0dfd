; Application-processor start-up code. The core copies this blob to a page
; below 1 MiB and points the start-up IPI at it (SDM Vol. 3A 9.4.4.1 and
; 11.6.1: an AP starts in real mode at CS = vector << 8, IP = 0). The core
; fills the parameter block at the end before each AP is started; the code
; uses only offsets from the start, so it runs wherever it was copied.
; Path: real mode -> 32-bit protected mode -> long mode on a small boot PML4
; (identity map of the trampoline plus the core's half) -> the core's higher
; half, where ap_entry(cpu) takes over with the AP's own stack.

%include "boot/layout.inc"

global ap_trampoline_params_offset

CR0_PE      equ 1 << 0
CR0_WP      equ 1 << 16
CR0_PG      equ 1 << 31
CR4_PAE     equ 1 << 5
EFER_MSR    equ 0xc0000080
EFER_LME    equ 1 << 8
EFER_NXE    equ 1 << 11

%define OFF(x) ((x) - trampoline_start)

section .ap_trampoline
align 16
trampoline_start:
bits 16
    cli
    cld
    mov ax, cs
    mov ds, ax
    ; Patch the linear addresses that depend on where we run: base = CS << 4.
    xor ebx, ebx
    mov bx, ax
    shl ebx, 4
    lea eax, [ebx + OFF(gdt)]
    mov [OFF(gdt_ptr) + 2], eax
    lea eax, [ebx + OFF(protected_mode)]
    mov [OFF(far32)], eax
    lea eax, [ebx + OFF(long_mode)]
    mov [OFF(far64)], eax
    lgdt [OFF(gdt_ptr)]
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    jmp dword far [OFF(far32)]

bits 32
protected_mode:
    ; EBX still holds the trampoline base.
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    ; A late AP that answers after the core gave up on it must not use the
    ; parameters meant for another AP: check our initial APIC ID (CPUID 1,
    ; EBX[31:24]) against the expected one, else stop here.
    mov esi, ebx
    mov eax, 1
    cpuid
    shr ebx, 24
    cmp ebx, [esi + OFF(param_apic_id)]
    jne .wrong_cpu
    mov ebx, esi

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, [ebx + OFF(param_boot_cr3)]
    mov cr3, eax
    mov ecx, EFER_MSR
    rdmsr
    or eax, EFER_LME
    test dword [ebx + OFF(param_flags)], 1
    jz .no_nx
    or eax, EFER_NXE
.no_nx:
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_WP
    mov cr0, eax
    jmp far [ebx + OFF(far64)]
.wrong_cpu:
    cli
    hlt
    jmp .wrong_cpu

bits 64
long_mode:
    ; RBX: trampoline base (identity-mapped). The start-up tables also map
    ; the core's half, so the stack and ap_entry are reachable; ap_entry
    ; switches to the core's own tables (param_kernel_cr3, passed in RSI).
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsi, [rbx + OFF(param_kernel_cr3)]
    mov rsp, [rbx + OFF(param_stack)]
    mov rdi, [rbx + OFF(param_cpu)]
    mov rax, [rbx + OFF(param_entry)]
    xor ebp, ebp
    ; Tell the core we are alive; from here on the parameter block is free.
    mov dword [rbx + OFF(param_started)], 1
    call rax
.halt:
    cli
    hlt
    jmp .halt

align 16
gdt:
    dq 0
    dq 0x00af9a000000ffff       ; 0x08: 64-bit code
    dq 0x00cf92000000ffff       ; 0x10: data
    dq 0x00cf9a000000ffff       ; 0x18: 32-bit code
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd 0
far32:
    dd 0
    dw 0x18
far64:
    dd 0
    dw 0x08

; Parameter block: layout matches struct ap_trampoline_params (kernel/smp.h).
align 8
params:
param_kernel_cr3: dq 0
param_stack:      dq 0
param_entry:      dq 0
param_cpu:        dq 0
param_boot_cr3:   dd 0
param_apic_id:    dd 0
param_flags:      dd 0
param_started:    dd 0
trampoline_end:

section .rodata
ap_trampoline_params_offset: dq OFF(params)

section .note.GNU-stack noalloc noexec nowrite progbits
