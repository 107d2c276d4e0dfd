/* The host's local APIC in xAPIC (MMIO) or x2APIC (MSR) mode
 * (SDM Vol. 3A chapter 11, "Advanced Programmable Interrupt Controller"). */
#ifndef KEEL_APIC_LAPIC_H
#define KEEL_APIC_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets in the xAPIC page (SDM Vol. 3A table 11-1); the x2APIC
 * MSR is 0x800 + offset / 16 (table 11-6). */
#define LAPIC_ID         0x020
#define LAPIC_VERSION    0x030
#define LAPIC_TPR        0x080
#define LAPIC_EOI        0x0b0
#define LAPIC_SVR        0x0f0
#define LAPIC_ESR        0x280
#define LAPIC_ICR_LOW    0x300
#define LAPIC_ICR_HIGH   0x310
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_LVT_LINT0  0x350
#define LAPIC_LVT_LINT1  0x360
#define LAPIC_LVT_ERROR  0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR  0x390
#define LAPIC_TIMER_DIV  0x3e0

#define LVT_MASKED         (1u << 16)
#define LVT_TIMER_ONESHOT  (0u << 17)
#define LVT_TIMER_DEADLINE (2u << 17)
#define LVT_DELIVERY_NMI   (4u << 8)

/* ICR (SDM Vol. 3A 11.6.1). */
#define ICR_FIXED        (0u << 8)
#define ICR_NMI          (4u << 8)
#define ICR_INIT         (5u << 8)
#define ICR_STARTUP      (6u << 8)
#define ICR_ASSERT       (1u << 14)
#define ICR_LEVEL        (1u << 15)
#define ICR_ALL_BUT_SELF (3u << 18)

extern bool lapic_x2apic_mode;

/* Enables the boot CPU's local APIC (x2APIC mode where the CPU has it). */
void lapic_init_boot_cpu(void);
/* Enables an AP's local APIC in the same mode as the boot CPU's. */
void lapic_init_this_cpu(void);

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t value);
uint32_t lapic_id(void);
void lapic_eoi(void);

/* Sends an IPI (ICR low bits in icr) to the CPU with APIC ID dest; waits for
 * the xAPIC's delivery status to clear, with a bound. Returns false if the
 * IPI was still pending after the bound. */
bool lapic_send_ipi(uint32_t dest, uint32_t icr);

#endif
