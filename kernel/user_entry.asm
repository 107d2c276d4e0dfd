; Ring 3 entry and the SYSCALL path (SDM Vol. 2B SYSCALL/SYSRET, Vol. 3A 6.14
; for IRETQ). In the core GS holds the per-CPU block; in ring 3 the user's GS
; base is live and the per-CPU block waits in KERNEL_GS_BASE (SWAPGS flips).
; The SYSCALL frame has the layout of struct trap_frame (kernel/traps.h), so
; a partition's registers can be reported and changed the same way; the way
; back is IRETQ, never SYSRET (whose #GP on a non-canonical RCX would be taken
; in ring 0 with the user's stack), and syscall_dispatch checks the frame.

%include "kernel/frame.inc"

%include "boot/layout.inc"

extern syscall_dispatch
global enter_user
global syscall_entry

SEL_USER_CODE    equ 0x2b
SEL_USER_DATA    equ 0x23
PERCPU_KERNEL_RSP equ 8
PERCPU_USER_RSP  equ 16
RFLAGS_IF        equ 1 << 9
SYSCALL_MARK     equ 0x100          ; "vector" of a SYSCALL frame

section .text
; void enter_user(uint64_t rip, uint64_t rsp, uint64_t arg): leaves the core
; for ring 3 with every other register cleared. Interrupts are on there.
enter_user:
    cli
    push qword SEL_USER_DATA
    push rsi
    push qword RFLAGS_IF | 2
    push qword SEL_USER_CODE
    push rdi
    mov rdi, rdx
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    xor ebp, ebp
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
    xor r12d, r12d
    xor r13d, r13d
    xor r14d, r14d
    xor r15d, r15d
    swapgs
    iretq

syscall_entry:
    swapgs
    mov [gs:PERCPU_USER_RSP], rsp
    mov rsp, [gs:PERCPU_KERNEL_RSP]
    push qword SEL_USER_DATA        ; ss
    push qword [gs:PERCPU_USER_RSP] ; rsp
    push r11                        ; rflags
    push qword SEL_USER_CODE        ; cs
    push rcx                        ; rip
    push qword 0                    ; error code
    push qword SYSCALL_MARK         ; vector
    PUSH_GPRS
    cld
    mov rdi, rsp
    call syscall_dispatch           ; enables interrupts while it works
    cli
    POP_GPRS
    add rsp, 16
    swapgs
    iretq

section .note.GNU-stack noalloc noexec nowrite progbits
