; mb_lapic: a multiboot1 guest (address fields, 1 vCPU) that checks its
; local APIC (SDM Vol. 3A chapter 10) against the ACPI PM timer (its port
; and width from the FADT). Each check prints one line, in this order:
;   mb_lapic: version 0x14, max LVT 5, ID 0 ok
;   mb_lapic: one-shot timer ok (fired after <us> us)
;     vector 0x30, divide by 1, 5,000,000 counts = 5 ms at 1 GHz: one
;     interrupt, not before 5 ms minus one PM tick, within 500 ms; the
;     current count decreases while it runs and reads 0 after
;   mb_lapic: periodic timer ok (<n> interrupts in 50 ms)
;     1 ms period, 35 to 65 in 50 ms; none after initial count 0
;   mb_lapic: TSC-deadline timer ok (fired <ticks> TSC ticks after the deadline)
;     CPUID.1:ECX[24]; the TSC calibrated against 10 ms of PM timer; an
;     interrupt once, its handler's RDTSC at or after the deadline; the MSR
;     reads 0 after it fired; writing 0 disarms
;   mb_lapic: self-IPI ok                       (ICR shorthand self, 0x50)
;   mb_lapic: NMI ok                            (a self-NMI, and a second one
;                                                sent from the NMI handler that
;                                                must wait for its IRET: SDM
;                                                Vol. 3A 6.7.1)
;   mb_lapic: x2APIC ok                         (or "x2APIC not offered: skipped")
;     IA32_APIC_BASE.EXTD, SELF_IPI MSR (0x51), x2APIC ID 0, #GP on the
;     direct x2APIC -> xAPIC switch, then disabled -> xAPIC
;   mb_lapic: TPR masking ok
;     TPR 0x50 holds 0x45 back (in IRR, PPR 0x50), 0x65 comes (ISR bit and
;     PPR 0x60 in its handler), TPR 0 lets 0x45 in
;   mb_lapic: APIC disable and re-enable ok
;     IA32_APIC_BASE.EN clear: 0xfee00030 reads all ones (the VMM's unbacked
;     MMIO); EN set again: ID 0, software-disabled, LVT timer masked; a
;     self-IPI after the software enable
;   mb_lapic: all checks passed
; then status 0; else "mb_lapic: FAIL: <what>" and status 1. Built with
; -DBARE_QEMU (bare QEMU 7.2 TCG as the platform): a CPU without the
; TSC-deadline timer skips that check, and the disable check is skipped
; (QEMU's APIC page stays the APIC, and it cannot be re-enabled).

%define GUEST_NAME "mb_lapic"
%include "mb_common.inc"
%include "mb_apic.inc"

%define VEC_TIMER         0x30      ; one-shot and periodic
%define VEC_DEADLINE      0x32
%define VEC_LOW           0x45      ; priority class 4
%define VEC_SELF          0x50
%define VEC_X2_SELF       0x51
%define VEC_HIGH          0x65      ; priority class 6
%define LAPIC_VERSION_ID  0x14      ; what the platform (and QEMU, KVM) report
%define LAPIC_MAX_LVT     5         ; six LVT entries: timer, thermal, perf, LINT0/1, error
%define TPR_CLASS_5       0x50
%define ONESHOT_COUNT     LAPIC_COUNTS_MS(5) ; 5,000,000 at 1 GHz
%define ONESHOT_MIN_PM    (MS_TO_PM(5) - 1)
%define PERIODIC_COUNT    LAPIC_COUNTS_MS(1) ; 1,000,000 at 1 GHz
; 50 periods in 50 ms, give or take 15: under emulation the vCPU runs in
; bursts (host scheduling, QEMU's TCG round robin), so interrupts arrive
; late and expirations that fall due while it does not run merge into one;
; a timer at the wrong rate (x2, /2, a wrong divider) falls far outside.
%define PERIODIC_WINDOW_MS 50
%define PERIODIC_MIN      35
%define PERIODIC_MAX      65

bits 32
org LOAD_ADDR
    MB_ADDRESS_HEADER

start:
    MB_APIC_START
    call acpi_init
    call pm_init
    SET_GATE VEC_TIMER, timer_handler
    SET_GATE VEC_DEADLINE, deadline_handler
    SET_GATE VEC_SELF, self_handler
    SET_GATE VEC_X2_SELF, x2_self_handler
    SET_GATE VEC_LOW, low_handler
    SET_GATE VEC_HIGH, high_handler
    call lapic_sw_enable
    call check_version
    call check_one_shot
    call check_periodic
    call check_tsc_deadline
    call check_self_ipi
    call check_nmi
    call check_x2apic
    call check_tpr
    call check_disable
    GPRINT `all checks passed\n`
    mov al, 0
    jmp exit_vm

check_version:
    mov eax, [LAPIC_VERSION]
    cmp al, LAPIC_VERSION_ID
    CHECK e, "the version register's version is 0x14"
    shr eax, 16
    cmp al, LAPIC_MAX_LVT
    CHECK e, "the version register's max LVT entry is 5"
    call lapic_id
    test eax, eax
    CHECK z, "the APIC ID is 0"
    GPRINT `version 0x14, max LVT 5, ID 0 ok\n`
    ret

check_one_shot:
    mov dword [timer_hits], 0
    mov dword [LAPIC_TIMER_DIV], TIMER_DIV_1
    mov dword [LAPIC_LVT_TIMER], LVT_ONE_SHOT | VEC_TIMER
    sti
    call pm_read
    mov [t0], eax
    mov dword [LAPIC_TIMER_INIT], ONESHOT_COUNT
    mov ebx, [LAPIC_TIMER_CUR]
    DELAY_MS 1
    mov edx, [LAPIC_TIMER_CUR]
    cmp ebx, ONESHOT_COUNT
    CHECK be, "the current count is at most the initial count"
    cmp edx, ebx
    jb .decreasing
    test edx, edx                       ; a slow host: already expired?
    CHECK z, "the current count decreases while the timer runs"
    cmp dword [timer_hits], 0
    CHECK ne, "the current count decreases while the timer runs"
.decreasing:
    WAIT_FOR timer_hits, 1, 500
    CHECK nc, "the one-shot interrupt arrives within 500 ms"
    mov eax, [first_hit_pm]
    sub eax, [t0]
    and eax, [pm_mask]
    mov [elapsed], eax
    cmp eax, ONESHOT_MIN_PM
    CHECK ae, "the one-shot interrupt comes no earlier than 5 ms"
    DELAY_MS 20
    cmp dword [timer_hits], 1
    CHECK e, "the one-shot timer interrupts exactly once"
    mov eax, [LAPIC_TIMER_CUR]
    test eax, eax
    CHECK z, "the current count reads 0 after the one-shot expired"
    cli
    GPRINT "one-shot timer ok (fired after "
    mov eax, [elapsed]
    call pm_to_us
    call put_dec
    PRINT ` us)\n`
    ret

check_periodic:
    mov dword [timer_hits], 0
    mov dword [LAPIC_LVT_TIMER], LVT_PERIODIC | VEC_TIMER
    mov dword [LAPIC_TIMER_INIT], PERIODIC_COUNT
    mov ecx, MS_TO_PM(PERIODIC_WINDOW_MS)
    call hlt_until                      ; the timer wakes it every 1 ms
    mov ebx, [timer_hits]
    mov dword [LAPIC_TIMER_INIT], 0     ; stops the timer (SDM 10.5.4)
    sti
    DELAY_MS 2                          ; one already pending may come
    mov edx, [timer_hits]
    DELAY_MS 20
    cmp [timer_hits], edx
    CHECK e, "no periodic interrupt after initial count 0"
    cli
    mov dword [LAPIC_LVT_TIMER], LVT_MASKED
    cmp ebx, PERIODIC_MIN
    jb .rate
    cmp ebx, PERIODIC_MAX
    jbe .ok
.rate:
    GPRINT "periodic timer: "
    mov eax, ebx
    call put_dec
    PRINT ` interrupts in 50 ms\n`
    FAIL "the periodic timer (1 ms) interrupts 35 to 65 times in 50 ms"
.ok:
    GPRINT "periodic timer ok ("
    mov eax, ebx
    call put_dec
    PRINT ` interrupts in 50 ms)\n`
    ret

check_tsc_deadline:
    mov eax, 1
    cpuid
    test ecx, CPUID1_ECX_TSC_DEADLINE
%ifdef BARE_QEMU
    jnz .offered
    GPRINT `TSC-deadline timer not offered: skipped\n`
    ret
.offered:
%endif
    CHECK nz, "CPUID.1:ECX bit 24 (TSC-deadline timer) is set"
    call pm_read                        ; TSC ticks in 10 ms of PM time
    mov ebx, eax
    rdtsc
    mov esi, eax
.calibrate:
    call pm_elapsed
    cmp eax, MS_TO_PM(10)
    jb .calibrate
    rdtsc
    sub eax, esi
    shr eax, 1                          ; 5 ms
    mov [tsc_5ms], eax
    mov dword [deadline_hits], 0
    mov dword [LAPIC_LVT_TIMER], LVT_TSC_DEADLINE | VEC_DEADLINE
    mfence                              ; the LVT write before the MSR (SDM 10.5.4.1)
    sti
    call arm_deadline
    WAIT_FOR deadline_hits, 1, 500
    CHECK nc, "the TSC-deadline interrupt arrives within 500 ms"
    mov eax, [handler_tsc]
    mov edx, [handler_tsc + 4]
    sub eax, [deadline]
    sbb edx, [deadline + 4]
    CHECK nc, "the TSC-deadline interrupt comes at or after the deadline"
    mov [late], eax
    mov ecx, IA32_TSC_DEADLINE
    rdmsr
    or eax, edx
    CHECK z, "IA32_TSC_DEADLINE reads 0 once the timer fired"
    DELAY_MS 20
    cmp dword [deadline_hits], 1
    CHECK e, "the TSC-deadline timer interrupts exactly once"
    call arm_deadline
    xor eax, eax                        ; disarm
    xor edx, edx
    wrmsr
    DELAY_MS 20
    cmp dword [deadline_hits], 1
    CHECK e, "writing 0 to IA32_TSC_DEADLINE disarms the timer"
    cli
    mov dword [LAPIC_LVT_TIMER], LVT_MASKED
    GPRINT "TSC-deadline timer ok (fired "
    mov eax, [late]
    call put_dec
    PRINT ` TSC ticks after the deadline)\n`
    ret

; arm_deadline: IA32_TSC_DEADLINE = [deadline] = now + 5 ms.
arm_deadline:
    rdtsc
    add eax, [tsc_5ms]
    adc edx, 0
    mov [deadline], eax
    mov [deadline + 4], edx
    mov ecx, IA32_TSC_DEADLINE
    wrmsr
    ret

check_self_ipi:
    call self_ipi
    GPRINT `self-IPI ok\n`
    ret

; self_ipi: a fixed self-IPI (shorthand 01b) of VEC_SELF must run its
; handler once.
self_ipi:
    mov dword [self_hits], 0
    sti
    mov eax, ICR_SELF | ICR_FIXED | VEC_SELF
    call send_ipi
    WAIT_FOR self_hits, 1, 100
    CHECK nc, "a self-IPI (shorthand self, vector 0x50) runs its handler"
    DELAY_MS 5
    cmp dword [self_hits], 1
    CHECK e, "a self-IPI runs its handler once"
    cli
    ret

; check_nmi: a self-NMI (delivery mode 100b) runs the NMI handler; the
; handler sends a second self-NMI, which must not nest into it (NMIs are
; blocked until the handler's IRET, SDM Vol. 3A 6.7.1) but must arrive
; after it.
check_nmi:
    SET_GATE VEC_NMI_GUEST, nmi_handler
    mov dword [nmi_hits], 0
    mov dword [nmi_nested], 0
    mov eax, ICR_SELF | ICR_NMI | ICR_ASSERT
    call send_ipi
    WAIT_FOR nmi_hits, 2, 100
    CHECK nc, "the NMI sent from the NMI handler arrives after its IRET"
    cmp dword [nmi_nested], 0
    CHECK e, "no NMI interrupts the NMI handler (blocked until IRET)"
    GPRINT `NMI ok\n`
    ret

check_x2apic:
    mov eax, 1
    cpuid
    test ecx, CPUID1_ECX_X2APIC
    jnz .offered
    GPRINT `x2APIC not offered (CPUID.1:ECX bit 21 clear): skipped\n`
    ret
.offered:
    mov ecx, IA32_APIC_BASE
    rdmsr
    or eax, APIC_BASE_EXTD              ; xAPIC -> x2APIC (SDM 10.12.5)
    wrmsr
    mov ecx, X2APIC_ID
    rdmsr
    test eax, eax
    CHECK z, "the x2APIC ID (MSR 0x802) is 0"
    mov dword [x2_hits], 0
    sti
    mov ecx, X2APIC_SELF_IPI
    mov eax, VEC_X2_SELF
    xor edx, edx
    wrmsr
    WAIT_FOR x2_hits, 1, 100
    CHECK nc, "the x2APIC SELF_IPI MSR (0x83f) delivers vector 0x51"
    cli
    SET_GATE VEC_GP, gp_handler
    mov dword [gp_hits], 0
    mov ecx, IA32_APIC_BASE
    rdmsr
    and eax, ~APIC_BASE_EXTD            ; x2APIC -> xAPIC directly: invalid
gp_expected_at:
    wrmsr
    mov ecx, VEC_GP
    call idt_reset_gate
    cmp dword [gp_hits], 1
    CHECK e, "x2APIC -> xAPIC without disabling first raises #GP"
    mov ecx, IA32_APIC_BASE
    rdmsr
    test eax, APIC_BASE_EXTD
    CHECK nz, "after the #GP the APIC is still in x2APIC mode"
    and eax, ~(APIC_BASE_EN | APIC_BASE_EXTD) ; x2APIC -> disabled -> xAPIC
    wrmsr
    or eax, APIC_BASE_EN
    wrmsr
    call lapic_id
    test eax, eax
    CHECK z, "back in xAPIC mode, the xAPIC ID is 0"
    call lapic_sw_enable
    GPRINT `x2APIC ok\n`
    ret

check_tpr:
    mov dword [low_hits], 0
    mov dword [high_hits], 0
    mov dword [LAPIC_TPR], TPR_CLASS_5
    sti
    mov eax, ICR_SELF | ICR_FIXED | VEC_LOW
    call send_ipi
    DELAY_MS 10
    cmp dword [low_hits], 0
    CHECK e, "TPR 0x50 holds back vector 0x45 (class 4)"
    mov eax, [APIC_VEC_REG(LAPIC_IRR, VEC_LOW)]
    test eax, APIC_VEC_BIT(VEC_LOW)
    CHECK nz, "vector 0x45 waits in the IRR"
    mov eax, [LAPIC_PPR]
    cmp eax, TPR_CLASS_5
    CHECK e, "PPR is 0x50 (TPR 0x50, nothing in service)"
    mov eax, ICR_SELF | ICR_FIXED | VEC_HIGH
    call send_ipi
    WAIT_FOR high_hits, 1, 100
    CHECK nc, "vector 0x65 (class 6) is delivered above TPR 0x50"
    test dword [high_isr], APIC_VEC_BIT(VEC_HIGH)
    CHECK nz, "vector 0x65 is in the ISR while its handler runs"
    cmp dword [high_ppr], VEC_HIGH & 0xF0
    CHECK e, "PPR is 0x60 while vector 0x65 is in service"
    cmp dword [low_hits], 0
    CHECK e, "vector 0x45 is still held back after 0x65's EOI"
    mov dword [LAPIC_TPR], 0
    WAIT_FOR low_hits, 1, 100
    CHECK nc, "vector 0x45 is delivered once TPR is 0"
    cli
    mov eax, [APIC_VEC_REG(LAPIC_IRR, VEC_LOW)]
    test eax, APIC_VEC_BIT(VEC_LOW)
    CHECK z, "vector 0x45 left the IRR"
    mov eax, [APIC_VEC_REG(LAPIC_ISR, VEC_LOW)]
    test eax, APIC_VEC_BIT(VEC_LOW)
    CHECK z, "vector 0x45 left the ISR with its EOI"
    GPRINT `TPR masking ok\n`
    ret

check_disable:
%ifdef BARE_QEMU
    GPRINT `APIC disable and re-enable skipped (QEMU's APIC cannot)\n`
    ret
%endif
    mov ecx, IA32_APIC_BASE
    rdmsr
    and eax, ~APIC_BASE_EN
    wrmsr
    mov eax, [LAPIC_VERSION]
    cmp eax, 0xFFFFFFFF
    CHECK e, "with IA32_APIC_BASE.EN clear, 0xfee00030 reads all ones"
    mov ecx, IA32_APIC_BASE
    rdmsr
    or eax, APIC_BASE_EN
    wrmsr
    call lapic_id
    test eax, eax
    CHECK z, "the re-enabled APIC's ID is 0"
    mov eax, [LAPIC_SVR]
    test eax, SVR_ENABLE
    CHECK z, "the re-enabled APIC is software-disabled (SVR bit 8 clear)"
    mov eax, [LAPIC_LVT_TIMER]
    test eax, LVT_MASKED
    CHECK nz, "the re-enabled APIC's LVT timer is masked"
    call lapic_sw_enable
    call self_ipi
    GPRINT `APIC disable and re-enable ok\n`
    ret

; ---------------------------------------------------------------- handlers

nmi_handler:
    push eax
    inc dword [nmi_depth]
    cmp dword [nmi_depth], 1
    je .outermost
    inc dword [nmi_nested]
.outermost:
    inc dword [nmi_hits]
    cmp dword [nmi_hits], 1
    jne .done
    mov eax, ICR_SELF | ICR_NMI | ICR_ASSERT
    call send_ipi                       ; must stay pending until the IRET
    call pm_read                        ; exits to the VMM: entries a nested
    call pm_read                        ; NMI would wrongly come in at
.done:
    dec dword [nmi_depth]
    pop eax
    iret

timer_handler:
    push eax
    cmp dword [timer_hits], 0
    jne .counted
    call pm_read
    mov [first_hit_pm], eax
.counted:
    inc dword [timer_hits]
    mov dword [LAPIC_EOI], 0
    pop eax
    iret

deadline_handler:
    push eax
    push edx
    rdtsc
    cmp dword [deadline_hits], 0
    jne .counted
    mov [handler_tsc], eax
    mov [handler_tsc + 4], edx
.counted:
    inc dword [deadline_hits]
    mov dword [LAPIC_EOI], 0
    pop edx
    pop eax
    iret

self_handler:
    inc dword [self_hits]
    mov dword [LAPIC_EOI], 0
    iret

; In x2APIC mode the EOI is the x2APIC EOI MSR (SDM 10.12.1.2).
x2_self_handler:
    pushad
    inc dword [x2_hits]
    mov ecx, X2APIC_EOI
    xor eax, eax
    xor edx, edx
    wrmsr
    popad
    iret

low_handler:
    inc dword [low_hits]
    mov dword [LAPIC_EOI], 0
    iret

high_handler:
    push eax
    inc dword [high_hits]
    mov eax, [APIC_VEC_REG(LAPIC_ISR, VEC_HIGH)]
    mov [high_isr], eax
    mov eax, [LAPIC_PPR]
    mov [high_ppr], eax
    mov dword [LAPIC_EOI], 0
    pop eax
    iret

; #GP from the WRMSR at gp_expected_at only: skip it (2 bytes); any other
; #GP is reported as unexpected.
gp_handler:
    cmp dword [esp + 4], gp_expected_at ; [esp] is the error code
    je .expected
    push dword VEC_GP
    jmp unexpected_vector
.expected:
    inc dword [gp_hits]
    add dword [esp + 4], WRMSR_LENGTH
    add esp, 4
    iret

    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
t0:              resd 1
elapsed:         resd 1
first_hit_pm:    resd 1
timer_hits:      resd 1
deadline_hits:   resd 1
tsc_5ms:         resd 1
deadline:        resq 1
handler_tsc:     resq 1
late:            resd 1
self_hits:       resd 1
nmi_hits:        resd 1
nmi_depth:       resd 1
nmi_nested:      resd 1
x2_hits:         resd 1
gp_hits:         resd 1
low_hits:        resd 1
high_hits:       resd 1
high_isr:        resd 1
high_ppr:        resd 1
bss_end:
