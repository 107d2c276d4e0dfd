/* Per-CPU IDT set-up. */
#include "idt.h"
#include "cpu.h"
#include "gdt.h"
#include "traps.h"

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */

extern const uint64_t trap_stub_table[IDT_VECTORS];

static uint8_t ist_for_vector(unsigned vector)
{
    switch (vector) {
    case VEC_DOUBLE_FAULT:
        return IST_DOUBLE_FAULT;
    case VEC_NMI:
        return IST_NMI;
    case VEC_MACHINE_CHECK:
        return IST_MACHINE_CHECK;
    default:
        return 0;
    }
}

void idt_load_cpu(struct idt *idt)
{
    for (unsigned v = 0; v < IDT_VECTORS; v++) {
        uint64_t addr = trap_stub_table[v];
        idt->gates[v] = (struct idt_gate){
            .offset_low = addr & 0xffff,
            .selector = SEL_KERNEL_CODE,
            .ist = ist_for_vector(v),
            .type_attr = GATE_INTERRUPT,
            .offset_mid = (addr >> 16) & 0xffff,
            .offset_high = addr >> 32,
        };
    }
    struct descriptor_table_pointer ptr = {sizeof(*idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(ptr) : "memory");
}
