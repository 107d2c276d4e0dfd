; A hostile root partition: it feeds the core every kind of bad hypercall
; argument and checks each error code, then tries port I/O, which must get it
; killed (#GP: ring 3 has no I/O permission). The core must survive all of
; it. Linked at 0x401000 by tests/partitions/partitions.mk.

bits 64
default rel

KEEL_HC_CONSOLE_WRITE equ 0
KEEL_HC_MEM_MAP       equ 3
KEEL_HC_MEM_UNMAP     equ 4
KEEL_HC_MODULE_OPEN   equ 5
KEEL_HC_MODULE_MAP    equ 6
KEEL_HC_EXIT          equ 2
KEEL_HC_CREATE_VM     equ 32
KEEL_HC_SET_REGION    equ 33
KEEL_HC_CREATE_VCPU   equ 34
KEEL_HC_RUN           equ 35
KEEL_HC_GET_REGS      equ 36
KEEL_HC_INTERRUPT     equ 45
KEEL_HC_IRQ_LINE      equ 47
KEEL_HC_SIGNAL_MSI    equ 48
KEEL_HC_AFFINITY      equ 13
EEXIST equ -17
EFAULT equ -14
EINVAL equ -22
ENOENT equ -2
EBADF  equ -9
ENOSYS equ -38

; EXPECT_HC number, rdi, rsi, expected: makes the call, compares RAX.
%macro EXPECT_HC 4
    mov eax, %1
    mov rdi, %2
    mov rsi, %3
    xor edx, edx
    syscall
    mov rbx, %4
    cmp rax, rbx
    jne fail
    inc r15
%endmacro

section .text
global _start
_start:
    xor r15d, r15d                                      ; checks passed
    EXPECT_HC KEEL_HC_CONSOLE_WRITE, 0xffffffff80100000, 8, EFAULT   ; the core's image
    EXPECT_HC KEEL_HC_CONSOLE_WRITE, 0xffff800000000000, 8, EFAULT   ; the direct map
    EXPECT_HC KEEL_HC_CONSOLE_WRITE, 0x7000000000, 8, EFAULT         ; unmapped
    EXPECT_HC KEEL_HC_CONSOLE_WRITE, 0x8000000000000000, 8, EFAULT   ; non-canonical
    EXPECT_HC KEEL_HC_CONSOLE_WRITE, msg, 0x7fffffffffffffff, EINVAL ; absurd length
    EXPECT_HC KEEL_HC_MEM_MAP, 4096, 0, EINVAL                       ; no READ
    EXPECT_HC KEEL_HC_MEM_MAP, 100, 3, EINVAL                        ; not a page multiple
    EXPECT_HC KEEL_HC_MEM_MAP, 0, 3, EINVAL                          ; empty
    EXPECT_HC KEEL_HC_MEM_MAP, 0x100000000000, 3, EINVAL             ; absurd size
    EXPECT_HC KEEL_HC_MEM_MAP, 4096, 0x80000003, EINVAL              ; unknown flag
    EXPECT_HC KEEL_HC_MEM_UNMAP, 0xffffffff80100000, 4096, EINVAL    ; the core's memory
    EXPECT_HC KEEL_HC_MEM_UNMAP, 0x401001, 4096, EINVAL              ; misaligned
    EXPECT_HC KEEL_HC_MODULE_OPEN, name_missing, 7, ENOENT           ; no such module
    EXPECT_HC KEEL_HC_MODULE_OPEN, 0xffff800000001000, 4, EFAULT     ; name in the core
    EXPECT_HC KEEL_HC_MODULE_OPEN, name_missing, 0, EINVAL           ; empty name
    EXPECT_HC KEEL_HC_MODULE_MAP, 0, info, EBADF                     ; handle 0 is never valid
    EXPECT_HC KEEL_HC_MODULE_MAP, 63, info, EBADF                    ; an empty slot
    EXPECT_HC KEEL_HC_MODULE_MAP, -5, info, EBADF                    ; negative
    EXPECT_HC KEEL_HC_MODULE_MAP, 1000000, info, EBADF               ; out of range
    EXPECT_HC 9999, 0, 0, ENOSYS                                     ; no such hypercall
    ; The VM calls: bad regions, vCPU ids, handles of the wrong kind.
    mov eax, KEEL_HC_CREATE_VM
    syscall
    test rax, rax
    jle fail
    mov r13, rax                                                     ; the VM handle
    mov eax, KEEL_HC_MEM_MAP                                         ; 64 KiB of RAM to give
    mov edi, 0x10000
    mov esi, 3
    syscall
    test rax, rax
    jle fail
    mov r14, rax
    mov [region + 24], r14                                           ; userspace_addr
    EXPECT_HC KEEL_HC_SET_REGION, r13, region, 0                     ; slot 0 at GPA 0
    EXPECT_HC KEEL_HC_SET_REGION, r13, region, EEXIST                ; same slot again
    mov dword [region], 1
    EXPECT_HC KEEL_HC_SET_REGION, r13, region, EEXIST                ; overlaps slot 0
    mov qword [region + 8], 0x100000
    mov rax, 0xffffffff80100000
    mov [region + 24], rax
    EXPECT_HC KEEL_HC_SET_REGION, r13, region, EFAULT                ; the core's memory
    mov rax, 0x7000000000
    mov [region + 24], rax
    EXPECT_HC KEEL_HC_SET_REGION, r13, region, EFAULT                ; unmapped memory
    mov qword [region + 24], msg - 1                                 ; not page-aligned
    EXPECT_HC KEEL_HC_SET_REGION, r13, region, EINVAL
    mov [region + 24], r14
    mov rax, 0x4000000000000
    mov [region + 16], rax                         ; absurd size
    EXPECT_HC KEEL_HC_SET_REGION, r13, region, EINVAL
    mov qword [region + 16], 0
    EXPECT_HC KEEL_HC_SET_REGION, r13, region, EINVAL                ; size 0
    mov dword [region], 99
    mov qword [region + 16], 0x10000
    EXPECT_HC KEEL_HC_SET_REGION, r13, region, EINVAL                ; no slot 99
    EXPECT_HC KEEL_HC_SET_REGION, r13, 0xffff800000000000, EFAULT    ; the struct in the core
    EXPECT_HC KEEL_HC_SET_REGION, r14, region, EBADF                 ; not a handle
    mov eax, KEEL_HC_CREATE_VCPU
    mov rdi, r13
    mov esi, 64                                                      ; ids are 0..63
    lea rdx, [run_ptr]
    syscall
    cmp rax, EINVAL
    jne fail
    inc r15
    mov eax, KEEL_HC_CREATE_VCPU
    mov rdi, r13
    xor esi, esi
    mov rdx, 0xffffffff80100000                                      ; run-page pointer in the core
    syscall
    cmp rax, EFAULT
    jne fail
    inc r15
    EXPECT_HC KEEL_HC_RUN, r13, 0, EBADF                             ; a VM handle is no vCPU
    EXPECT_HC KEEL_HC_RUN, 62, 0, EBADF                              ; a slot that is empty here
    EXPECT_HC KEEL_HC_GET_REGS, r13, regs, EBADF
    EXPECT_HC KEEL_HC_INTERRUPT, 62, 0x40, EBADF
    EXPECT_HC KEEL_HC_IRQ_LINE, 62, irq_level, EBADF                 ; no such VM
    EXPECT_HC KEEL_HC_IRQ_LINE, r13, 0xffff800000000000, EFAULT      ; the struct in the core
    mov dword [irq_level], 7
    EXPECT_HC KEEL_HC_IRQ_LINE, r13, irq_level, EINVAL               ; only LINT0 and LINT1
    mov dword [irq_level], 1
    mov dword [irq_level + 4], 5
    EXPECT_HC KEEL_HC_IRQ_LINE, r13, irq_level, EINVAL               ; a level is 0 or 1
    EXPECT_HC KEEL_HC_SIGNAL_MSI, r13, msi, EINVAL                   ; address not 0xfeexxxxx
    mov dword [msi], 0xfee00000
    mov dword [msi + 12], 1
    EXPECT_HC KEEL_HC_SIGNAL_MSI, r13, msi, EINVAL                   ; unknown flag
    mov dword [msi + 12], 0
    EXPECT_HC KEEL_HC_SIGNAL_MSI, r13, msi, 0                        ; no vCPU: nobody takes it
    EXPECT_HC KEEL_HC_SIGNAL_MSI, r14, msi, EBADF                    ; not a handle
    EXPECT_HC KEEL_HC_AFFINITY, 0x8000000000000000, 0, EINVAL        ; only offline CPUs
    EXPECT_HC KEEL_HC_AFFINITY, 0, 0, 0                              ; any CPU again
    ; Memory that works: a read-only page reads as zeros.
    mov eax, KEEL_HC_MEM_MAP
    mov edi, 4096
    mov esi, 1
    syscall
    test rax, rax
    jle fail
    cmp qword [rax], 0
    jne fail
    inc r15
    mov eax, r15d                                                    ; "hostile: all NN ..."
    xor edx, edx
    mov ecx, 10
    div ecx
    add al, '0'
    add dl, '0'
    mov [report_count], al
    mov [report_count + 1], dl
    mov eax, KEEL_HC_CONSOLE_WRITE
    lea rdi, [report]
    mov esi, report_len
    syscall
    mov dx, 0x3f8
    in al, dx                                                        ; #GP: killed here
    mov eax, KEEL_HC_EXIT
    mov edi, 1
    syscall
fail:
    mov eax, KEEL_HC_CONSOLE_WRITE
    lea rdi, [failed]
    mov esi, failed_len
    syscall
    mov eax, KEEL_HC_EXIT
    mov rdi, r15
    add rdi, 100                                                     ; status 100 + check
    syscall
    ud2

section .data
report:       db "hostile: all "
report_count: db "00 checks passed; now port I/O, which must end this partition", 10
report_len    equ $ - report
failed:       db "hostile: a check FAILED (exit status 100 + its index)", 10
failed_len    equ $ - failed
msg:          db "x"
name_missing: db "missing"

region:       dd 0, 0                                            ; slot, flags
              dq 0, 0x10000, 0                                   ; GPA, size, user address

section .data
align 8
irq_level: dd 0, 1                     ; struct keel_irq_level
msi:       dd 0x12340000, 0, 0x30, 0   ; struct keel_msi: address_lo, address_hi, data, flags
           times 16 db 0

section .bss
info: resb 64
regs: resb 160
run_ptr: resq 1

section .note.GNU-stack noalloc noexec nowrite progbits
