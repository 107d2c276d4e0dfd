; mb_ipibench: a multiboot1 guest (address fields, 2 or more vCPUs) for
; make bench. It starts the APs (as mb_smp), then times with RDTSC (which
; counts instructions under QEMU -icount shift=0 and Bochs clock: sync=none):
;   - IPIs: 1000 ping-pongs (one untimed pass first): the BSP sends a fixed
;     IPI (vector 0x40) to the first AP, which idles in HLT; its handler
;     EOIs and answers with vector 0x41; the BSP spins (IF = 1) until the
;     answer's handler ran. Round trip = TSC ticks per ping-pong, one way
;     its half (an AP woken from HLT included);
;   - the timer: 200 times the TSC-deadline timer at TSC + 100000; the
;     handler reads RDTSC first thing; expiry-to-handler = that minus the
;     deadline, averaged, once with the BSP spinning (IF = 1) and once with
;     it halted in HLT.
; It prints
;   bench-ipi: one-way <N/2>, round-trip <N>
;   bench-timer: expiry-to-handler <T>, from HLT <H>
; and ends with status 0, or "mb_ipibench: FAIL: <what>" and status 1.

%define GUEST_NAME "mb_ipibench"
%define MB_STARTS_APS
%include "mb_common.inc"
%include "mb_apic.inc"

%define VEC_PING          0x40
%define VEC_REPLY         0x41
%define VEC_DEADLINE      0x32
%define PINGS             1000
%define TIMER_ROUNDS      200
%define TIMER_DELTA       100000    ; TSC ticks from arming to the deadline
%define REPLY_TIMEOUT_MS  2000

bits 32
org LOAD_ADDR
    MB_ADDRESS_HEADER

start:
    MB_APIC_START
    call acpi_init
    call pm_init
    call madt_scan
    call fw_cfg_cpus
    cmp eax, [lapic_count]
    CHECK e, "fw_cfg's CPU count equals the MADT's enabled local APICs"
    cmp eax, 2
    CHECK ae, "at least 2 CPUs"
    SET_GATE VEC_PING, ping_handler
    SET_GATE VEC_REPLY, reply_handler
    SET_GATE VEC_DEADLINE, deadline_handler
    call lapic_sw_enable
    call smp_start
    inc eax
    cmp eax, [lapic_count]
    CHECK e, "every CPU of the MADT started"
    call first_ap
    sti
    call ping_pong                      ; warm-up
    call ping_pong
    push eax
    PRINT "bench-ipi: one-way "
    shr eax, 1
    call put_dec
    PRINT ", round-trip "
    pop eax
    call put_dec
    PRINT `\n`
    call timer_benches
    mov al, 0
    jmp exit_vm

; first_ap: ap_target = the first APIC ID of the MADT that is not the BSP.
first_ap:
    xor ebx, ebx
.cpu:
    movzx eax, byte [lapic_ids + ebx]
    inc ebx
    cmp eax, [bsp_id]
    je .cpu
    mov [ap_target], eax
    ret

; ping_pong: EAX = TSC ticks per ping-pong with ap_target, over PINGS.
ping_pong:
    lfence
    rdtsc
    lfence
    mov [t0], eax
    mov [t0 + 4], edx
    mov ebx, PINGS
.round:
    mov eax, [replies]
    inc eax
    push eax
    mov eax, ICR_FIXED | VEC_PING
    mov edx, [ap_target]
    call send_ipi
    pop eax
    mov esi, replies
    call spin_until
    dec ebx
    jnz .round
    lfence
    rdtsc
    lfence
    sub eax, [t0]
    sbb edx, [t0 + 4]
    mov ecx, PINGS
    div ecx
    ret

; spin_until: spins (IF as it is) until the dword at ESI is at least EAX.
; The PM timer is read only after SPIN_QUIET spins, so a quick answer costs
; no exit; fails after REPLY_TIMEOUT_MS.
%define SPIN_QUIET 65536
spin_until:
    push ebx
    push ecx
    push edx
    mov edx, eax
    xor ebx, ebx                        ; PM start, once taken
.quiet:
    mov ecx, SPIN_QUIET
.spin:
    cmp [esi], edx
    jae .done
    pause
    dec ecx
    jnz .spin
    test ebx, ebx
    jnz .check
    call pm_read
    mov ebx, eax
    or ebx, 1                           ; non-zero: taken (1 tick off is fine)
    jmp .quiet
.check:
    call pm_elapsed
    cmp eax, MS_TO_PM(REPLY_TIMEOUT_MS)
    jb .quiet
    FAIL "an IPI or timer interrupt came within 2 s"
.done:
    mov eax, edx
    pop edx
    pop ecx
    pop ebx
    ret

timer_benches:
    mov eax, 1
    cpuid
    test ecx, CPUID1_ECX_TSC_DEADLINE
%ifdef BARE_QEMU
    jnz .offered
    PRINT `bench-timer: no TSC-deadline timer\n`
    ret
.offered:
%endif
    CHECK nz, "CPUID.1:ECX bit 24 (TSC-deadline timer) is set"
    mov dword [LAPIC_LVT_TIMER], LVT_TSC_DEADLINE | VEC_DEADLINE
    mfence                              ; the LVT write before the MSR (SDM 10.5.4.1)
    xor ebp, ebp                        ; spinning
    call timer_rounds                   ; warm-up
    call timer_rounds
    PRINT "bench-timer: expiry-to-handler "
    call put_dec
    mov ebp, 1                          ; halted
    call timer_rounds
    PRINT ", from HLT "
    call put_dec
    PRINT `\n`
    ret

; timer_rounds: EAX = average TSC ticks from the deadline to the handler's
; RDTSC over TIMER_ROUNDS, the BSP spinning (EBP 0) or in HLT (EBP 1).
timer_rounds:
    xor esi, esi                        ; sum, EDI:ESI
    xor edi, edi
    mov ebx, TIMER_ROUNDS
.round:
    cli
    mov dword [fired], 0
    rdtsc
    add eax, TIMER_DELTA
    adc edx, 0
    mov [deadline], eax
    mov [deadline + 4], edx
    mov ecx, IA32_TSC_DEADLINE
    wrmsr
    test ebp, ebp
    jnz .halt
    sti
    push esi
    mov esi, fired
    mov eax, 1
    call spin_until
    pop esi
    jmp .fired
.halt:
    cmp dword [fired], 0
    jne .fired
    sti
    hlt                                 ; STI's shadow: no interrupt between
    cli
    jmp .halt
.fired:
    cli
    mov eax, [handler_tsc]
    mov edx, [handler_tsc + 4]
    sub eax, [deadline]
    sbb edx, [deadline + 4]
    CHECK nc, "the TSC-deadline interrupt comes at or after the deadline"
    test edx, edx
    CHECK z, "the TSC-deadline interrupt comes within 2^32 TSC ticks"
    add esi, eax
    adc edi, 0
    dec ebx
    jnz .round
    mov eax, esi
    mov edx, edi
    mov ecx, TIMER_ROUNDS
    div ecx
    ret

; ap_main: the AP idles in HLT between pings.
ap_main:
    sti
.idle:
    hlt
    jmp .idle

; ping_handler (on the AP): EOI, then answer the BSP.
ping_handler:
    pushad
    mov dword [LAPIC_EOI], 0
    mov edx, [bsp_id]
    mov eax, ICR_FIXED | VEC_REPLY
    call send_ipi
    popad
    iret

; reply_handler (on the BSP)
reply_handler:
    inc dword [replies]
    mov dword [LAPIC_EOI], 0
    iret

; deadline_handler: RDTSC first, then count.
deadline_handler:
    push eax
    push edx
    rdtsc
    mov [handler_tsc], eax
    mov [handler_tsc + 4], edx
    mov dword [fired], 1
    mov dword [LAPIC_EOI], 0
    pop edx
    pop eax
    iret

    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
ap_target:       resd 1
replies:         resd 1
fired:           resd 1
t0:              resq 1
deadline:        resq 1
handler_tsc:     resq 1
bss_end:
