; mb_regress_lint0: a multiboot1 guest (address fields, 1 vCPU) that keeps
; the 8259 asking for vCPU 0 while its LAPIC refuses the PIC's ExtINT (LVT
; LINT0 masked): PIT at 250 Hz, IRQ 0 unmasked, STI. The VMM's request for
; an interrupt window must not make the core exit at once, forever (it did:
; found by mb_hostile_apic). Prints
;   mb_regress_lint0: still running after 100 ms
; and ends with status 0.

%define GUEST_NAME "mb_regress_lint0"
%include "mb_common.inc"
%include "mb_apic.inc"
bits 32
org LOAD_ADDR
    MB_ADDRESS_HEADER
start:
    MB_APIC_START
    call acpi_init
    call pm_init
    call lapic_sw_enable
    mov dword [LAPIC_LVT_LINT0], LVT_MASKED     ; the PIC's ExtINT refused
    mov al, PIC_ICW1
    out PIC1_CMD, al
    mov al, 0x20
    out PIC1_DATA, al
    mov al, PIC_ICW3_MASTER
    out PIC1_DATA, al
    mov al, PIC_ICW4
    out PIC1_DATA, al
    mov al, 0xFE                                ; IRQ 0 only
    out PIC1_DATA, al
    mov al, PIT_CH0_MODE2
    out PIT_CMD, al
    mov ax, 4773
    out PIT_CH0, al
    mov al, ah
    out PIT_CH0, al
    GPRINT `LINT0 masked, PIC IRQ 0 unmasked, PIT at 250 Hz; sti\n`
    sti
    DELAY_MS 100
    GPRINT `still running after 100 ms\n`
    mov al, 0
    jmp exit_vm
    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
bss_end:
