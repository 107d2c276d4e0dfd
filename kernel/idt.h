/* Interrupt descriptor tables (SDM Vol. 3A 6.14): one per CPU, built from
 * the same table of entry stubs. */
#ifndef KEEL_IDT_H
#define KEEL_IDT_H

#include <stdint.h>

#define IDT_VECTORS 256

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

struct idt {
    struct idt_gate gates[IDT_VECTORS];
} __attribute__((aligned(16)));

/* Fills idt with every vector's stub and loads it on the calling CPU. */
void idt_load_cpu(struct idt *idt);

#endif
