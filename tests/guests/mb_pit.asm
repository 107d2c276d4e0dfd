; mb_pit: a multiboot1 guest (address fields, 1 vCPU) that takes the PIT's
; interrupt both ways a PC routes it (the VMM's "board": ISA IRQ 0 drives
; 8259 input 0 and IOAPIC input GSI 2):
;   - PIT channel 0 in mode 2 at 250 Hz (divisor 4773, 8254 datasheet);
;   - through the PIC: the 8259 pair initialised (ICW1-ICW4, vectors 0x20 and
;     0x28), only IRQ 0 unmasked, LVT LINT0 in ExtINT mode on a software-
;     enabled LAPIC (SDM Vol. 3A 10.5.1); the handler (vector 0x20) sends the
;     PIC a non-specific EOI; 18 to 32 interrupts in 100 ms of PM time;
;   - through the IOAPIC: the PIC masked; the MADT must override ISA IRQ 0
;     to GSI 2 and name the IOAPIC; its version register reads version 0x20
;     and 24 entries (82093AA 3.2.2); GSI 2's redirection entry: vector 0x31,
;     fixed, physical, destination APIC 0, edge, active high, unmasked; the
;     handler EOIs the LAPIC; 18 to 32 in 100 ms.
; The counts wait in HLT (the PIT wakes it). It prints
;   mb_pit: PIT through the PIC ok (<n> ticks)
;   mb_pit: IOAPIC version 0x20 with 24 pins ok
;   mb_pit: PIT through the IOAPIC ok (<n> ticks)
; and ends with status 0, or "mb_pit: FAIL: <what>" and status 1.

%define GUEST_NAME "mb_pit"
%include "mb_common.inc"
%include "mb_apic.inc"

%define PIC1_VECTOR       0x20      ; ICW2: IRQ 0-7 at 0x20-0x27
%define PIC2_VECTOR       0x28      ; IRQ 8-15 at 0x28-0x2f
%define PIC_ONLY_IRQ0     0xFE      ; OCW1: IRQ 0 unmasked
%define VEC_PIC_SPURIOUS1 (PIC1_VECTOR + 7) ; IRQ 7/15 without a request
%define VEC_PIC_SPURIOUS2 (PIC2_VECTOR + 7)
%define VEC_IOAPIC_PIT    0x31
%define PIT_DIVISOR       4773      ; 1193182 / 4773 = 249.99 Hz (Linux's HZ=250)
%define PIT_IRQ_GSI       2         ; what the platform's MADT override says
%define IOAPIC_VERSION_ID 0x20
%define IOAPIC_MAX_ENTRY  23        ; 24 pins
; 25 PIT periods in 100 ms, give or take 7: the PIT is a timer of the VMM,
; which raises the edges late when its vCPU thread is not running (and the
; 8259 and IOAPIC merge edges that come while one is still pending). The
; test is of the routing, not of 1 kHz under an emulator sharing its host:
; at 1 kHz a loaded host's QEMU lost half the edges (measured).
%define WINDOW_MS         100
%define TICKS_MIN         18
%define TICKS_MAX         32

bits 32
org LOAD_ADDR
    MB_ADDRESS_HEADER

start:
    MB_APIC_START
    call acpi_init
    call pm_init
    call madt_scan
    SET_GATE PIC1_VECTOR, pic_tick
    SET_GATE VEC_PIC_SPURIOUS1, spurious_irq
    SET_GATE VEC_PIC_SPURIOUS2, spurious_irq
    SET_GATE VEC_IOAPIC_PIT, count_tick
    call lapic_sw_enable
    call pit_start
    call through_pic
    call check_ioapic
    call through_ioapic
    mov al, 0
    jmp exit_vm

; pit_start: channel 0, mode 2 (rate generator), PIT_DIVISOR.
pit_start:
    mov al, PIT_CH0_MODE2
    out PIT_CMD, al
    mov al, PIT_DIVISOR & 0xFF
    out PIT_CH0, al
    mov al, PIT_DIVISOR >> 8
    out PIT_CH0, al
    ret

through_pic:
    mov al, PIC_ICW1                    ; ICW1 to both, then ICW2-ICW4 on the data ports
    out PIC1_CMD, al
    out PIC2_CMD, al
    mov al, PIC1_VECTOR
    out PIC1_DATA, al
    mov al, PIC2_VECTOR
    out PIC2_DATA, al
    mov al, PIC_ICW3_MASTER
    out PIC1_DATA, al
    mov al, PIC_ICW3_SLAVE
    out PIC2_DATA, al
    mov al, PIC_ICW4
    out PIC1_DATA, al
    out PIC2_DATA, al
    mov al, PIC_MASK_ALL
    out PIC2_DATA, al
    mov al, PIC_ONLY_IRQ0
    out PIC1_DATA, al
    mov dword [LAPIC_LVT_LINT0], LVT_EXTINT ; unmasked, ExtINT
    call count_window
    push eax
    mov al, PIC_MASK_ALL
    out PIC1_DATA, al
    pop eax
    GPRINT "PIT through the PIC "
    call judge
    ret

check_ioapic:
    cmp dword [irq0_gsi], PIT_IRQ_GSI
    CHECK e, "the MADT overrides ISA IRQ 0 to GSI 2"
    cmp dword [ioapic_addr], 0
    CHECK ne, "the MADT lists an IOAPIC"
    cmp dword [ioapic_gsi_base], PIT_IRQ_GSI
    CHECK be, "the IOAPIC's GSIs include GSI 2"
    mov ecx, IOAPIC_REG_VER
    call ioapic_read
    cmp al, IOAPIC_VERSION_ID
    CHECK e, "the IOAPIC's version is 0x20"
    shr eax, 16
    cmp al, IOAPIC_MAX_ENTRY
    CHECK e, "the IOAPIC has 24 redirection entries"
    GPRINT `IOAPIC version 0x20 with 24 pins ok\n`
    ret

through_ioapic:
    mov ecx, [irq0_gsi]
    sub ecx, [ioapic_gsi_base]
    lea ecx, [IOAPIC_REG_RTE(0) + ecx * 2]
    push ecx
    inc ecx                             ; the high dword first: destination APIC 0
    xor eax, eax
    call ioapic_write
    dec ecx
    mov eax, VEC_IOAPIC_PIT             ; fixed, physical, high, edge, unmasked
    call ioapic_write
    call count_window
    pop ecx
    push eax
    mov eax, RTE_MASKED | VEC_IOAPIC_PIT
    call ioapic_write
    pop eax
    GPRINT "PIT through the IOAPIC "
    call judge
    ret

; count_window: EAX = interrupts counted in [ticks] over WINDOW_MS, waiting
; in HLT.
count_window:
    mov dword [ticks], 0
    mov ecx, MS_TO_PM(WINDOW_MS)
    call hlt_until
    mov eax, [ticks]
    ret

; judge: ends the line begun by the caller with "ok (<EAX> ticks)", or
; with the count and a failure when EAX is outside [TICKS_MIN, TICKS_MAX].
judge:
    cmp eax, TICKS_MIN
    jb .bad
    cmp eax, TICKS_MAX
    ja .bad
    PRINT "ok ("
    call put_dec
    PRINT ` ticks)\n`
    ret
.bad:
    PRINT "got "
    call put_dec
    PRINT ` ticks in 100 ms\n`
    FAIL "the PIT at 250 Hz interrupts 18 to 32 times in 100 ms"

; pic_tick: vector 0x20 (IRQ 0 through the master PIC).
pic_tick:
    push eax
    inc dword [ticks]
    mov al, PIC_EOI
    out PIC1_CMD, al
    pop eax
    iret

; A spurious IRQ 7 or 15 (the PIC's request went away): no EOI.
spurious_irq:
    iret

    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
bss_end:
