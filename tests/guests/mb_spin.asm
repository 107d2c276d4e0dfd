; mb_spin: a multiboot1 guest (address fields) that keeps every vCPU busy:
; it starts the APs the MADT lists (as mb_smp does; the CPU count from
; fw_cfg must agree), then each vCPU, the BSP included, counts iterations
; of an empty loop until its own <ms> milliseconds of PM time have passed
; (the command line's "ms=<n>", default 2000; at most what the PM timer
; measures without wrapping). For the CPU-share bench (make bench: several
; one-vCPU VMs on fewer physical CPUs) and the starvation test (beside
; mb_ticker on the same physical CPU). The BSP prints, per vCPU in MADT order,
;   mb_spin: cpu <i> <N> iterations in <ms> ms
; and ends with status 0, or "mb_spin: FAIL: <what>" and status 1.

%define GUEST_NAME "mb_spin"
%define MB_STARTS_APS
%include "mb_common.inc"
%include "mb_apic.inc"

%define DEFAULT_MS        2000
%define SPIN_CHUNK        65536     ; loop iterations between PM timer reads
%define DONE_SLACK_MS     10000     ; how much longer the APs may take

bits 32
org LOAD_ADDR
    MB_ADDRESS_HEADER

start:
    MB_APIC_START
    call parse_cmdline
    call acpi_init
    call pm_init
    call madt_scan
    call fw_cfg_cpus
    cmp eax, [lapic_count]
    CHECK e, "fw_cfg's CPU count equals the MADT's enabled local APICs"
    mov eax, [pm_mask]                  ; the longest window the timer measures
    xor edx, edx
    mov ecx, MS_TO_PM(1) + 1
    div ecx
    cmp [spin_ms], eax
    CHECK b, "ms= fits in the PM timer's range"
    mov eax, [spin_ms]
    mov ecx, PM_HZ
    mul ecx
    mov ecx, 1000
    div ecx
    mov [spin_ticks], eax
    call smp_start
    inc eax
    cmp eax, [lapic_count]
    CHECK e, "every CPU of the MADT started"
    call lapic_id
    call spin
    mov eax, [lapic_count]
    dec eax
    WAIT_FOR spin_done, eax, DONE_SLACK_MS
    CHECK nc, "every AP finished its spin"
    call report
    mov al, 0
    jmp exit_vm

; parse_cmdline: spin_ms from "ms=<digits>" on the multiboot command line.
parse_cmdline:
    mov dword [spin_ms], DEFAULT_MS
    mov ebx, [mb_info]
    test dword [ebx + MBI_FLAGS], 1 << 2 ; the command line is given
    jz .done
    mov esi, [ebx + MBI_CMDLINE]
    mov al, ' '                         ; the character before the word
.scan:
    cmp al, ' '
    jne .next
    cmp word [esi], 'ms'
    jne .next
    cmp byte [esi + 2], '='
    je .number
.next:
    mov al, [esi]
    inc esi
    test al, al
    jnz .scan
.done:
    ret
.number:
    add esi, 3
    xor eax, eax
    xor ecx, ecx
.digit:
    mov cl, [esi]
    sub cl, '0'
    cmp cl, 9
    ja .end
    imul eax, eax, 10
    add eax, ecx
    inc esi
    jmp .digit
.end:
    test eax, eax
    CHECK nz, "ms=<n> on the command line is a positive number"
    mov [spin_ms], eax
    ret

; spin: on the CPU with APIC ID EAX: loops until spin_ticks of PM time
; passed; the iterations to spin_results[APIC ID].
spin:
    push eax
    call pm_read
    mov ebx, eax
    xor esi, esi                        ; chunks done
.chunk:
    mov ecx, SPIN_CHUNK
.iteration:
    dec ecx
    jnz .iteration
    inc esi
    call pm_elapsed
    cmp eax, [spin_ticks]
    jb .chunk
    pop edi
    mov eax, SPIN_CHUNK
    mul esi
    mov [spin_results + edi * 8], eax
    mov [spin_results + edi * 8 + 4], edx
    ret

; ap_main: each AP spins, counts itself done and halts.
ap_main:
    call spin
    lock inc dword [spin_done]
.park:
    cli
    hlt
    jmp .park

report:
    xor ebx, ebx
.cpu:
    movzx edi, byte [lapic_ids + ebx]
    GPRINT "cpu "
    mov eax, ebx
    call put_dec
    PRINT " "
    mov eax, [spin_results + edi * 8]
    mov edx, [spin_results + edi * 8 + 4]
    call put_dec64
    PRINT " iterations in "
    mov eax, [spin_ms]
    call put_dec
    PRINT ` ms\n`
    inc ebx
    cmp ebx, [lapic_count]
    jb .cpu
    ret

    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
spin_ms:         resd 1
spin_ticks:      resd 1
spin_done:       resd 1
spin_results:    resq 256               ; by APIC ID
bss_end:
