; mb_regress_nmi_sti: a multiboot1 guest (address fields, 1 vCPU) whose NMI
; handler sends itself a second NMI and enables interrupts (STI) before its
; IRET: the second NMI must wait for the IRET without the vCPU exiting
; forever in interrupt-window exits (it did on SVM: found by
; mb_hostile_apic). Prints
;   mb_regress_nmi_sti: both NMIs handled
; and ends with status 0.

%define GUEST_NAME "mb_regress_nmi_sti"
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
    SET_GATE 2, nmi_handler
    GPRINT `self-NMI; its handler sends another and does STI before IRET\n`
    mov dword [LAPIC_ICR_LO], ICR_SELF | (4 << 8)
    mov esi, nmis
    mov eax, 2
    mov ecx, 1000
    call wait_until
    jc .late
    GPRINT `both NMIs handled\n`
    mov al, 0
    jmp exit_vm
.late:
    GPRINT `FAIL: not both NMIs within 1 s\n`
    mov al, 1
    jmp exit_vm
nmi_handler:
    inc dword [nmis]
    cmp dword [nmis], 1
    jne .out
    mov dword [LAPIC_ICR_LO], ICR_SELF | (4 << 8)   ; held until our IRET
    sti
    nop
    nop
    cli
.out:
    iret
    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
nmis: resd 1
bss_end:
