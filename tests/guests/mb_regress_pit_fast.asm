; mb_regress_pit_fast: a multiboot1 guest (address fields, 1 vCPU) that
; runs the PIT in mode 2 with count 2 (597 kHz; the PIC masked): the VMM's
; exit deadline is always past, and the guest must still run (it never did:
; found by mb_hostile_apic). Prints
;   mb_regress_pit_fast: still running after 1000 ms
; and ends with status 0.

%define GUEST_NAME "mb_regress_pit_fast"
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
    
    mov al, PIC_ICW1
    out PIC1_CMD, al
    mov al, 0x20
    out PIC1_DATA, al
    mov al, PIC_ICW3_MASTER
    out PIC1_DATA, al
    mov al, PIC_ICW4
    out PIC1_DATA, al
    mov al, 0xFF
    out PIC1_DATA, al
    mov al, PIT_CH0_MODE2
    out PIT_CMD, al
    mov ax, 25
    out PIT_CH0, al
    mov al, ah
    out PIT_CH0, al
    GPRINT `PIT mode 2 count 2 (597 kHz), PIC masked; sti\n`
    sti
    DELAY_MS 1000
    GPRINT `still running after 1000 ms\n`
    mov al, 0
    jmp exit_vm
    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
bss_end:
