/* Host IOAPICs (Intel 82093AA data sheet): mapped, and every redirection
 * entry masked until a driver routes one. */
#ifndef KEEL_APIC_IOAPIC_H
#define KEEL_APIC_IOAPIC_H

void ioapic_init(void);

#endif
