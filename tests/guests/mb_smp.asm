; mb_smp: a multiboot1 guest (address fields) that boots every vCPU of its
; VM the way an OS does and has them interrupt each other:
;   - the RSDP in 0xE0000-0xFFFFF, XSDT -> MADT: the enabled local APICs;
;     fw_cfg's signature "QEMU" and CPU count (item 5): both counts agree;
;   - the AP trampoline at 0x8000; per AP INIT, 10 ms, SIPI (vector 0x08),
;     200 us, SIPI (SDM Vol. 3A 8.4.4.1); each AP enters protected mode,
;     reads its APIC ID from the LAPIC and from CPUID.1:EBX[31:24] (they
;     must agree and its IA32_APIC_BASE must not say BSP), counts itself in;
;   - the BSP sends each AP a fixed IPI (vector 0x40), one at a time; the
;     AP's handler EOIs and answers with vector 0x41 to the BSP, which must
;     hear from every AP within 2 s.
; With one CPU it broadcasts INIT and SIPIs "to all excluding self" (ICR
; shorthand 11b), which must start nothing. It prints
;   mb_smp: cpu <i> apic id <id>                 (each CPU, MADT order)
;   mb_smp: <n> of <n> CPUs started
;   mb_smp: cross-vCPU IPIs ok                   (2 or more CPUs)
;   mb_smp: one CPU: INIT/SIPI to all excluding self started nothing
; and ends with status 0, or prints "mb_smp: FAIL: <what>" and status 1.

%define GUEST_NAME "mb_smp"
%define MB_STARTS_APS
%include "mb_common.inc"
%include "mb_apic.inc"

%define VEC_PING          0x40      ; BSP -> AP
%define VEC_REPLY         0x41      ; AP -> BSP
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
    mov eax, 1
    cpuid
    shr ebx, CPUID1_EBX_APIC_ID_SHIFT
    call lapic_id
    cmp eax, ebx
    CHECK e, "the BSP's APIC ID from the LAPIC equals CPUID.1:EBX[31:24]"
    mov ecx, IA32_APIC_BASE
    rdmsr
    test eax, APIC_BASE_BSP
    CHECK nz, "IA32_APIC_BASE.BSP is set on the BSP"
    SET_GATE VEC_PING, ping_handler
    SET_GATE VEC_REPLY, reply_handler
    call lapic_sw_enable
    call smp_start
    call report_cpus
    cmp dword [lapic_count], 1
    je .alone
    call ping_every_ap
    GPRINT `cross-vCPU IPIs ok\n`
    jmp .pass
.alone:
    GPRINT `one CPU: INIT/SIPI to all excluding self started nothing\n`
.pass:
    mov al, 0
    jmp exit_vm

; report_cpus: one line per CPU of the MADT that came up, then the count;
; fails if one did not, or if an AP's two APIC IDs differ.
report_cpus:
    xor ebx, ebx
.cpu:
    movzx edx, byte [lapic_ids + ebx]
    cmp edx, [bsp_id]
    je .print
    cmp byte [ap_seen + edx], 0
    je .next
    cmp [ap_cpuid_ids + edx], dl
    CHECK e, "an AP's APIC ID from the LAPIC equals CPUID.1:EBX[31:24]"
.print:
    GPRINT "cpu "
    mov eax, ebx
    call put_dec
    PRINT " apic id "
    mov eax, edx
    call put_dec
    PRINT `\n`
.next:
    inc ebx
    cmp ebx, [lapic_count]
    jb .cpu
    mov eax, [ap_count]
    inc eax
    GPRINT ""
    call put_dec
    PRINT " of "
    mov eax, [lapic_count]
    call put_dec
    PRINT ` CPUs started\n`
    mov eax, [ap_count]
    inc eax
    cmp eax, [lapic_count]
    CHECK e, "every CPU of the MADT started (and no other)"
    cmp dword [ap_bad], 0
    CHECK e, "no AP has IA32_APIC_BASE.BSP set"
    ret

; ping_every_ap: VEC_PING to each AP in turn; its answer must come back
; before the next AP is pinged (two answers at once would merge in the IRR).
ping_every_ap:
    sti
    xor ebx, ebx
    xor edi, edi                        ; answers expected so far
.ap:
    movzx edx, byte [lapic_ids + ebx]
    cmp edx, [bsp_id]
    je .next
    inc edi
    mov eax, ICR_FIXED | VEC_PING
    call send_ipi
    WAIT_FOR replies, edi, REPLY_TIMEOUT_MS
    CHECK nc, "an AP answered the BSP's IPI within 2 s"
    cmp byte [replied + edx], 1
    CHECK e, "the answer came from the AP that was pinged"
.next:
    inc ebx
    cmp ebx, [lapic_count]
    jb .ap
    DELAY_MS 10
    cmp [replies], edi
    CHECK e, "exactly one answer per AP"
    cli
    ret

; ap_main: each AP, with its APIC ID in EAX: waits for pings in HLT.
ap_main:
    sti
.idle:
    hlt
    jmp .idle

; ping_handler (on an AP): EOI, mark the AP in replied, answer the BSP.
ping_handler:
    pushad
    mov dword [LAPIC_EOI], 0
    call lapic_id
    mov byte [replied + eax], 1
    mov edx, [bsp_id]
    mov eax, ICR_FIXED | VEC_REPLY
    call send_ipi
    popad
    iret

; reply_handler (on the BSP): counts the answers.
reply_handler:
    lock inc dword [replies]
    mov dword [LAPIC_EOI], 0
    iret

    MB_COMMON_CODE
    MB_APIC_CODE
    MB_APIC_BSS
replies:         resd 1
replied:         resb 256               ; by APIC ID: answered a ping
bss_end:
