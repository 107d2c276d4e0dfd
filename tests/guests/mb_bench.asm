; mb_bench: a multiboot1 guest (address-field form) for `make bench`: times
; round trips from the guest to the ring-3 VMM and back, with RDTSC (which
; counts instructions under QEMU -icount shift=0 and Bochs clock: sync=none):
;   1000 x OUT to port 0x80                (an I/O exit the VMM answers: the
;                                           POST-code port, which it ignores,
;                                           as guests use it for I/O delays)
;   1000 x a store to unbacked MMIO        (an MMIO exit, decoded by the core)
;   1000 x an empty loop                   (the loop's own cost)
; It prints "bench-vmm: io-exit N, mmio-exit M, loop-overhead L" (TSC ticks
; per round trip) and ends with status 0.

%include "mb_common.inc"

%define LOAD_ADDR   0x100000
%define BENCH_FLAGS (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_ADDRESS)
%define STACK_TOP   0x90000
%define ITERATIONS  1000
%define IDLE_PORT   0x80                ; POST codes: the VMM takes and drops them
%define MMIO_ADDR   0xfeb00000          ; no RAM and no device there

bits 32
org LOAD_ADDR

multiboot_header:                      ; Multiboot spec 3.1.2 and 3.1.3
    dd MB_HEADER_MAGIC
    dd BENCH_FLAGS
    dd -(MB_HEADER_MAGIC + BENCH_FLAGS)
    dd multiboot_header
    dd LOAD_ADDR
    dd load_end
    dd load_end
    dd start

; TIMED name: runs the loop body ITERATIONS times (warm-up pass first) and
; leaves the average TSC ticks per pass in [name].
%macro TIMED 2
    mov ebp, 2
%%pass:
    lfence
    rdtsc
    lfence
    mov [t0], eax
    mov [t0 + 4], edx
    mov ecx, ITERATIONS
%%loop:
    %2
    dec ecx
    jnz %%loop
    lfence
    rdtsc
    lfence
    sub eax, [t0]
    sbb edx, [t0 + 4]
    mov ebx, ITERATIONS
    div ebx
    mov [%1], eax
    dec ebp
    jnz %%pass
%endmacro

%macro IO_EXIT 0
    mov dx, IDLE_PORT
    out dx, al
%endmacro
%macro MMIO_EXIT 0
    mov dword [MMIO_ADDR], ecx
%endmacro
%macro NO_EXIT 0
    nop
%endmacro

start:
    mov esp, STACK_TOP
    TIMED io_ticks, IO_EXIT
    TIMED mmio_ticks, MMIO_EXIT
    TIMED loop_ticks, NO_EXIT
    PRINT "bench-vmm: io-exit "
    mov eax, [io_ticks]
    call put_dec
    PRINT ", mmio-exit "
    mov eax, [mmio_ticks]
    call put_dec
    PRINT ", loop-overhead "
    mov eax, [loop_ticks]
    call put_dec
    PRINT `\n`
    xor eax, eax
    jmp exit_vm

; put_dec: EAX in decimal through COM1. Keeps every register.
put_dec:
    pushad
    mov ebx, 10
    xor ecx, ecx
.divide:
    xor edx, edx
    div ebx
    push edx
    inc ecx
    test eax, eax
    jnz .divide
.print:
    pop eax
    add al, '0'
    call putc
    loop .print
    popad
    ret

MB_COMMON_CODE

align 8
t0:         dq 0
io_ticks:   dd 0
mmio_ticks: dd 0
loop_ticks: dd 0
load_end:
