; bench: exit round-trip costs for `make bench` (tests/guests/README.md).
;
; In long mode, times with RDTSC (fenced with LFENCE on both sides, SDM vol. 2B
; RDTSC) BENCH_ITERATIONS iterations each of:
;   - CPUID leaf 0        -> average ticks per iteration on PORT_BENCH_CPUID
;   - OUT 0x510, EAX      -> average on PORT_BENCH_IO
;   - NOP (no exit)       -> average on PORT_BENCH_LOOP: the loop's own cost,
;                            for the host to subtract from the other two
; Each loop runs once untimed first to warm caches and TLBs. The figures are
; also logged; then the result is 0 on PORT_RESULT.
; Checkpoints: 1 CPUID loop, 2 OUT loop, 3 NOP loop, 4 reporting.

%include "common.inc"

BENCH_ITERATIONS    equ 1000
BENCH_IO_VALUE      equ 2               ; what the OUT loop writes: checkpoint 2

; TIME_LOOP setup, body: RAX = average TSC ticks per iteration of a loop
; that runs body BENCH_ITERATIONS times; setup runs once, after the first
; RDTSC (which overwrites EAX and EDX). R12 counts, R13 holds the start.
; Clobbers RAX, RCX, RDX, R12, R13 and whatever body clobbers.
%macro TIME_LOOP 2
    mov r12d, BENCH_ITERATIONS
    lfence
    rdtsc
    lfence
    shl rdx, 32
    or rax, rdx
    mov r13, rax
    %1
    jmp %%iteration
    align 16
%%iteration:
    %2
    dec r12d
    jnz %%iteration
    lfence
    rdtsc
    lfence
    shl rdx, 32
    or rax, rdx
    sub rax, r13
    xor edx, edx
    mov ecx, BENCH_ITERATIONS
    div rcx
%endmacro

%macro NO_SETUP 0
%endmacro

%macro CPUID_LEAF0 0
    xor eax, eax
    cpuid
%endmacro

%macro IO_SETUP 0
    mov dx, PORT_CHECKPOINT
    mov eax, BENCH_IO_VALUE
%endmacro

%macro IO_OUT 0                         ; after IO_SETUP
    out dx, eax
%endmacro

; MEASURE setup, body, port, "name": a warm-up run, a timed run; the
; average goes to port and to the log.
%macro MEASURE 4
    TIME_LOOP %1, %2
    TIME_LOOP %1, %2
    mov dx, %3
    out dx, eax
    PRINT "bench: ", %4, " "
    call lm_put_dec
    PRINT " ticks per iteration", 10
%endmacro

GUEST_BEGIN
    PRINT "real", 10
    call rm_ivt_install
    GO_PROTECTED
    PRINT "protected", 10
    call pm_idt_install
    GO_LONG
    PRINT "long", 10
    call lm_idt_install

    CHECKPOINT 1
    MEASURE NO_SETUP, CPUID_LEAF0, PORT_BENCH_CPUID, "cpuid (leaf 0)"
    CHECKPOINT BENCH_IO_VALUE
    MEASURE IO_SETUP, IO_OUT, PORT_BENCH_IO, "out 0x510"
    CHECKPOINT 3
    MEASURE NO_SETUP, nop, PORT_BENCH_LOOP, "empty loop (nop)"
    CHECKPOINT 4
    PASS

GUEST_END
