; SVM world switch (AMD APM Vol. 2 15.5 VMRUN, 15.5.2 VMLOAD/VMSAVE).
; void svm_enter(uint64_t guest_vmcb_pa, struct guest_gprs *gprs, uint64_t host_vmcb_pa)
; The caller has executed CLGI (and set RFLAGS.IF so that physical interrupts
; exit the guest); this routine swaps the state VMRUN does not (FS, GS, TR,
; LDTR, KernelGSBase, STAR/LSTAR/CSTAR/SFMASK, SYSENTER) with VMSAVE/VMLOAD
; and moves the guest's GPRs (all but RAX and RSP, which live in the VMCB).
; struct guest_gprs (kernel/vcpu.h): rax 0, rbx 8, rcx 16, rdx 24, rsi 32,
; rdi 40, rbp 48, r8 56 ... r15 112.

%include "kernel/frame.inc"

global svm_enter

section .text
svm_enter:
    PUSH_CALLEE_SAVED
    push rdx                    ; [rsp+16] host save area VMCB
    push rsi                    ; [rsp+8]  guest GPRs
    push rdi                    ; [rsp]    guest VMCB

    mov rax, rdx
    vmsave                      ; host FS/GS/TR/... into the host save VMCB

    mov rbx, [rsi + 8]
    mov rcx, [rsi + 16]
    mov rdx, [rsi + 24]
    mov rdi, [rsi + 40]
    mov rbp, [rsi + 48]
    mov r8,  [rsi + 56]
    mov r9,  [rsi + 64]
    mov r10, [rsi + 72]
    mov r11, [rsi + 80]
    mov r12, [rsi + 88]
    mov r13, [rsi + 96]
    mov r14, [rsi + 104]
    mov r15, [rsi + 112]
    mov rsi, [rsi + 32]

    mov rax, [rsp]
    vmload
    vmrun                       ; RAX (the VMCB address) comes back unchanged
    vmsave

    mov rax, [rsp + 8]
    mov [rax + 8], rbx
    mov [rax + 16], rcx
    mov [rax + 24], rdx
    mov [rax + 32], rsi
    mov [rax + 40], rdi
    mov [rax + 48], rbp
    mov [rax + 56], r8
    mov [rax + 64], r9
    mov [rax + 72], r10
    mov [rax + 80], r11
    mov [rax + 88], r12
    mov [rax + 96], r13
    mov [rax + 104], r14
    mov [rax + 112], r15

    mov rax, [rsp + 16]
    vmload                      ; host FS/GS (the per-CPU block), TR, ... back
    add rsp, 24
    POP_CALLEE_SAVED
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
