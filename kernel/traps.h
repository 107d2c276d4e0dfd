/* Exceptions and interrupts in the core. */
#ifndef KEEL_TRAPS_H
#define KEEL_TRAPS_H

#include <stdint.h>

/* Exception vectors (SDM Vol. 3A 6.3.1, table 6-1). */
#define VEC_DIVIDE_ERROR   0
#define VEC_NMI            2
#define VEC_INVALID_OPCODE 6
#define VEC_DOUBLE_FAULT   8
#define VEC_GP_FAULT       13
#define VEC_PAGE_FAULT     14
#define VEC_MACHINE_CHECK  18
#define VEC_FIRST_IRQ      32

/* Vectors the core uses for its own interrupts. */
#define VEC_LAPIC_TIMER 0xef
#define VEC_CROSS_CALL  0xf0
#define VEC_KICK        0xf1 /* reschedule, or leave guest mode (sched_kick_cpu) */
#define VEC_LAPIC_ERROR 0xfe
#define VEC_SPURIOUS    0xff

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*interrupt_handler)(struct trap_frame *frame);

/* Installs handler for a vector >= VEC_FIRST_IRQ (boot time only). */
void interrupt_register(unsigned vector, interrupt_handler handler);

/* Called by the NMI vector: returns 1 if a panic or cross call consumed it. */
typedef int (*nmi_handler)(struct trap_frame *frame);
void nmi_register(nmi_handler handler);

void trap_dispatch(struct trap_frame *frame);

#endif
