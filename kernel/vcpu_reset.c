/*
 * INIT and start-up of a vCPU through the generic register interface, so
 * both backends share it. INIT (SDM Vol. 3A 10.1.1, table 10-1; APM Vol. 2
 * 14.1.3): real mode, CS.selector 0xf000 with base 0xffff0000 and IP
 * 0xfff0, data segments at 0 with 64 KiB limits, CR0 0x60000010 (CD, NW,
 * ET), CR2-CR4 and EFER 0, GDTR/IDTR base 0 limit 0xffff, RFLAGS 2, EDX the
 * CPU signature, other GPRs 0. A start-up IPI with vector V then starts an
 * AP at CS.selector V << 8, CS.base V << 12, IP 0 (SDM 9.4.4).
 */
#include "cpu.h"
#include "virt.h"
#include "vm.h"

#define INIT_CR0            0x60000010ull
#define INIT_CS             0xf000
#define INIT_CS_BASE        0xffff0000ull
#define INIT_IP             0xfff0
#define REAL_MODE_LIMIT     0xffff
#define TYPE_CODE           0xb /* execute/read, accessed */
#define TYPE_DATA           0x3 /* read/write, accessed */
#define TYPE_TSS_BUSY       0xb
#define TYPE_LDT            0x2
#define RFLAGS_FIXED        2
#define SIPI_SELECTOR_SHIFT 8
#define SIPI_BASE_SHIFT     12

/* s: a code or data segment (1), or a system one: TR, LDTR (0). */
static struct keel_segment real_segment(uint16_t selector, uint64_t base, uint8_t type, bool s)
{
    return (struct keel_segment){.base = base,
                                 .limit = REAL_MODE_LIMIT,
                                 .selector = selector,
                                 .type = type,
                                 .present = 1,
                                 .s = s};
}

static void load_real_mode(struct vcpu *v, uint16_t cs, uint64_t cs_base, uint64_t ip)
{
    struct keel_sregs s;
    virt->get_sregs(v, &s);
    uint64_t apic_base = s.apic_base;
    s = (struct keel_sregs){0};
    s.cs = real_segment(cs, cs_base, TYPE_CODE, true);
    s.ds = s.es = s.fs = s.gs = s.ss = real_segment(0, 0, TYPE_DATA, true);
    s.tr = real_segment(0, 0, TYPE_TSS_BUSY, false);
    s.ldt = real_segment(0, 0, TYPE_LDT, false);
    s.gdt.limit = s.idt.limit = REAL_MODE_LIMIT;
    s.cr0 = INIT_CR0;
    s.apic_base = apic_base;
    virt->set_sregs(v, &s);
    struct keel_regs r = {.rip = ip, .rflags = RFLAGS_FIXED, .rdx = cpuid(1, 0).eax};
    virt->set_regs(v, &r);
}

void vcpu_reset_for_init(struct vcpu *v)
{
    vlapic_init_signal(&v->lapic);
    virt->clear_events(v);
    load_real_mode(v, INIT_CS, INIT_CS_BASE, INIT_IP);
    v->halted = false;
    v->has_pending_event = false;
    for (unsigned w = 0; w < 4; w++)
        v->pending_irqs[w] = 0;
}

void vcpu_start_at_sipi(struct vcpu *v, uint8_t vector)
{
    load_real_mode(v, (uint16_t)(vector << SIPI_SELECTOR_SHIFT),
                   (uint64_t)vector << SIPI_BASE_SHIFT, 0);
    v->halted = false;
}
