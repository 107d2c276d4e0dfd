/* Host local APIC driver. */
#include "apic/lapic.h"
#include "acpi.h"
#include "cpu.h"
#include "cpufeatures.h"
#include "memory.h"
#include "panic.h"
#include "printk.h"
#include "traps.h"

#define APIC_BASE_ENABLE  (1ull << 11) /* IA32_APIC_BASE (SDM Vol. 3A 11.4.4) */
#define APIC_BASE_X2APIC  (1ull << 10)
#define APIC_BASE_ADDRESS 0xfffff000ull
#define SVR_ENABLE        (1u << 8)
#define ICR_PENDING       (1u << 12)
#define X2APIC_MSR_BASE   0x800
#define ICR_WAIT_SPINS    1000000

bool lapic_x2apic_mode;
static volatile uint32_t *lapic_mmio;

uint32_t lapic_read(uint32_t reg)
{
    if (lapic_x2apic_mode)
        return (uint32_t)rdmsr(X2APIC_MSR_BASE + reg / 16);
    return lapic_mmio[reg / 4];
}

void lapic_write(uint32_t reg, uint32_t value)
{
    if (lapic_x2apic_mode)
        wrmsr(X2APIC_MSR_BASE + reg / 16, value);
    else
        lapic_mmio[reg / 4] = value;
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_ID);
    return lapic_x2apic_mode ? id : id >> 24;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

bool lapic_send_ipi(uint32_t dest, uint32_t icr)
{
    if (lapic_x2apic_mode) {
        /* One 64-bit write; no delivery status in x2APIC mode (11.12.9). */
        wrmsr(X2APIC_MSR_BASE + LAPIC_ICR_LOW / 16, ((uint64_t)dest << 32) | icr);
        return true;
    }
    lapic_write(LAPIC_ICR_HIGH, dest << 24);
    lapic_write(LAPIC_ICR_LOW, icr);
    for (int i = 0; i < ICR_WAIT_SPINS; i++) {
        if (!(lapic_read(LAPIC_ICR_LOW) & ICR_PENDING))
            return true;
        cpu_relax();
    }
    return false;
}

static void lapic_error_interrupt(struct trap_frame *f)
{
    (void)f;
    lapic_write(LAPIC_ESR, 0);
    uint32_t esr = lapic_read(LAPIC_ESR);
    lapic_eoi();
    pr_warn("local APIC error on this CPU: ESR 0x%x", esr);
}

void lapic_init_this_cpu(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;
    if (lapic_x2apic_mode) {
        wrmsr(MSR_APIC_BASE, base); /* xAPIC first: EXTD needs EN set (11.12.1) */
        base |= APIC_BASE_X2APIC;
    }
    wrmsr(MSR_APIC_BASE, base);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LVT_DELIVERY_NMI);
    lapic_write(LAPIC_LVT_ERROR, VEC_LAPIC_ERROR);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
    lapic_eoi();
}

void lapic_init_boot_cpu(void)
{
    if (!cpu_features.apic)
        panic("this CPU has no local APIC (CPUID.1:EDX.APIC = 0); Keel needs one");
    lapic_x2apic_mode = cpu_features.x2apic;
    if (!lapic_x2apic_mode) {
        uint64_t phys =
            acpi.lapic_address ? acpi.lapic_address : (rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDRESS);
        lapic_mmio = ioremap(phys, 4096);
        if (!lapic_mmio)
            panic("cannot map the local APIC at 0x%llx", (unsigned long long)phys);
    }
    interrupt_register(VEC_LAPIC_ERROR, lapic_error_interrupt);
    lapic_init_this_cpu();
    pr_info("apic: local APIC in %s mode, boot CPU APIC ID %u, version 0x%x",
            lapic_x2apic_mode ? "x2APIC" : "xAPIC", lapic_id(), lapic_read(LAPIC_VERSION) & 0xff);
}
