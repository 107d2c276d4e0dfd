; mb_ticker: a multiboot1 guest (address fields, 1 vCPU), the interactive
; one of the starvation test: the LAPIC timer periodic at 10 ms (vector
; 0x30), HLT until 1000 ms of PM time passed, counting the ticks. A vCPU
; that the scheduler starves (a CPU-bound VM pinned beside it) gets far
; fewer. It prints
;   mb_ticker: <n> ticks in 1000 ms
; and ends with status 0 when n >= 80, else prints
; "mb_ticker: FAIL: <what>" and ends with status 1.

%define GUEST_NAME "mb_ticker"
%include "mb_common.inc"
%include "mb_apic.inc"

%define TICK_COUNT        LAPIC_COUNTS_MS(10) ; 10,000,000 at 1 GHz
%define WINDOW_MS         1000
%define TICKS_MIN         80        ; of 100: a fifth may come late or merge

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
    mov ecx, MS_TO_PM(WINDOW_MS)
    call ticks_in_hlt
    GPRINT ""
    call put_dec
    PRINT ` ticks in 1000 ms\n`
    cmp eax, TICKS_MIN
    CHECK ae, "at least 80 ticks of 10 ms in 1000 ms"
    mov al, 0
    jmp exit_vm

    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
bss_end:
