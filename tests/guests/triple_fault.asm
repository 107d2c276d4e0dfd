; triple_fault: a guest that must end in a shutdown (tests/guests/README.md).
;
; It goes to protected mode, loads an IDT whose limit is 0 and executes INT3.
; The #BP gate lies beyond the limit, so the CPU raises #GP, whose gate is
; beyond it too, then #DF, likewise: a triple fault, and the VM shuts down
; (SDM vol. 3A 6.15, interrupt 8, "Interrupt Conditions That Cause a Double
; Fault"; 6.12.1.1 on gates beyond the IDT limit). The host expects a
; shutdown with checkpoint 1 and no result: this guest never writes
; PORT_RESULT. Checkpoint 2 means the fault did not stop it.

%include "common.inc"

GUEST_BEGIN
    PRINT "real", 10
    GO_PROTECTED
    PRINT "protected", 10
    PRINT "triple fault now", 10
    CHECKPOINT 1
    lidt [LIN(empty_idt_desc)]
    int3

    ; Not reached.
    CHECKPOINT 2
    PRINT "error: no triple fault", 10
.halt:
    cli
    hlt
    jmp .halt

[section .rodata]
empty_idt_desc:
    dw 0                                ; limit 0: no gate fits
    dd 0
__SECT__

GUEST_END
