; Entry stubs for all 256 vectors. Each pushes a dummy error code where the
; CPU pushes none (SDM Vol. 3A 6.13, table 6-1 lists the vectors with one),
; then the vector number, and joins trap_common, which saves the GPRs as a
; struct trap_frame (kernel/traps.h) and calls trap_dispatch(frame).

%include "kernel/frame.inc"

extern trap_dispatch
global trap_stub_table

section .text
align 16
trap_common:
    test byte [rsp + 24], 3     ; CS of the interrupted context: ring 3?
    jz .from_kernel
    swapgs                      ; the per-CPU block back in GS
.from_kernel:
    PUSH_GPRS
    cld
    mov rdi, rsp
    call trap_dispatch
    POP_GPRS
    add rsp, 16                 ; vector and error code
    test byte [rsp + 8], 3      ; returning to ring 3?
    jz .to_kernel
    swapgs
.to_kernel:
    iretq

%macro TRAP_STUB 1
align 16
trap_stub_%1:
%if (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
    push qword %1
%else
    push qword 0
    push qword %1
%endif
    jmp trap_common
%endmacro

%assign vec 0
%rep 256
    TRAP_STUB vec
%assign vec vec + 1
%endrep

section .rodata
align 8
trap_stub_table:
%assign vec 0
%rep 256
    dq trap_stub_ %+ vec
%assign vec vec + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
