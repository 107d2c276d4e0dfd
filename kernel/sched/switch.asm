; Kernel context switch: the System V callee-saved registers and RSP.
; void switch_context(uint64_t *save_rsp, uint64_t new_rsp)
; A new thread's stack is prepared by thread_create so that the final RET
; lands in thread_start with its registers zeroed.

%include "kernel/frame.inc"

global switch_context
global thread_start
extern thread_main

section .text
switch_context:
    PUSH_CALLEE_SAVED
    mov [rdi], rsp
    mov rsp, rsi
    POP_CALLEE_SAVED
    ret

; First code of every thread: thread_main(thread) never returns.
thread_start:
    mov rdi, r12                ; the struct thread *, placed in R12 by thread_create
    xor ebp, ebp
    call thread_main
    ud2

section .note.GNU-stack noalloc noexec nowrite progbits
