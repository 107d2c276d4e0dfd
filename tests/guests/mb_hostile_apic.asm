; mb_hostile_apic: a multiboot1 guest (address fields, 2 vCPUs) that abuses
; its local APICs and the platform's interrupt devices, to show that such a
; guest hurts only itself: Keel and a VM beside it go on (the boot test runs
; it next to mb_ticker). Every vector of its IDT counts and returns (an EOI
; for what can be a LAPIC vector), and #GP skips the WRMSR or RDMSR that
; raised it. Deterministic: a xorshift32 generator per CPU, constant seeds.
;
; The BSP starts the AP (INIT-SIPI-SIPI, mb_smp_code.inc), then runs rounds
; for 1 s of PM-timer time (at most 100000), with interrupts on. A round:
;   - IPIs of every delivery mode (fixed, lowest priority, SMI, reserved,
;     NMI, start-up with a random vector, ExtINT) to self, all including
;     self, all excluding self and a random destination, with random
;     reserved bits; INIT level de-asserts; illegal vectors (< 16);
;   - TPR 0xff with a self-IPI held back, then TPR 0; SVR software disable
;     and enable; the timer one-shot at count 1, TSC-deadline in the past
;     and at random, then periodic at divide 1 and initial count 1;
;   - a random value to every xAPIC register 0x000-0x3f0 but the ICR's low
;     dword, reads of each, and byte and word accesses at random offsets;
;   - IA32_APIC_BASE: EXTD without EN, a reserved bit and address bits
;     beyond any MAXPHYADDR (#GP each), xAPIC -> x2APIC, 64 of the x2APIC
;     MSRs 0x800-0x8ff read and written at random (#GP caught), the x2APIC
;     ICR, SELF_IPI and timer MSRs, x2APIC -> xAPIC and -> EXTD alone
;     (#GP), -> disabled, disabled -> x2APIC (#GP), -> xAPIC; a relocation
;     of the xAPIC to unbacked MMIO, a RAM page, the IOAPIC's page or above
;     4 GiB, accesses there and at the old base, and back;
;   - random values to the 8259 pair (0x20, 0x21, 0xa0, 0xa1), the ELCR
;     (0x4d0, 0x4d1), the PIT (0x40-0x43, 0x61), CMOS (0x70, 0x71), the
;     ACPI PM blocks (0x600-0x60b, never PM1_CNT.SLP_EN: that powers off),
;     fw_cfg (0x510, 0x511), and the IOAPIC: registers that are not
;     redirection entries, its EOI register, and random redirection entries
;     (an entry with delivery mode SMI, INIT or a reserved one is sent to a
;     physical APIC ID that no vCPU has: an INIT to the BSP would reset it);
;   - every 4th round, INIT (assert, de-assert) and two SIPIs to the AP,
;     alternately by shorthand and by APIC ID, the IOAPIC masked first (no
;     NMI may reach the AP before it loads its IDT); it must check in again
;     within 500 ms (3 tries).
; Start-up IPIs only ever carry vectors 0x08-0x7f, and each of those pages
; holds a copy of the AP trampoline: an AP that takes a stale one after an
; INIT still comes up. INIT is never sent to the BSP (it would restart at
; the reset vector). The AP, in the meantime, abuses its own APIC the same
; way (no INIT at all) for 1 s, resets it and waits in HLT, interrupts on.
; An interrupt storm (a level-triggered entry whose pin stays active, a
; level IRQ in auto-EOI mode) would stop the guest for good, so a handler
; that sees 500 interrupts in a row at the same EIP masks the IOAPIC, the
; 8259s, the PM and RTC interrupt enables (and counts a storm).
; At the end the BSP quiets the platform, resets its APIC (SVR enabled,
; timer masked, TPR 0), waits for the AP, checks that a self-IPI (0x40) is
; delivered, prints
;   mb_hostile_apic: survived <n> rounds (AP <m> rounds, <r> restarts; <i>
;   interrupts, <x> NMIs, <g> #GPs caught, <s> storms quelled)
; on one line and ends with status 0; else "mb_hostile_apic: FAIL: <what>"
; (also when IA32_APIC_BASE takes a transition the SDM forbids, or refuses
; a valid one) and status 1.

%define GUEST_NAME "mb_hostile_apic"
%define MB_STARTS_APS
%include "mb_common.inc"
%include "mb_apic.inc"

; ---------------------------------------------------------------- limits

%define RUN_MS             1000     ; the BSP's rounds: 1 s of PM time ...
%define MAX_ROUNDS         100000   ; ... or this many, whichever comes first
%define AP_RUN_MS          1000
%define AP_MAX_ROUNDS      100000
%define RESTART_EVERY      4        ; rounds between INIT-SIPI-SIPI of the AP
%define RESTART_TRIES      3
%define RESTART_TIMEOUT_MS 500
%define AP_DONE_TIMEOUT_MS 5000
%define CHECK_TIMEOUT_MS   100
%define STORM_LIMIT        500      ; interrupts in a row at one EIP
%define SEED_BSP           0x2545F491
%define SEED_AP            0x9E3779B9
%define VEC_CHECK          0x40     ; the final self-IPI
%define ODD_ACCESSES       8        ; byte and word accesses per sweep

; ---------------------------------------------------------------- local APIC

; Register offsets in the xAPIC page (SDM Vol. 3A 10.4.1, table 10-1).
%define REG_VERSION        0x030
%define REG_TPR            0x080
%define REG_PPR            0x0A0
%define REG_EOI            0x0B0
%define REG_SVR            0x0F0
%define REG_IRR            0x200
%define REG_ICR_LO         0x300
%define REG_ICR_HI         0x310
%define REG_LVT_TIMER      0x320
%define REG_TIMER_INIT     0x380
%define REG_TIMER_DIV      0x3E0
%define REG_END            0x400    ; 0x3f0 is the last register slot
%define REG_STRIDE         0x10
; Byte and word accesses keep clear of the ICR's low dword: a narrow write
; there is ignored by Keel, but a CPU may send.
%define ODD_AVOID_FIRST    (REG_ICR_LO - 8)
%define ODD_AVOID_SIZE     (REG_STRIDE + 8)
%define ODD_OFFSET_MASK    0x3FF

; Interrupt command register, low dword (SDM 10.6.1, figure 10-12).
%define ICR_DM_SHIFT       8
%define DM_LOWEST          1
%define DM_INIT            5
%define DM_STARTUP         6
%define DM_COUNT           8        ; 111b: ExtINT; 011b reserved
%define ICR_NMI            (4 << ICR_DM_SHIFT)
%define ICR_LOWEST         (DM_LOWEST << ICR_DM_SHIFT)
%define ICR_LOGICAL        (1 << 11)
%define ICR_LEVEL          (1 << 15) ; trigger mode level (with assert clear:
                                    ; INIT level de-assert)
%define ICR_SH_SHIFT       18
%define SHORTHANDS         4        ; none, self, all incl. self, all excl.
%define ICR_ALL_INCL       (2 << ICR_SH_SHIFT)
%define ICR_RESERVED       0xFFF32000 ; bits 13, 16-17, 20-31
%define ICR_RANDOM_BITS    (ICR_RESERVED | ICR_LOGICAL | ICR_LEVEL | ICR_ASSERT | 0xFF)
%define ILLEGAL_VECTORS    0x0F     ; vectors 0-15 (SDM 10.5.2)
%define INIT_DEASSERT      ((DM_INIT << ICR_DM_SHIFT) | ICR_LEVEL)
; Vectors of the interrupts the guest means to receive: 0x20-0xff.
%define FIRST_HIGH_VECTOR  0x20
%define HIGH_VECTORS       0xE0
%define FIRST_LAPIC_VECTOR 16       ; what a LAPIC can deliver (SDM 10.5.2)

; Start-up vectors: pages 0x08000-0x7ffff each start with the trampoline.
%define SAFE_SIPI_FIRST    SIPI_VECTOR
%define SAFE_SIPI_LAST     0x7F
%define SAFE_SIPI_COUNT    (SAFE_SIPI_LAST - SAFE_SIPI_FIRST + 1)
%define PAGE_SHIFT         12
%if ((SAFE_SIPI_LAST + 1) << PAGE_SHIFT) > (BSP_STACK_TOP - 0x10000)
%error "the trampoline copies must stay clear of the BSP's stack"
%endif

; IA32_APIC_BASE (SDM 10.4.4, figure 10-5; 10.12.5 for the x2APIC states).
%define APIC_BASE_RESERVED_BIT (1 << 9)
%define APIC_BASE_ADDR_MASK    0xFFFFF000
%define APIC_BASE_FLAGS        (APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_EN)
%define APIC_BASE_HIGH_BAD     0xFFF00000 ; bits 63:52: beyond any MAXPHYADDR
%define RELOC_UNBACKED         0xFED00000 ; neither RAM nor a device
%define RELOC_HIGH             1          ; EDX: 4 GiB + 0xfee00000
%define RELOC_TARGETS          4

; x2APIC MSRs (SDM 10.12.1.2, table 10-6).
%define X2APIC_FIRST       0x800
%define X2APIC_COUNT       0x100
%define X2APIC_SWEEP       64       ; MSRs per round: all of them in 4 rounds
%define X2APIC_TPR         X2APIC_MSR(REG_TPR)
%define X2APIC_SVR         X2APIC_MSR(REG_SVR)
%define X2APIC_ICR         X2APIC_MSR(REG_ICR_LO) ; 0x830, 64 bits
%define X2APIC_LVT_TIMER   X2APIC_MSR(REG_LVT_TIMER)
%define X2APIC_TIMER_INIT  X2APIC_MSR(REG_TIMER_INIT)
%define X2APIC_TIMER_DIV   X2APIC_MSR(REG_TIMER_DIV)
%define X2APIC_ICR_BIT13   (1 << 13) ; reserved: WRMSR raises #GP (10.12.9)

; Instructions the #GP handler steps over (SDM Vol. 2B).
%define OPC_0F             0x0F
%define OPC_WRMSR          0x30
%define OPC_RDMSR          0x32
%define MSR_INSN_LENGTH    2
%define VEC_NMI            2

; ---------------------------------------------------------------- IOAPIC

%define IOAPIC_BASE_PAGE   0xFEC00000 ; the platform's (docs/vmm.md)
%define IOAPIC_EOI_REG     0x40     ; version 0x20 (ICH) EOI register
%define IOAPIC_PINS        24
%define IOAPIC_REGS        0x100    ; IOREGSEL selects 0-0xff
%define RTE_REGS_FIRST     IOAPIC_REG_RTE(0)
%define RTE_REGS_COUNT     (2 * IOAPIC_PINS)
%define NOT_RTE_FLIP       0x80     ; 0x10-0x3f -> 0x90-0xbf: no register
%define RTE_DM_SHIFT       8
%define RTE_LOGICAL        (1 << 11)
; Delivery modes sent nowhere: SMI (010b), reserved (011b), INIT (101b),
; reserved (110b, a start-up IPI if passed on as it is).
%define RTE_DM_NOWHERE     ((1 << 2) | (1 << 3) | (1 << 5) | (1 << 6))
%define NOWHERE_FIRST_ID   2        ; physical APIC IDs 2-0xfe: no vCPU
%define NOWHERE_IDS        0xFD     ; (0xff is the broadcast)
%define RAW_WRITES         4        ; per round: non-RTE registers
%define RTE_WRITES         4        ; per round: random entries

; ---------------------------------------------------------------- ports

; What the quieting writes (8259A datasheet ICW1-4/OCW1; PIIX ELCR; ACPI
; 4.8.3.1 PM1 status/enable; MC146818A registers B and C).
%define ELCR1              0x4D0
%define ELCR2              0x4D1
%define PIC_ICW2_MASTER    0x20
%define PIC_ICW2_SLAVE     0x28
%define PM1_STS            0x600
%define PM1_EN             0x602
%define PM1_STS_ALL        0xFFFF   ; write 1 to clear
%define CMOS_INDEX         0x70
%define CMOS_DATA          0x71
%define RTC_REG_B          0x0B
%define RTC_REG_C          0x0C     ; reading it clears the flags
%define RTC_B_24H          0x02     ; no interrupt enables
%define PIT_PORT_61        0x61     ; gate 2, speaker, refresh toggle
%define PM1_CNT            0x604
%define SLP_EN_BIT         13       ; PM1_CNT: sleep enable (ACPI 4.8.3.2.1)
%define PORT_ENTRY_SIZE    8        ; port_table: port, size, clear mask

; ---------------------------------------------------------------- per CPU

%define MODE_XAPIC         0        ; registers at .base (0: out of reach)
%define MODE_X2APIC        1

struc PC
.mode:      resd 1
.base:      resd 1
.rng:       resd 1                  ; xorshift32 state
.rounds:    resd 1
.ints:      resd 1                  ; interrupts (any vector but NMI)
.nmis:      resd 1
.gps:       resd 1                  ; #GPs of WRMSR/RDMSR stepped over
.storms:    resd 1
.last_eip:  resd 1                  ; the storm detector
.same:      resd 1
.guard:     resd 1                  ; storm detector on
.scratch:   resd 1                  ; a RAM page to relocate the APIC to
endstruc

; WRMSR_GP "what": the WRMSR must raise #GP (and be stepped over).
%macro WRMSR_GP 1
    mov ebx, [ebp + PC.gps]
    wrmsr
    cmp [ebp + PC.gps], ebx
    CHECK ne, %1
%endmacro

; WRMSR_OK "what": the WRMSR must not raise #GP.
%macro WRMSR_OK 1
    mov ebx, [ebp + PC.gps]
    wrmsr
    cmp [ebp + PC.gps], ebx
    CHECK e, %1
%endmacro

bits 32
org LOAD_ADDR
    MB_ADDRESS_HEADER

start:
    MB_APIC_START
    call acpi_init
    call pm_init
    call madt_scan
    cmp dword [lapic_count], 2
    CHECK e, "the MADT lists two local APICs (cpus = 2)"
    call hostile_idt_install
    mov ebp, percpu_bsp
    mov dword [ebp + PC.rng], SEED_BSP
    mov dword [ebp + PC.scratch], reloc_page_bsp
    mov dword [percpu_ap + PC.rng], SEED_AP
    mov dword [percpu_ap + PC.scratch], reloc_page_ap
    call copy_trampolines
    cli
    call sync_mode
    sti
    call lapic_sw_enable
    call smp_start
    cmp eax, 1
    CHECK e, "the AP started"
    mov eax, 1
    mov ebx, [bsp_id]
    cmp bl, [lapic_ids]
    je .ap_id                           ; the BSP first: the AP second
    dec eax
.ap_id:
    movzx eax, byte [lapic_ids + eax]
    mov [ap_id], eax
    call bsp_rounds
    call finish
    GPRINT "survived "
    mov eax, [percpu_bsp + PC.rounds]
    call put_dec
    PRINT " rounds (AP "
    mov eax, [percpu_ap + PC.rounds]
    call put_dec
    PRINT " rounds, "
    mov eax, [restarts]
    call put_dec
    PRINT " restarts; "
    mov eax, [percpu_bsp + PC.ints]
    add eax, [percpu_ap + PC.ints]
    call put_dec
    PRINT " interrupts, "
    mov eax, [percpu_bsp + PC.nmis]
    add eax, [percpu_ap + PC.nmis]
    call put_dec
    PRINT " NMIs, "
    mov eax, [percpu_bsp + PC.gps]
    add eax, [percpu_ap + PC.gps]
    call put_dec
    PRINT " #GPs caught, "
    mov eax, [percpu_bsp + PC.storms]
    add eax, [percpu_ap + PC.storms]
    call put_dec
    PRINT ` storms quelled)\n`
    mov al, 0
    jmp exit_vm

; bsp_rounds: the BSP's rounds, until RUN_MS of PM time or MAX_ROUNDS.
bsp_rounds:
    call pm_read
    mov [t0], eax
    mov dword [ebp + PC.guard], 1
    sti
.round:
    call lapic_abuse
    call x2apic_games
    call relocate_games
    call platform_abuse
    mov eax, [ebp + PC.rounds]
    xor edx, edx
    mov ecx, RESTART_EVERY
    div ecx
    cmp edx, RESTART_EVERY - 1
    jne .counted
    call restart_ap
.counted:
    inc dword [ebp + PC.rounds]
    cmp dword [ebp + PC.rounds], MAX_ROUNDS
    jae .done
    mov ebx, [t0]
    call pm_elapsed
    cmp eax, MS_TO_PM(RUN_MS)
    jb .round
.done:
    mov dword [ebp + PC.guard], 0
    ret

; finish: a quiet platform and a sane local APIC; the AP done; a self-IPI
; must still be delivered.
finish:
    cli
    call quiesce_platform
    call lapic_reset_sane
    sti
    WAIT_FOR ap_done, 1, AP_DONE_TIMEOUT_MS
    CHECK nc, "the AP finished its rounds within 5 s"
    mov eax, [LAPIC_VERSION]
    cmp al, 0x14
    CHECK e, "after the abuse the LAPIC version register reads 0x14"
    call lapic_id
    cmp eax, [bsp_id]
    CHECK e, "after the abuse the LAPIC ID is the BSP's"
    SET_GATE VEC_CHECK, check_handler
    mov dword [LAPIC_ICR_LO], ICR_SELF | ICR_FIXED | VEC_CHECK
    WAIT_FOR check_hits, 1, CHECK_TIMEOUT_MS
    CHECK nc, "after the abuse a self-IPI (vector 0x40) is delivered"
    cli
    ret

check_handler:
    lock inc dword [check_hits]
    mov dword [LAPIC_EOI], 0
    iret

; ap_main: the AP (after every INIT-SIPI too): its APIC back to a sane
; state, then rounds on its own APIC until AP_RUN_MS from its first start
; or AP_MAX_ROUNDS; then done, in HLT with interrupts on.
ap_main:
    mov dword [ap_stack_next], 0        ; a restart takes the same stack
    mov ebp, percpu_ap
    mov dword [ebp + PC.guard], 0
    call lapic_reset_sane
    cmp dword [ap_done], 0
    jne .park
    cmp dword [ap_started], 0
    jne .started
    call pm_read
    mov [ap_t0], eax
    mov dword [ap_started], 1
.started:
    mov dword [ebp + PC.guard], 1
    sti
.round:
    call lapic_abuse
    call x2apic_games
    call relocate_games
    inc dword [ebp + PC.rounds]
    cmp dword [ebp + PC.rounds], AP_MAX_ROUNDS
    jae .finish
    mov ebx, [ap_t0]
    call pm_elapsed
    cmp eax, MS_TO_PM(AP_RUN_MS)
    jb .round
.finish:
    mov dword [ebp + PC.guard], 0
    call lapic_reset_sane
    mov dword [ap_done], 1
.park:
    sti
    hlt
    jmp .park

; ---------------------------------------------------------------- the AP

; copy_trampolines: the AP trampoline at the start of every page a start-up
; vector of this guest can name.
copy_trampolines:
    pushad
    mov edx, SAFE_SIPI_FIRST
.page:
    mov esi, trampoline
    mov edi, edx
    shl edi, PAGE_SHIFT
    mov ecx, trampoline_end - trampoline
    rep movsb
    inc edx
    cmp edx, SAFE_SIPI_LAST
    jbe .page
    popad
    ret

; restart_ap (BSP): INIT assert and de-assert, SIPI (the trampoline), 200
; us, SIPI (a random safe vector); the AP must check in again (ap_count).
restart_ap:
    pushad
    mov dword [ebp + PC.guard], 0       ; waits run at one EIP
    call ioapic_mask_all
    mov edi, [ebp + PC.base]
    mov dword [tries], RESTART_TRIES
.try:
    mov ebx, [ap_count]
    xor edx, edx                        ; by APIC ID, or by shorthand
    test dword [restarts], 1
    jz .by_id
    mov edx, ICR_ALL_BUT_SELF
.by_id:
    mov eax, [ap_id]
    shl eax, 24
    mov [edi + REG_ICR_HI], eax
    mov eax, edx
    or eax, ICR_INIT | ICR_ASSERT
    mov [edi + REG_ICR_LO], eax
    mov eax, edx
    or eax, INIT_DEASSERT
    mov [edi + REG_ICR_LO], eax
    mov ecx, MS_TO_PM(1)
    call pm_delay
    mov eax, edx
    or eax, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR
    mov [edi + REG_ICR_LO], eax
    mov ecx, MS_TO_PM(1) / 5            ; 200 us
    call pm_delay
    call safe_sipi_vector
    or eax, edx
    or eax, ICR_STARTUP | ICR_ASSERT
    mov [edi + REG_ICR_LO], eax
    lea eax, [ebx + 1]
    mov esi, ap_count
    mov ecx, RESTART_TIMEOUT_MS
    call wait_until
    jnc .back
    dec dword [tries]
    jnz .try
    FAIL "the AP came back after INIT-SIPI-SIPI (3 tries of 500 ms)"
.back:
    inc dword [restarts]
    mov dword [ebp + PC.guard], 1
    popad
    ret

; ---------------------------------------------------------------- the LAPIC

; lapic_abuse: IPIs, TPR, SVR, timer, every register; then enabled, TPR 0,
; the timer at its fastest. xAPIC mode at PC.base.
lapic_abuse:
    pushad
    mov edi, [ebp + PC.base]
    test edi, edi
    jz .done
    call ipi_abuse
    call tpr_abuse
    call svr_abuse
    call timer_abuse
    call register_sweep
    mov dword [edi + REG_SVR], SVR_ENABLE | SPURIOUS_VECTOR
    mov dword [edi + REG_TPR], 0
    call timer_fastest
.done:
    popad
    ret

; ipi_abuse: every delivery mode but INIT to every shorthand (random
; vector, destination, trigger, level and reserved bits; start-up IPIs with
; a safe vector), INIT level de-asserts, illegal vectors.
ipi_abuse:
    pushad
    xor ebx, ebx                        ; delivery mode
.mode:
    cmp ebx, DM_INIT
    je .next_mode
    xor esi, esi                        ; shorthand
.shorthand:
    call rand
    mov [edi + REG_ICR_HI], eax
    call rand
    and eax, ICR_RANDOM_BITS
    mov edx, eax
    cmp ebx, DM_STARTUP
    jne .vector
    and edx, ~0xFF
    call safe_sipi_vector
    or edx, eax
.vector:
    mov eax, ebx
    shl eax, ICR_DM_SHIFT
    or edx, eax
    mov eax, esi
    shl eax, ICR_SH_SHIFT
    or edx, eax
    mov [edi + REG_ICR_LO], edx
    inc esi
    cmp esi, SHORTHANDS
    jb .shorthand
.next_mode:
    inc ebx
    cmp ebx, DM_COUNT
    jb .mode
    mov dword [edi + REG_ICR_LO], INIT_DEASSERT | ICR_ALL_INCL
    mov dword [edi + REG_ICR_LO], INIT_DEASSERT | ICR_ALL_BUT_SELF
    call rand
    and eax, ILLEGAL_VECTORS
    or eax, ICR_SELF | ICR_FIXED
    mov [edi + REG_ICR_LO], eax
    call rand
    and eax, ILLEGAL_VECTORS
    or eax, ICR_ALL_BUT_SELF | ICR_LOWEST
    mov [edi + REG_ICR_LO], eax
    popad
    ret

; tpr_abuse: TPR 0xff holds a self-IPI back; TPR 0 lets it in.
tpr_abuse:
    push eax
    mov dword [edi + REG_TPR], 0xFF
    call rand_high_vector
    or eax, ICR_SELF | ICR_FIXED
    mov [edi + REG_ICR_LO], eax
    mov eax, [edi + REG_PPR]
    mov eax, [edi + REG_IRR + 7 * REG_STRIDE]
    mov dword [edi + REG_TPR], 0
    pop eax
    ret

; svr_abuse: software disable (a random SVR with bit 8 clear), a self-IPI
; to the disabled APIC, enable with a random spurious vector.
svr_abuse:
    push eax
    call rand
    and eax, ~SVR_ENABLE
    mov [edi + REG_SVR], eax
    call rand_high_vector
    or eax, ICR_SELF | ICR_FIXED
    mov [edi + REG_ICR_LO], eax
    mov eax, [edi + REG_SVR]
    call rand
    or eax, SVR_ENABLE
    mov [edi + REG_SVR], eax
    pop eax
    ret

; timer_abuse: one-shot at count 1; TSC-deadline mode with a deadline in
; the past, then a random one (and an initial count, ignored there); a
; random divide configuration; then timer_fastest.
timer_abuse:
    pushad
    mov dword [edi + REG_TIMER_DIV], TIMER_DIV_1
    call rand
    movzx eax, al
    or eax, LVT_ONE_SHOT
    mov [edi + REG_LVT_TIMER], eax
    mov dword [edi + REG_TIMER_INIT], 1
    call rand
    movzx eax, al
    or eax, LVT_TSC_DEADLINE
    mov [edi + REG_LVT_TIMER], eax
    mov ecx, IA32_TSC_DEADLINE
    rdtsc
    wrmsr                               ; due at once
    call rand
    mov edx, eax
    call rand
    wrmsr                               ; whenever
    mov dword [edi + REG_TIMER_INIT], 1
    call rand
    mov [edi + REG_TIMER_DIV], eax
    call timer_fastest
    popad
    ret

; timer_fastest: periodic, divide by 1, initial count 1, a random vector of
; 0x20-0xff (Keel's floor: 100 us).
timer_fastest:
    push eax
    mov dword [edi + REG_TIMER_DIV], TIMER_DIV_1
    call rand_high_vector
    or eax, LVT_PERIODIC
    mov [edi + REG_LVT_TIMER], eax
    mov dword [edi + REG_TIMER_INIT], 1
    pop eax
    ret

; register_sweep: a random value to each register slot 0x000-0x3f0 but
; the ICR's low dword, each read back; byte and word writes and reads at
; random offsets (away from the ICR).
register_sweep:
    pushad
    xor esi, esi
.slot:
    cmp esi, REG_ICR_LO
    je .next
    call rand
    mov [edi + esi], eax
    mov eax, [edi + esi]
.next:
    add esi, REG_STRIDE
    cmp esi, REG_END
    jb .slot
    mov ecx, ODD_ACCESSES
.odd:
    call rand
    mov esi, eax
    and esi, ODD_OFFSET_MASK
    lea edx, [esi - ODD_AVOID_FIRST]
    cmp edx, ODD_AVOID_SIZE
    jb .odd_next
    mov [edi + esi], al
    movzx edx, byte [edi + esi]
    mov [edi + esi], ax
    movzx edx, word [edi + esi]
.odd_next:
    loop .odd
    popad
    ret

; x2apic_games: invalid IA32_APIC_BASE writes (#GP), xAPIC -> x2APIC, the
; x2APIC MSRs, invalid ways out (#GP), x2APIC -> disabled -> xAPIC.
; Leaves the APIC in xAPIC mode at the default base, software-enabled.
x2apic_games:
    pushad
    cli
    mov ecx, IA32_APIC_BASE
    rdmsr
    mov esi, eax
    mov edi, edx
    and eax, ~APIC_BASE_EN
    or eax, APIC_BASE_EXTD
    WRMSR_GP "IA32_APIC_BASE: EXTD without EN raises #GP"
    mov eax, esi
    or eax, APIC_BASE_RESERVED_BIT
    mov edx, edi
    WRMSR_GP "IA32_APIC_BASE: reserved bit 9 raises #GP"
    mov eax, esi
    mov edx, APIC_BASE_HIGH_BAD
    WRMSR_GP "IA32_APIC_BASE: an address beyond MAXPHYADDR raises #GP"
    mov eax, esi
    or eax, APIC_BASE_EXTD
    mov edx, edi
    WRMSR_OK "IA32_APIC_BASE: xAPIC -> x2APIC is accepted"
    call sync_mode
    cmp dword [ebp + PC.mode], MODE_X2APIC
    CHECK e, "IA32_APIC_BASE reads x2APIC mode after the switch"
    mov eax, [LAPIC_VERSION]            ; no xAPIC page now: unbacked MMIO
    mov ecx, X2APIC_SVR
    mov eax, SVR_ENABLE | SPURIOUS_VECTOR
    xor edx, edx
    WRMSR_OK "x2APIC: SVR (MSR 0x80f) takes a valid value"
    sti
    call x2apic_msr_abuse
    cli
    mov ecx, IA32_APIC_BASE
    rdmsr
    mov esi, eax
    mov edi, edx
    and eax, ~APIC_BASE_EXTD
    WRMSR_GP "IA32_APIC_BASE: x2APIC -> xAPIC directly raises #GP"
    mov eax, esi
    and eax, ~APIC_BASE_EN
    mov edx, edi
    WRMSR_GP "IA32_APIC_BASE: x2APIC -> EXTD without EN raises #GP"
    mov eax, esi
    and eax, ~(APIC_BASE_EN | APIC_BASE_EXTD)
    mov edx, edi
    WRMSR_OK "IA32_APIC_BASE: x2APIC -> disabled is accepted"
    call sync_mode
    mov eax, esi
    mov edx, edi
    WRMSR_GP "IA32_APIC_BASE: disabled -> x2APIC raises #GP"
    mov eax, esi
    and eax, ~APIC_BASE_EXTD
    mov edx, edi
    WRMSR_OK "IA32_APIC_BASE: disabled -> xAPIC is accepted"
    call sync_mode
    mov edi, [ebp + PC.base]
    cmp edi, LAPIC_BASE
    CHECK e, "IA32_APIC_BASE: back in xAPIC mode at 0xfee00000"
    mov dword [edi + REG_SVR], SVR_ENABLE | SPURIOUS_VECTOR
    sti
    popad
    ret

; x2apic_msr_abuse (x2APIC mode): 64 MSRs of 0x800-0x8ff (a new range each
; round) read and written with random values, the ICR excepted; then the
; ICR MSR by the rules of ipi_abuse (a reserved bit: #GP), SELF_IPI and
; TSC_DEADLINE at random, TPR 0xff and back, the timer at its fastest.
x2apic_msr_abuse:
    pushad
    mov esi, [ebp + PC.rounds]
    and esi, X2APIC_COUNT / X2APIC_SWEEP - 1
    imul esi, esi, X2APIC_SWEEP
    add esi, X2APIC_FIRST
    lea edi, [esi + X2APIC_SWEEP]
.msr:
    mov ecx, esi
    rdmsr
    cmp ecx, X2APIC_ICR
    je .next
    call rand
    mov edx, eax
    call rand
    test dl, 1
    jz .write
    xor edx, edx                        ; half of them with a clean high dword
.write:
    wrmsr
.next:
    inc esi
    cmp esi, edi
    jb .msr
    mov ecx, X2APIC_ICR
    call rand_high_vector
    or eax, ICR_SELF | X2APIC_ICR_BIT13
    xor edx, edx
    WRMSR_GP "x2APIC: an ICR write with reserved bit 13 raises #GP"
    call rand_high_vector
    or eax, ICR_SELF | ICR_FIXED
    wrmsr
    call rand
    and eax, ILLEGAL_VECTORS
    or eax, ICR_SELF | ICR_FIXED
    wrmsr
    mov eax, ICR_ALL_BUT_SELF | ICR_NMI
    wrmsr
    call rand_high_vector
    or eax, ICR_ALL_INCL | ICR_LOWEST
    wrmsr
    call rand
    mov edx, eax                        ; any 32-bit destination
    call rand_high_vector
    or eax, ICR_FIXED
    wrmsr
    call safe_sipi_vector
    or eax, ICR_ALL_BUT_SELF | ICR_STARTUP | ICR_ASSERT
    xor edx, edx
    wrmsr
    mov eax, INIT_DEASSERT | ICR_ALL_INCL
    wrmsr
    mov ecx, X2APIC_SELF_IPI
    call rand
    wrmsr
    mov ecx, IA32_TSC_DEADLINE
    call rand
    mov edx, eax
    call rand
    wrmsr
    xor edx, edx
    mov ecx, X2APIC_TPR
    mov eax, 0xFF
    wrmsr
    xor eax, eax
    wrmsr
    mov ecx, X2APIC_TIMER_DIV
    mov eax, TIMER_DIV_1
    wrmsr
    mov ecx, X2APIC_LVT_TIMER
    call rand_high_vector
    or eax, LVT_PERIODIC
    wrmsr
    mov ecx, X2APIC_TIMER_INIT
    mov eax, 1
    wrmsr
    popad
    ret

; relocate_games (xAPIC at the default base): IA32_APIC_BASE to one of
; RELOC_TARGETS (unbacked MMIO, this CPU's RAM page, the IOAPIC's page --
; interrupts off while the IOAPIC is hidden --, above 4 GiB); the old base
; read and written, the new one used (SVR, version, self-IPIs, the timer);
; back to 0xfee00000. x2APIC MSRs in xAPIC mode raise #GP.
relocate_games:
    pushad
    mov ecx, X2APIC_ID
    mov ebx, [ebp + PC.gps]
    rdmsr
    cmp [ebp + PC.gps], ebx
    CHECK ne, "x2APIC: RDMSR 0x802 in xAPIC mode raises #GP"
    call rand
    xor edx, edx
    mov ecx, RELOC_TARGETS
    div ecx
    mov eax, RELOC_UNBACKED
    xor ecx, ecx                        ; the target's high dword
    cmp edx, 1
    jb .chosen
    mov eax, [ebp + PC.scratch]
    je .chosen
    mov eax, IOAPIC_BASE_PAGE
    cmp edx, 3
    jb .chosen
    mov eax, LAPIC_BASE
    mov ecx, RELOC_HIGH
.chosen:
    cli
    push eax
    push ecx
    mov ecx, IA32_APIC_BASE
    rdmsr
    mov esi, eax
    and esi, APIC_BASE_FLAGS            ; EN, BSP (and EXTD clear)
    pop edx
    pop eax
    or eax, esi
    WRMSR_OK "IA32_APIC_BASE: relocating the xAPIC is accepted"
    call sync_mode
    mov eax, [LAPIC_VERSION]            ; the old base: not the APIC now
    mov dword [LAPIC_TPR], 0
    mov edi, [ebp + PC.base]
    test edi, edi
    jz .restore
    cmp edi, IOAPIC_BASE_PAGE
    je .hidden
    sti
.hidden:
    mov dword [edi + REG_SVR], SVR_ENABLE | SPURIOUS_VECTOR
    mov eax, [edi + REG_VERSION]
    call rand_high_vector
    or eax, ICR_SELF | ICR_FIXED
    mov [edi + REG_ICR_LO], eax
    mov dword [edi + REG_ICR_LO], ICR_SELF | ICR_NMI
    call timer_fastest
.restore:
    cli
    mov ecx, IA32_APIC_BASE
    mov eax, LAPIC_BASE
    or eax, esi
    xor edx, edx
    WRMSR_OK "IA32_APIC_BASE: back to 0xfee00000 is accepted"
    call sync_mode
    sti
    popad
    ret

; sync_mode: PC.mode and PC.base from IA32_APIC_BASE (interrupts off).
sync_mode:
    push eax
    push ecx
    push edx
    mov ecx, IA32_APIC_BASE
    rdmsr
    mov dword [ebp + PC.mode], MODE_XAPIC
    mov dword [ebp + PC.base], 0
    test eax, APIC_BASE_EN
    jz .done
    test eax, APIC_BASE_EXTD
    jz .xapic
    mov dword [ebp + PC.mode], MODE_X2APIC
    jmp .done
.xapic:
    test edx, edx
    jnz .done                           ; above 4 GiB: out of reach
    and eax, APIC_BASE_ADDR_MASK
    mov [ebp + PC.base], eax
.done:
    pop edx
    pop ecx
    pop eax
    ret

; lapic_reset_sane: from any state, IA32_APIC_BASE -> disabled -> xAPIC at
; 0xfee00000 (the APIC in its reset state: timer masked, TPR 0, IRR and
; ISR empty), then software-enabled.
lapic_reset_sane:
    pushfd
    cli
    pushad
    mov ecx, IA32_APIC_BASE
    xor eax, eax
    xor edx, edx
    WRMSR_OK "IA32_APIC_BASE: -> disabled is accepted from any mode"
    mov eax, LAPIC_BASE | APIC_BASE_EN
    WRMSR_OK "IA32_APIC_BASE: disabled -> xAPIC at 0xfee00000 is accepted"
    call sync_mode
    cmp dword [ebp + PC.base], LAPIC_BASE
    CHECK e, "IA32_APIC_BASE reads xAPIC at 0xfee00000 after a reset"
    mov dword [LAPIC_SVR], SVR_ENABLE | SPURIOUS_VECTOR
    popad
    popfd
    ret

; ---------------------------------------------------------------- platform

; platform_abuse (BSP): each port of port_table written with a random value
; of its size (less its clear mask) and read back; then the IOAPIC.
platform_abuse:
    pushad
    mov esi, port_table
.port:
    movzx edx, word [esi]
    call rand
    mov ebx, [esi + 4]
    not ebx
    and eax, ebx
    cmp byte [esi + 2], 2
    je .word
    ja .dword
    out dx, al
    in al, dx
    jmp .next
.word:
    out dx, ax
    in ax, dx
    jmp .next
.dword:
    out dx, eax
    in eax, dx
.next:
    add esi, PORT_ENTRY_SIZE
    cmp esi, port_table_end
    jb .port
    call ioapic_abuse
    popad
    ret

; PORT port, size, clear: an entry of port_table; clear has the bits of
; the value never written (PM1_CNT.SLP_EN wherever the access covers 0x605).
%macro PORT 3
    dw %1
    db %2, 0
    dd %3
%endmacro
%macro PM_PORT 2
%if (%1) <= PM1_CNT + 1 && (%1) + (%2) > PM1_CNT + 1
    PORT %1, %2, 1 << (SLP_EN_BIT - 8 + 8 * (PM1_CNT + 1 - (%1)))
%else
    PORT %1, %2, 0
%endif
%endmacro

port_table:
    PORT PIC1_CMD, 1, 0
    PORT PIC1_DATA, 1, 0
    PORT PIC2_CMD, 1, 0
    PORT PIC2_DATA, 1, 0
    PORT PIC1_CMD, 2, 0                 ; 0x20 and 0x21 as two bytes
    PORT ELCR1, 1, 0
    PORT ELCR2, 1, 0
    PORT PIT_CMD, 1, 0
    PORT PIT_CH0, 1, 0
    PORT PIT_CH0, 1, 0
    PORT PIT_CH0 + 1, 1, 0
    PORT PIT_CH0 + 2, 1, 0
    PORT PIT_CMD, 1, 0
    PORT PIT_CH0 + 2, 1, 0
    PORT PIT_CH0, 2, 0
    PORT PIT_PORT_61, 1, 0
    PORT CMOS_INDEX, 1, 0
    PORT CMOS_DATA, 1, 0
    PORT CMOS_INDEX, 1, 0
    PORT CMOS_DATA, 1, 0
    PORT CMOS_INDEX, 2, 0
%assign pm_io PM1_STS
%rep 12
    PM_PORT pm_io, 1
    PM_PORT pm_io, 2
    PM_PORT pm_io, 4
%assign pm_io pm_io + 1
%endrep
    PORT FW_CFG_SELECTOR, 2, 0
    PORT FW_CFG_DATA, 1, 0
    PORT FW_CFG_SELECTOR, 1, 0
    PORT FW_CFG_DATA, 2, 0
port_table_end:

; ioapic_abuse (BSP): random values to registers that are not redirection
; entries, a random EOI, random redirection entries.
ioapic_abuse:
    pushad
    mov edi, [ioapic_addr]
    mov ecx, RAW_WRITES
.raw:
    call rand
    movzx ebx, al
    lea edx, [ebx - RTE_REGS_FIRST]
    cmp edx, RTE_REGS_COUNT
    jae .not_rte
    xor ebx, NOT_RTE_FLIP
.not_rte:
    mov [edi + IOAPIC_REGSEL], ebx
    call rand
    mov [edi + IOAPIC_WIN], eax
    mov eax, [edi + IOAPIC_WIN]
    loop .raw
    call rand
    mov [edi + IOAPIC_EOI_REG], eax
    mov [edi + IOAPIC_REGSEL + 1], al   ; a byte: ignored
    mov ecx, RTE_WRITES
.rte:
    call rand
    xor edx, edx
    mov ebx, IOAPIC_PINS
    div ebx
    call rte_random
    loop .rte
    popad
    ret

; rte_random: redirection entry EDX (IOAPIC at EDI): masked, then a random
; high dword, then a random low dword. SMI, INIT and the reserved modes go
; to a physical APIC ID of no vCPU.
rte_random:
    pushad
    lea ebx, [RTE_REGS_FIRST + edx * 2]
    call rand
    mov esi, eax                        ; low dword
    call rand
    mov ecx, eax                        ; high dword
    mov eax, esi
    shr eax, RTE_DM_SHIFT
    and eax, DM_COUNT - 1
    mov edx, RTE_DM_NOWHERE
    bt edx, eax
    jnc .write
    and esi, ~RTE_LOGICAL
    call rand
    xor edx, edx
    mov ecx, NOWHERE_IDS
    div ecx
    lea ecx, [edx + NOWHERE_FIRST_ID]
    shl ecx, RTE_DEST_SHIFT
.write:
    mov [edi + IOAPIC_REGSEL], ebx
    mov dword [edi + IOAPIC_WIN], RTE_MASKED
    inc ebx
    mov [edi + IOAPIC_REGSEL], ebx
    mov [edi + IOAPIC_WIN], ecx
    dec ebx
    mov [edi + IOAPIC_REGSEL], ebx
    mov [edi + IOAPIC_WIN], esi
    mov eax, [edi + IOAPIC_WIN]
    popad
    ret

; ioapic_mask_all: every redirection entry masked (fixed, edge).
ioapic_mask_all:
    pushad
    mov edi, [ioapic_addr]
    mov ebx, RTE_REGS_FIRST
.pin:
    mov [edi + IOAPIC_REGSEL], ebx
    mov dword [edi + IOAPIC_WIN], RTE_MASKED
    add ebx, 2
    cmp ebx, RTE_REGS_FIRST + RTE_REGS_COUNT
    jb .pin
    popad
    ret

; quiesce_platform: no interrupt source left on: the IOAPIC masked, both
; 8259s initialized with every input masked and edge-triggered, PM1
; enables off (status cleared), RTC interrupt enables off (flags read).
quiesce_platform:
    pushad
    call ioapic_mask_all
    mov al, PIC_ICW1
    out PIC1_CMD, al
    out PIC2_CMD, al
    mov al, PIC_ICW2_MASTER
    out PIC1_DATA, al
    mov al, PIC_ICW2_SLAVE
    out PIC2_DATA, al
    mov al, PIC_ICW3_MASTER
    out PIC1_DATA, al
    mov al, PIC_ICW3_SLAVE
    out PIC2_DATA, al
    mov al, PIC_ICW4
    out PIC1_DATA, al
    out PIC2_DATA, al
    mov al, PIC_MASK_ALL
    out PIC1_DATA, al
    out PIC2_DATA, al
    xor eax, eax
    mov dx, ELCR1
    out dx, al
    mov dx, ELCR2
    out dx, al
    mov dx, PM1_EN
    out dx, ax
    mov ax, PM1_STS_ALL
    mov dx, PM1_STS
    out dx, ax
    mov al, RTC_REG_B
    out CMOS_INDEX, al
    mov al, RTC_B_24H
    out CMOS_DATA, al
    mov al, RTC_REG_C
    out CMOS_INDEX, al
    in al, CMOS_DATA
    popad
    ret

; ---------------------------------------------------------------- helpers

; rand: EAX = the next xorshift32 value of this CPU (Marsaglia 2003).
rand:
    push edx
    mov eax, [ebp + PC.rng]
    mov edx, eax
    shl edx, 13
    xor eax, edx
    mov edx, eax
    shr edx, 17
    xor eax, edx
    mov edx, eax
    shl edx, 5
    xor eax, edx
    mov [ebp + PC.rng], eax
    pop edx
    ret

; rand_below: EAX = a random number below ECX.
rand_below:
    push edx
    call rand
    xor edx, edx
    div ecx
    mov eax, edx
    pop edx
    ret

; rand_high_vector: EAX = a random vector of 0x20-0xff.
rand_high_vector:
    push ecx
    mov ecx, HIGH_VECTORS
    call rand_below
    add eax, FIRST_HIGH_VECTOR
    pop ecx
    ret

; safe_sipi_vector: EAX = a random start-up vector whose page holds the
; trampoline.
safe_sipi_vector:
    push ecx
    mov ecx, SAFE_SIPI_COUNT
    call rand_below
    add eax, SAFE_SIPI_FIRST
    pop ecx
    ret

; ---------------------------------------------------------------- vectors

; hostile_idt_install: every vector to its stub in hostile_stubs.
hostile_idt_install:
    pushad
    xor ecx, ecx
.gate:
    mov eax, ecx
    imul eax, eax, IDT_STUB_SIZE
    add eax, hostile_stubs
    call idt_set_gate
    inc ecx
    cmp ecx, 256
    jb .gate
    popad
    ret

hostile_stubs:
%assign hvec 0
%rep 256
    push strict dword hvec
    jmp strict near hostile_common
%assign hvec hvec + 1
%endrep
hostile_stubs_end:
    STATIC_ASSERT hostile_stubs_end - hostile_stubs == 256 * IDT_STUB_SIZE

; hostile_common: [esp] the vector, then the CPU's frame. An exception with
; an error code is told apart by what follows the first slot: the error
; code's frame has EIP there, an interrupt's frame has CS (CODE_SEL; EIP is
; never that small). With an error code only a #GP of WRMSR or RDMSR is
; expected (stepped over); an NMI is counted; any other vector is an
; interrupt (external interrupts of vectors 0-31 from a misprogrammed 8259
; or IOAPIC included): counted, an EOI for vectors a LAPIC can deliver, and
; the storm detector.
hostile_common:
    push eax
    push ecx
    push edx
    push ebx
    mov ebx, percpu_bsp                 ; which CPU: by the stack
    cmp esp, ap_stacks
    jb .cpu
    mov ebx, percpu_ap
.cpu:
    mov eax, [esp + 16]
    cmp dword [esp + 24], CODE_SEL
    jne .error_code
    cmp eax, VEC_NMI
    je .nmi
    lock inc dword [ebx + PC.ints]
    cmp eax, FIRST_LAPIC_VECTOR
    jb .storm
    call eoi
.storm:
    cmp dword [ebx + PC.guard], 0
    je .done
    mov eax, [esp + 20]                 ; the interrupted EIP
    cmp eax, [ebx + PC.last_eip]
    mov [ebx + PC.last_eip], eax
    jne .moved
    inc dword [ebx + PC.same]
    cmp dword [ebx + PC.same], STORM_LIMIT
    jb .done
    call quiesce_platform
    lock inc dword [ebx + PC.storms]
.moved:
    mov dword [ebx + PC.same], 0
    jmp .done
.nmi:
    lock inc dword [ebx + PC.nmis]
.done:
    pop ebx
    pop edx
    pop ecx
    pop eax
    add esp, 4                          ; the vector
    iret
.error_code:
    cmp eax, VEC_GP
    jne .unexpected
    mov ecx, [esp + 24]                 ; the faulting instruction
    cmp byte [ecx], OPC_0F
    jne .unexpected
    cmp byte [ecx + 1], OPC_WRMSR
    je .step_over
    cmp byte [ecx + 1], OPC_RDMSR
    jne .unexpected
.step_over:
    add dword [esp + 24], MSR_INSN_LENGTH
    lock inc dword [ebx + PC.gps]
    pop ebx
    pop edx
    pop ecx
    pop eax
    add esp, 8                          ; the vector, the error code
    iret
.unexpected:
    pop ebx
    pop edx
    pop ecx
    pop eax
    jmp unexpected_vector

; eoi: an EOI to this CPU's APIC (EBX: its PC) in its current mode: the
; x2APIC EOI MSR, the xAPIC EOI register where the page is now, or none.
eoi:
    cmp dword [ebx + PC.mode], MODE_X2APIC
    je .x2apic
    mov eax, [ebx + PC.base]
    test eax, eax
    jz .done
    mov dword [eax + REG_EOI], 0
.done:
    ret
.x2apic:
    mov ecx, X2APIC_EOI
    xor eax, eax
    xor edx, edx
    wrmsr
    ret

    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
t0:              resd 1
ap_t0:           resd 1
ap_started:      resd 1
ap_done:         resd 1
ap_id:           resd 1
restarts:        resd 1
tries:           resd 1
check_hits:      resd 1
percpu_bsp:      resb PC_size
percpu_ap:       resb PC_size
alignb 4096
reloc_page_bsp:  resb 4096
reloc_page_ap:   resb 4096
bss_end:
