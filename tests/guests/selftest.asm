; selftest: the guest that Keel's self-test runs (tests/guests/README.md).
;
; Reset vector -> real mode -> protected mode -> long mode, with numbered
; checks on the way. Each check reports its number on PORT_CHECKPOINT before
; it runs; a failing one reports its number on PORT_RESULT, an unhandled
; vector reports FAIL_UNEXPECTED + vector; 0 means everything passed.
; Checks marked HV_CHECK need Keel's devices and are skipped when built with
; -DBARE_METAL (for running the image as QEMU's firmware).

%include "common.inc"

; Variables of this guest (qwords).
V_UD_ARMED          equ RAM_GUEST_VARS + 0x00  ; the next #UD is expected
V_UD_SKIP           equ RAM_GUEST_VARS + 0x08  ; bytes the handler adds to RIP
V_UD_COUNT          equ RAM_GUEST_VARS + 0x10
V_UD_RIP            equ RAM_GUEST_VARS + 0x18  ; RIP the CPU saved
V_GP_ARMED          equ RAM_GUEST_VARS + 0x20
V_GP_SKIP           equ RAM_GUEST_VARS + 0x28
V_GP_COUNT          equ RAM_GUEST_VARS + 0x30
V_GP_RIP            equ RAM_GUEST_VARS + 0x38
V_GP_ERR            equ RAM_GUEST_VARS + 0x40  ; error code the CPU pushed
V_IRQ_COUNT         equ RAM_GUEST_VARS + 0x48  ; vector IRQ_VECTOR
V_IRQ_RIP           equ RAM_GUEST_VARS + 0x50

VEC_UD              equ 6
VEC_GP              equ 13
IRQ_VECTOR          equ 0x40
MSR_UNKNOWN         equ 0x4B454500      ; no such MSR: RDMSR -> #GP(0)
BAD_SELECTOR        equ 0x0FF8          ; beyond the GDT limit: MOV DS -> #GP(0x0ff8)
GUARD_BYTE          equ 0xEE            ; fills memory around string-input buffers

PM_BUF              equ RAM_SCRATCH + 0x1000 - 0x10    ; crosses a 4-KiB page
LM_BUF              equ 0x200000 - 0x10                ; crosses a 2-MiB page
MMIO_S              equ MMIO_BASE + MMIO_SCRATCH       ; linear = GPA
SSE_ITERATIONS      equ 1000            ; 2 exits each, plus an IN every 8th
MXCSR_VALUE         equ 0x7F80          ; all masked, round toward zero
X87_CONTROL         equ 0x0F7F          ; all masked, 64-bit, round toward zero

; PATTERN_SUM name, count, first, step, mask: name = sum over i < count of
; (first + i * step) & mask: the units a FILL loop below writes.
%macro PATTERN_SUM 5
  %assign %%i 0
  %assign %1 0
  %rep %2
    %assign %1 %1 + ((%3 + %%i * %4) & %5)
    %assign %%i %%i + 1
  %endrep
%endmacro

; STR_SUM(count, sum): what PORT_STR_SUM returns after count units summing to sum.
%define STR_SUM(count, sum) (((count) << 16) | ((sum) & 0xFFFF))

; FILL unit, address, count, first, step: write count units (b/w/d) of
; first + i * step from address on (ES = 0 in real mode). Clobbers EAX, ECX, EDI.
%macro FILL 5
    mov edi, %2
    mov ecx, %3
    mov eax, %4
%%unit:
    stos%1
    add eax, %5
    dec ecx
    jnz %%unit
%endmacro

; EXPECT_STR_IN unit, address, count, first_k: fail unless count units from
; address on are (k * STR_IN_STEP + 1) truncated, for k = first_k, first_k + 1, ...
; 32/64-bit code. Clobbers EAX, EBX, ECX, ESI.
%macro EXPECT_STR_IN 4
    mov esi, %2
    mov ebx, %4 * STR_IN_STEP + 1
    mov ecx, %3
%%unit:
    lods%1
  %ifidn %1, b
    cmp al, bl
  %elifidn %1, w
    cmp ax, bx
  %else
    cmp eax, ebx
  %endif
    FAIL_IF ne
    add ebx, STR_IN_STEP
    dec ecx
    jnz %%unit
%endmacro

; PORT_ID_READS: in8/in16/in32 from PORT_ID; narrow reads keep the rest of EAX.
%macro PORT_ID_READS 0
    mov dx, PORT_ID
    mov eax, 0x12345678
    in al, dx
    EXPECT eax, 0x12345600 | (ID_DWORD & 0xFF)
    in ax, dx
    EXPECT eax, 0x12340000 | (ID_DWORD & 0xFFFF)
    in eax, dx
    EXPECT eax, ID_DWORD
%endmacro

; ARM UD|GP, skip: the next #UD / #GP is expected; its handler records it
; and resumes skip bytes after the saved RIP. Unarmed, it is unexpected.
%macro ARM 2
    mov qword [V_%{1}_COUNT], 0
    mov qword [V_%{1}_RIP], 0
    mov qword [V_%{1}_SKIP], %2
    mov qword [V_%{1}_ARMED], 1
%endmacro

YMM_ITERATIONS equ 500

GUEST_BEGIN
    PRINT "real", 10
    call rm_ivt_install

; ===========================================================================
; Real mode

HV_CHECK 1, "real mode: in8/in16/in32 from port 0x512"
    PORT_ID_READS
END_CHECK

CHECK 2, "real mode: in8/in16/in32 from unclaimed port 0x51c read all ones"
    mov dx, PORT_UNCLAIMED
    xor eax, eax
    in al, dx
    EXPECT eax, 0xFF
    in ax, dx
    EXPECT eax, 0xFFFF
    in eax, dx
    EXPECT eax, 0xFFFFFFFF
END_CHECK

RM_OUTSB_COUNT equ 37
PATTERN_SUM RM_OUTSB_SUM, RM_OUTSB_COUNT, 3, 7, 0xFF
HV_CHECK 3, "real mode: rep outsb to port 0x513, count and sum on 0x514"
    FILL b, RAM_SCRATCH, RM_OUTSB_COUNT, 3, 7
    mov dx, PORT_STR_SUM
    in eax, dx                          ; reset the count and sum
    ; 16-bit address size: only SI and CX change, the upper halves stay.
    mov esi, 0xABCD0000 | RAM_SCRATCH
    mov ecx, 0x55AA0000 | RM_OUTSB_COUNT
    mov dx, PORT_STR_OUT
    rep outsb
    EXPECT ecx, 0x55AA0000
    EXPECT esi, 0xABCD0000 | (RAM_SCRATCH + RM_OUTSB_COUNT)
    mov dx, PORT_STR_SUM
    in eax, dx
    EXPECT eax, STR_SUM(RM_OUTSB_COUNT, RM_OUTSB_SUM)
    in eax, dx                          ; the read reset it
    EXPECT eax, 0
END_CHECK

RM_INSW_COUNT equ 20
HV_CHECK 4, "real mode: rep insw from port 0x515"
    FILL b, RAM_SCRATCH, 2 * RM_INSW_COUNT + 16, GUARD_BYTE, 0
    mov dx, PORT_STR_IN
    out dx, al                          ; k = 0
    mov edi, 0x12340000 | RAM_SCRATCH
    mov ecx, 0x56780000 | RM_INSW_COUNT
    rep insw
    EXPECT ecx, 0x56780000
    EXPECT edi, 0x12340000 | (RAM_SCRATCH + 2 * RM_INSW_COUNT)
    mov si, RAM_SCRATCH
    mov bx, 1
    mov cx, RM_INSW_COUNT
.word:
    lodsw
    cmp ax, bx
    FAIL_IF ne
    add bx, STR_IN_STEP
    loop .word
    lodsw
    EXPECT ax, GUARD_BYTE * 0x0101      ; nothing written past the count
END_CHECK

    GO_PROTECTED
    PRINT "protected", 10
    call pm_idt_install

; ===========================================================================
; Protected mode

HV_CHECK 5, "protected mode: in8/in16/in32 from port 0x512"
    PORT_ID_READS
END_CHECK

PM_OUTSW_COUNT equ 13
PM_OUTSD_COUNT equ 11
PATTERN_SUM PM_OUTSW_SUM, PM_OUTSW_COUNT, 0x1234, 0x3C1, 0xFFFF
PATTERN_SUM PM_OUTSD_SUM, PM_OUTSD_COUNT, 0x89ABCDEF, 0x01020305, 0xFFFFFFFF
HV_CHECK 6, "protected mode: rep outsw and rep outsd across a page boundary"
    mov dx, PORT_STR_SUM
    in eax, dx
    FILL w, PM_BUF, PM_OUTSW_COUNT, 0x1234, 0x3C1
    mov esi, PM_BUF
    mov ecx, PM_OUTSW_COUNT
    mov dx, PORT_STR_OUT
    rep outsw
    EXPECT ecx, 0
    EXPECT esi, PM_BUF + 2 * PM_OUTSW_COUNT
    mov dx, PORT_STR_SUM
    in eax, dx
    EXPECT eax, STR_SUM(PM_OUTSW_COUNT, PM_OUTSW_SUM)
    FILL d, PM_BUF, PM_OUTSD_COUNT, 0x89ABCDEF, 0x01020305
    mov esi, PM_BUF
    mov ecx, PM_OUTSD_COUNT
    mov dx, PORT_STR_OUT
    rep outsd
    EXPECT ecx, 0
    EXPECT esi, PM_BUF + 4 * PM_OUTSD_COUNT
    mov dx, PORT_STR_SUM
    in eax, dx
    EXPECT eax, STR_SUM(PM_OUTSD_COUNT, PM_OUTSD_SUM)
END_CHECK

PM_INSD_COUNT equ 16
PM_INSB_COUNT equ 8
HV_CHECK 7, "protected mode: rep insd forward, then rep insb with DF=1"
    FILL b, PM_BUF - 32, 32 + 4 * PM_INSD_COUNT + 32, GUARD_BYTE, 0
    mov dx, PORT_STR_IN
    out dx, al
    mov edi, PM_BUF
    mov ecx, PM_INSD_COUNT
    rep insd
    EXPECT ecx, 0
    EXPECT edi, PM_BUF + 4 * PM_INSD_COUNT
    EXPECT_STR_IN d, PM_BUF, PM_INSD_COUNT, 0
    EXPECT dword [PM_BUF + 4 * PM_INSD_COUNT], GUARD_BYTE * 0x01010101
    ; k goes on from PM_INSD_COUNT; DF=1 stores downwards from PM_BUF - 1.
    std
    mov edi, PM_BUF - 1
    mov ecx, PM_INSB_COUNT
    rep insb
    cld
    EXPECT ecx, 0
    EXPECT edi, PM_BUF - 1 - PM_INSB_COUNT
    mov esi, PM_BUF - 1
    mov ebx, PM_INSD_COUNT * STR_IN_STEP + 1
    mov ecx, PM_INSB_COUNT
.byte:
    EXPECT [esi], bl
    dec esi
    add ebx, STR_IN_STEP
    loop .byte
    EXPECT byte [PM_BUF - 1 - PM_INSB_COUNT], GUARD_BYTE
END_CHECK

HV_CHECK 8, "CPUID.1: hypervisor bit set; VMX clear; OSXSAVE clear while CR4.OSXSAVE is"
    mov eax, 1
    cpuid
    bt ecx, 31
    FAIL_IF nc
    test ecx, (1 << 5) | (1 << 27)
    FAIL_IF nz
END_CHECK

HV_CHECK 9, "CPUID.80000001: SVM clear, long mode set"
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    FAIL_IF b
    mov eax, 0x80000001
    cpuid
    test ecx, 1 << 2
    FAIL_IF nz
    bt edx, 29
    FAIL_IF nc
END_CHECK

HV_CHECK 10, "CPUID.40000000: max leaf 0x40000001, signature KeelKeelKeel; prefixed CPUID"
    mov eax, 0x40000000
    cpuid
    EXPECT eax, 0x40000001
    EXPECT ebx, 'Keel'
    EXPECT ecx, 'Keel'
    EXPECT edx, 'Keel'
    ; The same with two prefixes: the host must step over all four bytes
    ; (without NRIP save it decodes them), landing on the MOV below.
    mov eax, 0x40000000
    xor ebx, ebx
    db 0x2e, 0x66, 0x0f, 0xa2           ; cs o16 cpuid
    mov esi, 0x600D600D
    EXPECT esi, 0x600D600D
    EXPECT ebx, 'Keel'
END_CHECK

CHECK 11, "the image reads the same at 0xf0000 and 0xffff0000"
    mov esi, IMAGE_BASE
    mov edi, RESET_ALIAS
    mov ecx, IMAGE_SIZE / 4
    repe cmpsd
    FAIL_IF ne
END_CHECK

HV_CHECK 12, "a write through one image alias shows through the other"
    mov eax, [LIN(alias_probe)]
    mov ebx, eax
    not ebx
    mov [LIN(alias_probe)], ebx
    EXPECT [RESET_ALIAS + alias_probe], ebx
    mov [RESET_ALIAS + alias_probe], eax
    EXPECT [LIN(alias_probe)], eax
END_CHECK

    GO_LONG
    PRINT "long", 10
    ENABLE_SSE
    call lm_idt_install
    mov ecx, VEC_UD
    mov eax, LIN(ud_handler)
    call lm_set_gate
    mov ecx, VEC_GP
    mov eax, LIN(gp_handler)
    call lm_set_gate
    mov ecx, IRQ_VECTOR
    mov eax, LIN(irq_handler)
    call lm_set_gate
    mov qword [V_UD_ARMED], 0           ; RAM may hold anything
    mov qword [V_GP_ARMED], 0

; ===========================================================================
; Long mode

CHECK 13, "long mode: EFER.LME/LMA, CR0.PG, CR4.PAE, 64-bit code, paging"
    mov ecx, MSR_EFER
    rdmsr
    and eax, EFER_LME | EFER_LMA
    EXPECT eax, EFER_LME | EFER_LMA
    mov rax, cr0
    bt rax, 31
    FAIL_IF nc
    mov rax, cr4
    test eax, CR4_PAE
    FAIL_IF z
    mov rax, 0x0123456789ABCDEF
    ror rax, 32
    mov rcx, 0x89ABCDEF01234567
    EXPECT rax, rcx
    mov rax, HIGH_ALIAS + IMAGE_BASE    ; the alias reads what identity reads
    mov rcx, [rax]
    EXPECT rcx, [IMAGE_BASE]
END_CHECK

CHECK 14, "long mode: software INT 0x40 reaches its handler, IRETQ returns"
    mov qword [V_IRQ_COUNT], 0
    int IRQ_VECTOR
.after:
    EXPECT qword [V_IRQ_COUNT], 1
    lea rax, [rel .after]
    EXPECT [V_IRQ_RIP], rax
END_CHECK

CHECK 15, "long mode: UD2 raises #UD, the handler resumes after it"
    ARM UD, 2
.ud2:
    ud2
    EXPECT qword [V_UD_COUNT], 1
    lea rax, [rel .ud2]
    EXPECT [V_UD_RIP], rax
END_CHECK

HV_CHECK 16, "injected #UD (port 0x516) arrives with RIP after the OUT"
    ARM UD, 0
    mov dx, PORT_INJECT_EXC
    mov al, VEC_UD
    out dx, al
.after:
    nop
    EXPECT qword [V_UD_COUNT], 1
    lea rax, [rel .after]
    EXPECT [V_UD_RIP], rax
END_CHECK

CHECK 17, "long mode: MOV DS with a bad selector raises #GP(selector)"
    ARM GP, 2
    mov ax, BAD_SELECTOR
.load:
    mov ds, ax                          ; 8E D8
    EXPECT qword [V_GP_COUNT], 1
    EXPECT qword [V_GP_ERR], BAD_SELECTOR
    lea rax, [rel .load]
    EXPECT [V_GP_RIP], rax
    mov ax, ds
    EXPECT ax, SEL_DATA
END_CHECK

HV_CHECK 18, "RDMSR 0x4b454500 raises #GP(0) and changes no register"
    ARM GP, 2
    mov ecx, MSR_UNKNOWN
    mov eax, 0x11111111
    mov edx, 0x22222222
.rdmsr:
    rdmsr                               ; 0F 32
    EXPECT rax, 0x11111111
    EXPECT rdx, 0x22222222
    EXPECT qword [V_GP_COUNT], 1
    EXPECT qword [V_GP_ERR], 0
    lea rax, [rel .rdmsr]
    EXPECT [V_GP_RIP], rax
END_CHECK

HV_CHECK 19, "HLT and resume: vector 0x40 from port 0x517 waits for IF, wakes HLT"
    mov qword [V_IRQ_COUNT], 0
    cli
    mov dx, PORT_RAISE_IRQ
    mov al, IRQ_VECTOR
    out dx, al
    nop
    nop
    EXPECT qword [V_IRQ_COUNT], 0       ; IF = 0: still pending
    sti
    hlt                                 ; in the STI shadow: delivered during HLT
.resumed:
    cli
    EXPECT qword [V_IRQ_COUNT], 1
    lea rax, [rel .resumed]
    EXPECT [V_IRQ_RIP], rax
END_CHECK

LM_OUTSB_COUNT equ 40
LM_INSD_COUNT  equ 16
PATTERN_SUM LM_OUTSB_SUM, LM_OUTSB_COUNT, 5, 11, 0xFF
HV_CHECK 20, "long mode: rep outsb/insd through a non-identity mapping, across 2 MiB"
    mov dx, PORT_STR_SUM
    in eax, dx
    FILL b, LM_BUF - 8, LM_OUTSB_COUNT, 5, 11
    mov rsi, HIGH_ALIAS + LM_BUF - 8
    mov ecx, LM_OUTSB_COUNT
    mov dx, PORT_STR_OUT
    rep outsb
    EXPECT rcx, 0
    mov rax, HIGH_ALIAS + LM_BUF - 8 + LM_OUTSB_COUNT
    EXPECT rsi, rax
    mov dx, PORT_STR_SUM
    in eax, dx
    EXPECT eax, STR_SUM(LM_OUTSB_COUNT, LM_OUTSB_SUM)
    FILL b, LM_BUF - 32, 32 + 4 * LM_INSD_COUNT + 32, GUARD_BYTE, 0
    mov dx, PORT_STR_IN
    out dx, al
    mov rdi, HIGH_ALIAS + LM_BUF
    mov ecx, LM_INSD_COUNT
    rep insd
    EXPECT rcx, 0
    mov rax, HIGH_ALIAS + LM_BUF + 4 * LM_INSD_COUNT
    EXPECT rdi, rax
    EXPECT_STR_IN d, LM_BUF, LM_INSD_COUNT, 0   ; read back through identity
    EXPECT dword [LM_BUF - 4], GUARD_BYTE * 0x01010101
    EXPECT dword [LM_BUF + 4 * LM_INSD_COUNT], GUARD_BYTE * 0x01010101
END_CHECK

; MMIO checks: RBX = MMIO_BASE, R12 = R13 = MMIO_S (REX.B bases; R12 needs a
; SIB byte, R13 a displacement). MMIO addresses are above 2 GiB, so never a
; bare disp32 (it would be sign-extended).

HV_CHECK 21, "MMIO: read32 of the ID register"
    mov ebx, MMIO_BASE
    mov rax, -1
    mov eax, [rbx + MMIO_ID]            ; 8B: a 32-bit load zero-extends
    EXPECT rax, MMIO_ID_VALUE
END_CHECK

HV_CHECK 22, "MMIO: 8-bit forms (C6, 88, 8A; AH/DH; REX SIL, R9B; R12 base)"
    mov ebx, MMIO_BASE
    lea r12, [rbx + MMIO_SCRATCH]
    mov byte [rbx + MMIO_SCRATCH + 0], 0x5A     ; C6 /0 ib
    mov rax, 0x1122334455667788
    mov al, [rbx + MMIO_SCRATCH + 0]            ; 8A: AL only
    mov rcx, 0x112233445566775A
    EXPECT rax, rcx
    mov eax, 0xA5C3
    mov [rbx + MMIO_SCRATCH + 1], ah            ; 88, reg 4 = AH without REX
    mov rdx, 0x1122334455667788
    mov dh, [rbx + MMIO_SCRATCH + 1]            ; 8A, reg 6 = DH without REX
    mov rcx, 0x112233445566A588
    EXPECT rdx, rcx
    mov esi, 0x3C
    mov [r12 + 2], sil                          ; REX 88, reg 6 = SIL; REX.B
    mov r9, -1
    mov r9b, [r12 + 2]                          ; REX.R|B 8A
    mov rcx, 0xFFFFFFFFFFFFFF3C
    EXPECT r9, rcx
    mov rax, -1
    mov al, [rbx + MMIO_SCRATCH + 1]            ; the AH store landed at +1 only
    EXPECT rax, -0x100 | 0xA5
END_CHECK

HV_CHECK 23, "MMIO: 16-bit forms (66 C7, 66 89, 66 8B; REX.R/B)"
    mov ebx, MMIO_BASE
    lea r12, [rbx + MMIO_SCRATCH]
    mov word [rbx + MMIO_SCRATCH + 0x10], 0xBEEF    ; 66 C7 /0 iw
    mov rcx, 0x1122334455667788
    mov cx, [rbx + MMIO_SCRATCH + 0x10]             ; 66 8B: CX only
    mov rax, 0x112233445566BEEF
    EXPECT rcx, rax
    mov r10d, 0x1357
    mov [r12 + 0x12], r10w                          ; 66 REX.R|B 89
    mov r11, -1
    mov r11w, [rbx + MMIO_SCRATCH + 0x12]           ; 66 REX.R 8B
    mov rax, 0xFFFFFFFFFFFF1357
    EXPECT r11, rax
    mov byte [rbx + MMIO_SCRATCH + 0x14], 0x34
    mov byte [rbx + MMIO_SCRATCH + 0x15], 0x12
    xor eax, eax
    mov ax, [rbx + MMIO_SCRATCH + 0x14]
    EXPECT eax, 0x1234
END_CHECK

HV_CHECK 24, "MMIO: 32-bit forms (C7, 89, 8B; R13 base, SIB index)"
    mov ebx, MMIO_BASE
    lea r13, [rbx + MMIO_SCRATCH]
    mov dword [rbx + MMIO_SCRATCH + 0x20], 0xDEADBEEF   ; C7 /0 id
    mov rax, -1
    mov eax, [rbx + MMIO_SCRATCH + 0x20]                ; zero-extends
    mov ecx, 0xDEADBEEF
    EXPECT rax, rcx
    mov r14d, 0xCAFEF00D
    mov [r13 + 0x24], r14d                              ; REX.R|B 89, disp8
    mov ecx, 0x24 / 4
    mov r15, -1
    mov r15d, [rbx + rcx * 4 + MMIO_SCRATCH]            ; REX.R 8B, SIB, disp32
    mov eax, 0xCAFEF00D
    EXPECT r15, rax
END_CHECK

HV_CHECK 25, "MMIO: 64-bit forms (REX.W 89, 8B, C7 sign-extended)"
    mov ebx, MMIO_BASE
    lea r12, [rbx + MMIO_SCRATCH]
    mov rax, 0x0123456789ABCDEF
    mov [rbx + MMIO_SCRATCH + 0x30], rax        ; REX.W 89
    mov rdx, [rbx + MMIO_SCRATCH + 0x30]        ; REX.W 8B
    EXPECT rdx, rax
    mov qword [rbx + MMIO_SCRATCH + 0x38], -2   ; REX.W C7: imm32 sign-extended
    mov r8, [rbx + MMIO_SCRATCH + 0x38]
    EXPECT r8, -2
    mov qword [rbx + MMIO_SCRATCH + 0x40], 0x7FFFFFFF
    mov r8, [rbx + MMIO_SCRATCH + 0x40]
    EXPECT r8, 0x7FFFFFFF
    mov r15, 0xFEDCBA9876543210
    mov [r12 + 0x48], r15                       ; REX.W|R|B 89
    mov r10, [r12 + 0x48]                       ; REX.W|R|B 8B
    EXPECT r10, r15
    mov eax, [rbx + MMIO_SCRATCH + 0x4C]        ; upper half of it
    EXPECT eax, 0xFEDCBA98
END_CHECK

MOFFS equ MMIO_S + 0x50
HV_CHECK 26, "MMIO: moffs forms (A0-A3 with 64-bit addresses, 66, REX.W)"
    mov ebx, MMIO_BASE
    mov qword [rbx + MMIO_SCRATCH + 0x50], 0
    mov al, 0x77
    mov [qword MOFFS], al                       ; A2
    mov ax, 0x6655
    mov [qword MOFFS + 2], ax                   ; 66 A3
    mov eax, 0xDDCCBBAA
    mov [qword MOFFS + 4], eax                  ; A3
    mov rax, 0x1122334455667788
    mov [qword MOFFS + 8], rax                  ; REX.W A3
    mov rax, -1
    mov al, [qword MOFFS]                       ; A0
    EXPECT rax, -0x100 | 0x77
    mov rax, -1
    mov ax, [qword MOFFS + 2]                   ; 66 A1
    EXPECT rax, -0x10000 | 0x6655
    mov rax, -1
    mov eax, [qword MOFFS + 4]                  ; A1: zero-extends
    mov ecx, 0xDDCCBBAA
    EXPECT rax, rcx
    mov rax, [qword MOFFS + 8]                  ; REX.W A1
    mov rcx, 0x1122334455667788
    EXPECT rax, rcx
    mov rdx, [rbx + MMIO_SCRATCH + 0x50]        ; the four stores, as one qword
    mov rcx, 0xDDCCBBAA66550077
    EXPECT rdx, rcx
END_CHECK

HV_CHECK 27, "MMIO: movzx (0F B6, 0F B7) into 16/32/64-bit registers"
    mov ebx, MMIO_BASE
    lea r12, [rbx + MMIO_SCRATCH]
    mov byte [rbx + MMIO_SCRATCH + 0x60], 0x80
    mov word [rbx + MMIO_SCRATCH + 0x62], 0x8001
    mov rax, -1
    movzx eax, byte [rbx + MMIO_SCRATCH + 0x60]     ; 0F B6
    EXPECT rax, 0x80
    mov rcx, -1
    movzx rcx, byte [rbx + MMIO_SCRATCH + 0x60]     ; REX.W 0F B6
    EXPECT rcx, 0x80
    mov r9, -1
    movzx r9d, word [rbx + MMIO_SCRATCH + 0x62]     ; REX.R 0F B7
    EXPECT r9, 0x8001
    mov rdx, -1
    movzx rdx, word [r12 + 0x62]                    ; REX.W|B 0F B7
    EXPECT rdx, 0x8001
    mov rsi, -1
    movzx si, byte [rbx + MMIO_SCRATCH + 0x60]      ; 66 0F B6: SI only
    EXPECT rsi, -0x10000 | 0x80
END_CHECK

HV_CHECK 28, "MMIO: scratch is byte-addressable; other offsets read 0, ignore writes"
    mov ebx, MMIO_BASE
    mov rax, 0x0807060504030201
    mov [rbx + MMIO_SCRATCH + 0x70], rax
    xor ecx, ecx
.byte:
    movzx edx, byte [rbx + rcx + MMIO_SCRATCH + 0x70]
    lea eax, [rcx + 1]
    EXPECT edx, eax
    inc ecx
    cmp ecx, 8
    jb .byte
    mov byte [rbx + MMIO_SCRATCH + 0x78], 0xD4
    mov byte [rbx + MMIO_SCRATCH + 0x79], 0xC3
    mov byte [rbx + MMIO_SCRATCH + 0x7A], 0xB2
    mov byte [rbx + MMIO_SCRATCH + 0x7B], 0xA1
    mov eax, [rbx + MMIO_SCRATCH + 0x78]
    EXPECT eax, 0xA1B2C3D4
    mov qword [rbx + MMIO_SCRATCH + 0x80], 0
    mov qword [rbx + MMIO_SCRATCH + 0x88], 0
    mov dword [rbx + MMIO_SCRATCH + 0x83], 0x87654321   ; unaligned
    mov rax, [rbx + MMIO_SCRATCH + 0x80]
    mov rcx, 0x0000008765432100 << 16
    EXPECT rax, rcx
    mov eax, [rbx + MMIO_SCRATCH + 0x88]
    EXPECT eax, 0
    mov rax, 0x1F2E3D4C5B6A7988
    mov [rbx + MMIO_SCRATCH + MMIO_SCRATCH_SIZE - 8], rax   ; last qword
    mov rcx, [rbx + MMIO_SCRATCH + MMIO_SCRATCH_SIZE - 8]
    EXPECT rcx, rax
    mov dword [rbx + 0x200], 0x12345678
    mov rax, -1
    mov eax, [rbx + 0x200]
    EXPECT rax, 0
    mov rax, [rbx + 0xFF8]
    EXPECT rax, 0
    mov eax, [rbx + 0x004]
    EXPECT eax, 0
    mov dword [rbx + MMIO_ID], 0
    mov eax, [rbx + MMIO_ID]
    EXPECT eax, MMIO_ID_VALUE
END_CHECK

SENTINEL equ 0x5E5E5E5E5E5E5E5E
CHECK 29, "writes beyond RAM (0x10000000) leave RAM unchanged"
    mov rax, SENTINEL
    mov [0], rax                        ; where a wrapped address would land
    mov [8], rax
    mov [16], rax
    mov [RAM_SIZE - 8], rax
    mov ebx, BEYOND_RAM
    mov dword [rbx], 0x12345678
    mov rcx, 0x0123456789ABCDEF
    mov [rbx + 8], rcx
    mov byte [rbx + 16], 0x55
    EXPECT [0], rax
    EXPECT [8], rax
    EXPECT [16], rax
    EXPECT [RAM_SIZE - 8], rax
END_CHECK

HV_CHECK 30, "reads beyond RAM (0x10000000) return all ones"
    mov ebx, BEYOND_RAM
    xor eax, eax
    mov eax, [rbx]
    mov ecx, 0xFFFFFFFF
    EXPECT rax, rcx
    mov rax, [rbx + 8]
    EXPECT rax, -1
    movzx eax, byte [rbx + 16]
    EXPECT eax, 0xFF
    xor eax, eax
    mov ax, [rbx + 0x1000]
    EXPECT eax, 0xFFFF
END_CHECK

; SET_REGS reg, ...: distinct values into the registers; EXPECT_REGS the
; same list: fail unless they still hold them. Clobber RAX (EXPECT_REGS).
%define REG_VALUE(n) (0x0F1E2D3C4B5A6978 + (n) * 0x0101010101010101)
%macro SET_REGS 1-*
  %assign %%n 0
  %rep %0
    mov %1, REG_VALUE(%%n)
    %rotate 1
    %assign %%n %%n + 1
  %endrep
%endmacro
%macro EXPECT_REGS 1-*
  %assign %%n 0
  %rep %0
    mov rax, REG_VALUE(%%n)
    EXPECT %1, rax
    %rotate 1
    %assign %%n %%n + 1
  %endrep
%endmacro

CHECK 31, "SSE, x87, MXCSR and GPRs survive 2125 exits (OUT 0x510, CPUID, IN)"
  %assign n 0
  %rep 16
    movdqu xmm%[n], [rel sse_patterns + 16 * n]
    %assign n n + 1
  %endrep
    ; CPUID and the port accesses use RAX, RBX, RCX, RDX; R15 counts.
    SET_REGS rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14
    fninit
    fldcw [rel x87_control]
    fld tword [rel x87_values]
    fld tword [rel x87_values + 10]     ; ST0 = values[1], ST1 = values[0]
    ldmxcsr [rel mxcsr_value]
    mov r15d, SSE_ITERATIONS
.loop:
    mov eax, CHECK_CUR
    mov dx, PORT_CHECKPOINT
    out dx, eax
    xor eax, eax
    cpuid
    test r15d, 7
    jnz .next
    mov dx, PORT_UNCLAIMED              ; an exit of another kind
    in eax, dx
.next:
    dec r15d
    jnz .loop
    EXPECT_REGS rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14
    stmxcsr [RAM_SCRATCH]
    EXPECT dword [RAM_SCRATCH], MXCSR_VALUE
    fnstcw [RAM_SCRATCH]
    EXPECT word [RAM_SCRATCH], X87_CONTROL
    fnstsw ax
    and ax, 0x3800                      ; TOP
    EXPECT ax, 6 << 11
    fstp tword [RAM_SCRATCH]
    fstp tword [RAM_SCRATCH + 10]
    mov esi, RAM_SCRATCH
    lea rdi, [rel x87_values_popped]
    mov ecx, 20
    repe cmpsb
    FAIL_IF ne
  %assign n 0
  %rep 16
    movdqu [RAM_SCRATCH + 0x100 + 16 * n], xmm%[n]
    %assign n n + 1
  %endrep
    mov esi, RAM_SCRATCH + 0x100
    lea rdi, [rel sse_patterns]
    mov ecx, 256
    repe cmpsb
    FAIL_IF ne
END_CHECK

; Where the CPU and Keel offer XSAVE: CR4.OSXSAVE shows in CPUID, XSETBV
; refuses an XCR0 without x87 with #GP(0), takes x87|SSE(|AVX), and the
; upper halves of the YMM registers survive exits. Without XSAVE: a note.
CHECK 32, "XSAVE: XSETBV checks its operand, CPUID.OSXSAVE follows CR4, YMM survives exits"
    mov eax, 1
    cpuid
    bt ecx, 26
    jnc .xs_absent
    mov r12d, ecx                       ; bit 28: AVX
    mov rax, cr4
    bts rax, 18                         ; CR4.OSXSAVE
    mov cr4, rax
    mov eax, 1
    cpuid
    bt ecx, 27
    FAIL_IF nc
    ARM GP, 3
    xor ecx, ecx
    xor edx, edx
    mov eax, 2                          ; SSE without x87: #GP(0)
    xsetbv                              ; 0F 01 D1
    EXPECT qword [V_GP_COUNT], 1
    EXPECT qword [V_GP_ERR], 0
    mov ebx, 3                          ; x87 | SSE
    bt r12d, 28
    jnc .xs_set
    or ebx, 4                           ; | AVX
.xs_set:
    mov eax, ebx
    xor ecx, ecx
    xor edx, edx
    xsetbv
    xor ecx, ecx
    xgetbv
    EXPECT eax, ebx
    bt r12d, 28
    jnc .xs_done
    vmovdqu ymm0, [rel ymm_patterns]
    vmovdqu ymm7, [rel ymm_patterns + 32]
    vmovdqu ymm15, [rel ymm_patterns + 64]
    mov r15d, YMM_ITERATIONS
.xs_loop:
    mov eax, CHECK_CUR
    mov dx, PORT_CHECKPOINT
    out dx, eax
    xor eax, eax
    cpuid
    dec r15d
    jnz .xs_loop
    vmovdqu [RAM_SCRATCH], ymm0
    vmovdqu [RAM_SCRATCH + 32], ymm7
    vmovdqu [RAM_SCRATCH + 64], ymm15
    mov esi, RAM_SCRATCH
    lea rdi, [rel ymm_patterns]
    mov ecx, 96
    repe cmpsb
    FAIL_IF ne
    jmp .xs_done
.xs_absent:
    PRINT "no XSAVE offered: XSAVE checks skipped", 10
.xs_done:
END_CHECK

    PASS

; ===========================================================================
; Handlers (64-bit interrupt gates)

; #UD: if armed, record the saved RIP, resume V_UD_SKIP bytes after it.
ud_handler:
    cmp qword [V_UD_ARMED], 0
    je lm_stubs + VEC_UD * STUB_SIZE    ; not expected: the catch-all
    mov qword [V_UD_ARMED], 0
    push rax
    mov rax, [rsp + 8]                  ; RIP
    mov [V_UD_RIP], rax
    add rax, [V_UD_SKIP]
    mov [rsp + 8], rax
    inc qword [V_UD_COUNT]
    pop rax
    iretq

; #GP: if armed, record the error code and saved RIP, resume V_GP_SKIP
; bytes after it.
gp_handler:
    cmp qword [V_GP_ARMED], 0
    je lm_stubs + VEC_GP * STUB_SIZE
    mov qword [V_GP_ARMED], 0
    push rax
    mov rax, [rsp + 8]                  ; error code
    mov [V_GP_ERR], rax
    mov rax, [rsp + 16]                 ; RIP
    mov [V_GP_RIP], rax
    add rax, [V_GP_SKIP]
    mov [rsp + 16], rax
    inc qword [V_GP_COUNT]
    pop rax
    add rsp, 8                          ; drop the error code
    iretq

; IRQ_VECTOR (software INT or the external interrupt of port 0x517): count
; and record the saved RIP. No EOI: there is no local APIC.
irq_handler:
    push rax
    mov rax, [rsp + 8]
    mov [V_IRQ_RIP], rax
    inc qword [V_IRQ_COUNT]
    pop rax
    iretq

; ===========================================================================
; Data

[section .rodata]
    align 16
alias_probe:
    dd 0x600DF00D
ymm_patterns:                           ; byte n = n * 0x3d + 0x11: 96 distinct
  %assign n 0
  %rep 96
    db (n * 0x3D + 0x11) & 0xFF
    %assign n n + 1
  %endrep
sse_patterns:                           ; byte n = n * 0x9d + 0x3b: all distinct
  %assign n 0
  %rep 256
    db (n * 0x9D + 0x3B) & 0xFF
    %assign n n + 1
  %endrep
x87_values:
    dq 0xC90FDAA22168C235               ; pi
    dw 0x4000
    dq 0xB17217F7D1CF79AC               ; -ln 2
    dw 0xBFFE
x87_values_popped:                      ; the same, in the order FSTP gives them
    dq 0xB17217F7D1CF79AC
    dw 0xBFFE
    dq 0xC90FDAA22168C235
    dw 0x4000
x87_control:
    dw X87_CONTROL
    align 4
mxcsr_value:
    dd MXCSR_VALUE
__SECT__

GUEST_END
