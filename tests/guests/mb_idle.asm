; mb_idle: a multiboot1 guest (address fields, 1 vCPU) that idles in HLT
; with the LAPIC timer periodic at 10 ms (vector 0x30, divide by 1,
; 10,000,000 counts at 1 GHz) for 500 ms of PM time, counting the ticks
; (about 50). Besides its own range (35 to 65) the boot test reads the
; VMM's statistics line for vCPU 0: few exits per tick and 40 or more halts
; blocked show the vCPU was blocked in HLT, not spinning. It prints
;   mb_idle: <n> ticks while idle in HLT
; and ends with status 0, or "mb_idle: FAIL: <what>" and status 1. Prints
; and reads little: every port access is an exit the boot test counts.

%define GUEST_NAME "mb_idle"
%include "mb_common.inc"
%include "mb_apic.inc"

%define TICK_COUNT        LAPIC_COUNTS_MS(10) ; 10,000,000 at 1 GHz
%define IDLE_MS           500
; 50 ticks, give or take 15: a halted vCPU's timer is a host timer, and
; under emulation wake-ups come late (SDM timing is not promised there).
%define TICKS_MIN         35
%define TICKS_MAX         65

bits 32
org LOAD_ADDR
    MB_ADDRESS_HEADER

start:
    MB_APIC_START
    call acpi_init
    call pm_init
    SET_GATE VEC_TICK, count_tick
    call lapic_sw_enable
    mov eax, TICK_COUNT
    mov ecx, MS_TO_PM(IDLE_MS)
    call ticks_in_hlt
    GPRINT ""
    call put_dec
    PRINT ` ticks while idle in HLT\n`
    cmp eax, TICKS_MIN
    CHECK ae, "at least 35 ticks of 10 ms in 500 ms"
    cmp eax, TICKS_MAX
    CHECK be, "at most 65 ticks of 10 ms in 500 ms"
    mov al, 0
    jmp exit_vm

    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
bss_end:
