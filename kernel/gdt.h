/* Per-CPU GDT and TSS (SDM Vol. 3A 3.4.5, 8.2.3, 8.7). Selector layout is
 * fixed with SYSCALL/SYSRET in mind: kernel code, kernel data, then user
 * 32-bit code placeholder, user data, user 64-bit code. */
#ifndef KEEL_GDT_H
#define KEEL_GDT_H

#include <stdint.h>

#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_CODE32 0x1b
#define SEL_USER_DATA   0x23
#define SEL_USER_CODE   0x2b
#define SEL_TSS         0x30

/* Interrupt stack table slots (1-based in the IDT gate). */
#define IST_DOUBLE_FAULT  1
#define IST_NMI           2
#define IST_MACHINE_CHECK 3
#define IST_COUNT         3

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

struct gdt {
    uint64_t entries[8]; /* 6 segments + the 16-byte TSS descriptor */
} __attribute__((aligned(16)));

struct percpu;

/* Builds and loads the GDT and TSS of p on the calling CPU; ist_stacks holds
 * IST_COUNT stack tops. */
void gdt_load_cpu(struct percpu *p, const uint64_t ist_stacks[IST_COUNT]);

#endif
