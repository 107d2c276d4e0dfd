; Entry of every ring-3 partition image (include/keel/start.h).
;
; The core starts a partition's first thread at _start with RDI pointing at
; its struct keel_start_info and RSP 16-byte aligned below it. _start does
; not trust the alignment: it realigns RSP, clears RBP (the end of the frame
; chain for backtraces), calls main(start_info) and hands main's result to
; keel_exit, which does not return.
;
; keel_thread_trampoline is where threads made by keel_thread_spawn begin
; (user/lib/hypercall.c): RDI points at a struct keel_thread_start
; { void (*fn)(void *); void *arg; }; it calls fn(arg) on an aligned stack,
; then keel_thread_exit(0).

bits 64
default rel

extern main
extern keel_exit
extern keel_thread_exit

section .text.start progbits alloc exec nowrite align=16
global _start:function
_start:
    xor ebp, ebp
    and rsp, -16                ; SysV ABI: RSP % 16 == 0 before the call
    call main                   ; RDI (start info) is main's first argument
    mov edi, eax
    call keel_exit
    ud2                         ; keel_exit never returns

section .text progbits alloc exec nowrite align=16
global keel_thread_trampoline:function
keel_thread_trampoline:
    xor ebp, ebp
    and rsp, -16
    mov rax, [rdi]              ; fn
    mov rdi, [rdi + 8]          ; arg
    call rax
    xor edi, edi
    call keel_thread_exit
    ud2

section .note.GNU-stack noalloc noexec nowrite progbits
