; 32-bit entry from a multiboot loader to the 64-bit core.
; On entry (Multiboot spec 3.2 / Multiboot2 spec 3.3): protected mode, paging
; off, EAX = boot magic, EBX = physical address of the info structure, no
; usable stack, interrupts off.
; Steps: check the CPU (CPUID, long mode, PAE; note NX), build early page
; tables (identity and direct map of 0-4 GiB, the core image at -2 GiB, with
; 2 MiB pages), enable long mode (Intel SDM Vol. 3A 10.8.5 "Initializing IA-32e
; Mode"), jump to the higher half and call kernel_main(magic, info).

%include "boot/layout.inc"

extern kernel_main

global early_pml4
global boot_stack
global boot_stack_top

global _start
global boot_cpu_has_nx
global boot_gdt_ptr64

CR0_PE          equ 1 << 0
CR0_WP          equ 1 << 16
CR0_PG          equ 1 << 31
CR4_PAE         equ 1 << 5
EFER_MSR        equ 0xc0000080
EFER_LME        equ 1 << 8
EFER_NXE        equ 1 << 11
PTE_PRESENT     equ 1 << 0
PTE_WRITE       equ 1 << 1
PTE_LARGE       equ 1 << 7
CPUID_LM        equ 1 << 29      ; CPUID 0x80000001 EDX
CPUID_NX        equ 1 << 20      ; CPUID 0x80000001 EDX
CPUID_PAE       equ 1 << 6       ; CPUID 1 EDX
EFLAGS_ID       equ 1 << 21
COM1            equ 0x3f8
VGA_TEXT        equ 0xb8000

%define PHYS(x) ((x) - KERNEL_VMA_BASE)

section .boot.text
bits 32
_start:
    cli
    cld
    mov esp, PHYS(boot_stack_top)
    mov [boot_magic], eax
    mov [boot_info], ebx

    ; CPUID present? (EFLAGS.ID can be toggled; SDM Vol. 2A, CPUID)
    pushfd
    pop eax
    mov ecx, eax
    xor eax, EFLAGS_ID
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    xor eax, ecx
    jz .no_cpuid

    mov eax, 1
    cpuid
    test edx, CPUID_PAE
    jz .no_pae

    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, CPUID_LM
    jz .no_long_mode
    test edx, CPUID_NX
    jz .tables
    mov dword [boot_cpu_has_nx], 1

.tables:
    ; PD entries: 2048 x 2 MiB covering 0-4 GiB.
    mov edi, PHYS(early_pd)
    mov eax, PTE_PRESENT | PTE_WRITE | PTE_LARGE
    xor edx, edx
    mov ecx, 2048
.fill_pd:
    mov [edi], eax
    mov [edi + 4], edx
    add eax, 0x200000
    adc edx, 0
    add edi, 8
    loop .fill_pd

    ; Low PDPT: four PDs, 0-4 GiB. Used for identity (slot 0) and the direct map (slot 256).
    mov edi, PHYS(early_pdpt_low)
    mov eax, PHYS(early_pd) + (PTE_PRESENT | PTE_WRITE)
    mov ecx, 4
.fill_pdpt:
    mov [edi], eax
    mov dword [edi + 4], 0
    add eax, 4096
    add edi, 8
    loop .fill_pdpt

    ; High PDPT: slot 510 maps the first GiB at KERNEL_VMA_BASE (-2 GiB).
    mov dword [PHYS(early_pdpt_high) + 510 * 8], PHYS(early_pd) + (PTE_PRESENT | PTE_WRITE)

    mov edi, PHYS(early_pml4)
    mov dword [edi + 0 * 8], PHYS(early_pdpt_low) + (PTE_PRESENT | PTE_WRITE)
    mov dword [edi + 256 * 8], PHYS(early_pdpt_low) + (PTE_PRESENT | PTE_WRITE)
    mov dword [edi + 511 * 8], PHYS(early_pdpt_high) + (PTE_PRESENT | PTE_WRITE)

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, PHYS(early_pml4)
    mov cr3, eax
    mov ecx, EFER_MSR
    rdmsr
    or eax, EFER_LME
    cmp dword [boot_cpu_has_nx], 0
    je .no_nxe
    or eax, EFER_NXE
.no_nxe:
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_PE | CR0_WP
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    jmp BOOT_CODE64:.long_mode

.no_cpuid:
    mov esi, msg_no_cpuid
    jmp early_fail
.no_pae:
    mov esi, msg_no_pae
    jmp early_fail
.no_long_mode:
    mov esi, msg_no_long_mode
    jmp early_fail

bits 64
.long_mode:
    mov ax, BOOT_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rax, .higher_half
    jmp rax

section .text
.higher_half:
    mov rsp, boot_stack_top
    xor ebp, ebp                ; terminates backtraces
    mov edi, [boot_magic]
    mov esi, [boot_info]
    call kernel_main
.halt:
    cli
    hlt
    jmp .halt

section .boot.text
bits 32
; Prints the NUL-terminated message at ESI on COM1 and the VGA text screen,
; then halts for good. Runs before anything else exists.
early_fail:
    mov dx, COM1 + 3
    mov al, 0x80                ; LCR: divisor latch access
    out dx, al
    mov dx, COM1
    mov al, 1                   ; divisor 1: 115200 baud
    out dx, al
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03                ; 8N1
    out dx, al
    mov edi, VGA_TEXT
.next:
    lodsb
    test al, al
    jz .done
    mov ah, 0x4f                ; white on red
    mov [edi], ax
    add edi, 2
    mov bl, al
    mov dx, COM1 + 5
    mov ecx, 100000
.wait_thre:
    in al, dx
    test al, 0x20
    jnz .send
    loop .wait_thre
.send:
    mov dx, COM1
    mov al, bl
    out dx, al
    jmp .next
.done:
    cli
    hlt
    jmp .done

section .boot.data
align 16
boot_gdt:
    dq 0
    dq 0x00af9a000000ffff       ; 0x08: 64-bit code, DPL 0
    dq 0x00cf92000000ffff       ; 0x10: data, DPL 0
boot_gdt_end:
boot_gdt_ptr:
    dw boot_gdt_end - boot_gdt - 1
    dd boot_gdt
boot_gdt_ptr64:
    dw boot_gdt_end - boot_gdt - 1
    dq boot_gdt
boot_magic: dd 0
boot_info: dd 0
boot_cpu_has_nx: dd 0

msg_no_cpuid:
    db "keel: this CPU cannot run Keel: it has no CPUID instruction (an x86-64 CPU is required)", 13, 10, 0
msg_no_pae:
    db "keel: this CPU cannot run Keel: it has no PAE (physical address extension); an x86-64 CPU is required", 13, 10, 0
msg_no_long_mode:
    db "keel: this CPU cannot run Keel: it has no long mode (x86-64); boot Keel on a 64-bit CPU", 13, 10, 0

section .bss
align 4096
early_pml4:      resb 4096
early_pdpt_low:  resb 4096
early_pdpt_high: resb 4096
early_pd:        resb 4096 * 4
boot_stack:      resb 16384      ; BOOT_STACK_SIZE in kernel/percpu.h
boot_stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
