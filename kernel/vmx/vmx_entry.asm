; VT-x world switch (Intel SDM Vol. 3C 31.3 VMLAUNCH/VMRESUME; 28.5 loading
; host state on VM exit).
;
; int vmx_enter(struct guest_gprs *gprs, int launched, uint64_t *host_rsp)
;   Saves the host's callee-saved registers, keeps gprs on the stack for the
;   exit stub, writes the VMCS host-RSP field when the stack pointer differs
;   from *host_rsp, loads the guest GPRs and executes VMLAUNCH (launched == 0)
;   or VMRESUME. Returns 0 after a VM exit, with the guest GPRs saved back;
;   1 on VMfailValid (ZF), 2 on VMfailInvalid (CF) (SDM 31.2).
; vmx_exit_stub is the VMCS host-RIP: VM exit arrives there with RSP as
;   written, RFLAGS = 2 (interrupts off, DF clear) and the guest's GPRs live.
; RSP, RIP, RFLAGS and CR2 are not handled here (VMCS fields; CR2 in C).
;
; struct guest_gprs (kernel/vcpu.h), checked by _Static_assert in vmx_vcpu.c:

%include "kernel/frame.inc"
%define GPR_RAX 0
%define GPR_RBX 8
%define GPR_RCX 16
%define GPR_RDX 24
%define GPR_RSI 32
%define GPR_RDI 40
%define GPR_RBP 48
%define GPR_R8  56
%define GPR_R9  64
%define GPR_R10 72
%define GPR_R11 80
%define GPR_R12 88
%define GPR_R13 96
%define GPR_R14 104
%define GPR_R15 112

%define VMCS_HOST_RSP 0x6c14    ; SDM Vol. 3C appendix B.4.4

global vmx_enter
global vmx_exit_stub

section .text
vmx_enter:
    PUSH_CALLEE_SAVED
    push rdi                    ; [rsp]: struct guest_gprs *, for the exit stub

    cmp rsp, [rdx]
    je .host_rsp_ok
    mov [rdx], rsp
    mov eax, VMCS_HOST_RSP
    vmwrite rax, rsp
.host_rsp_ok:
    test esi, esi               ; ZF set: first entry. MOVs keep the flags.
    mov rax, [rdi + GPR_RAX]
    mov rbx, [rdi + GPR_RBX]
    mov rcx, [rdi + GPR_RCX]
    mov rdx, [rdi + GPR_RDX]
    mov rsi, [rdi + GPR_RSI]
    mov rbp, [rdi + GPR_RBP]
    mov r8,  [rdi + GPR_R8]
    mov r9,  [rdi + GPR_R9]
    mov r10, [rdi + GPR_R10]
    mov r11, [rdi + GPR_R11]
    mov r12, [rdi + GPR_R12]
    mov r13, [rdi + GPR_R13]
    mov r14, [rdi + GPR_R14]
    mov r15, [rdi + GPR_R15]
    mov rdi, [rdi + GPR_RDI]
    jz .launch
    vmresume
    jmp .failed                 ; only reached when VMRESUME failed
.launch:
    vmlaunch
.failed:                        ; still on the host stack; CF or ZF tells why
    mov eax, 2
    jc .restore
    mov eax, 1
.restore:
    add rsp, 8                  ; the gprs pointer
    POP_CALLEE_SAVED
    ret

vmx_exit_stub:
    push rax
    mov rax, [rsp + 8]          ; struct guest_gprs *
    mov [rax + GPR_RBX], rbx
    mov [rax + GPR_RCX], rcx
    mov [rax + GPR_RDX], rdx
    mov [rax + GPR_RSI], rsi
    mov [rax + GPR_RDI], rdi
    mov [rax + GPR_RBP], rbp
    mov [rax + GPR_R8],  r8
    mov [rax + GPR_R9],  r9
    mov [rax + GPR_R10], r10
    mov [rax + GPR_R11], r11
    mov [rax + GPR_R12], r12
    mov [rax + GPR_R13], r13
    mov [rax + GPR_R14], r14
    mov [rax + GPR_R15], r15
    pop qword [rax + GPR_RAX]
    xor eax, eax
    jmp vmx_enter.restore       ; the same epilogue as a failed entry

section .note.GNU-stack noalloc noexec nowrite progbits
