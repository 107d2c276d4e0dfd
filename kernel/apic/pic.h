/* The legacy 8259 PIC pair: remapped away from the exception vectors and
 * masked, since the core uses the local APIC and IOAPIC. */
#ifndef KEEL_APIC_PIC_H
#define KEEL_APIC_PIC_H

void pic_disable(void);

#endif
