/*
 * The ACPI tables the VMM builds for every guest (ACPI 6.0 chapter 5.2),
 * in guest RAM at 0xE0000-0xFFFFF, where an OS scans for the RSDP:
 *   RSDP (revision 2) -> XSDT (and a 32-bit RSDT for ACPI 1.0 readers) ->
 *   FADT (revision 6) -> FACS, DSDT; MADT.
 * The MADT lists one local APIC per vCPU (APIC ID = processor UID = vCPU
 * index), the IOAPIC with GSI base 0, the ISA overrides IRQ 0 -> GSI 2 and
 * IRQ 9 (the SCI) -> GSI 9 level/high, and LINT1 as NMI on every CPU; the
 * 8259 pair is present. The FADT describes the fixed hardware of
 * acpi_pm.h (no SMI command port: ACPI mode only), the RTC's century byte,
 * no 8042 and no VGA. The DSDT holds \_S5 (the S5 sleep type of acpi_pm.h)
 * and an empty \_SB scope. Every table: OEM "KEEL  " / "KEELVM  ",
 * creator "KEEL". Pure.
 */
#ifndef KEEL_VMM_ACPI_TABLES_H
#define KEEL_VMM_ACPI_TABLES_H

#include <stdint.h>

#define ACPI_AREA_GPA  0xe0000ull
#define ACPI_AREA_SIZE 0x20000u

/* APIC IDs 0..254 (0xff is the xAPIC broadcast ID and the MADT's "all
 * processors" UID), so at most this many vCPUs. */
#define ACPI_TABLES_MAX_CPUS 255u

struct acpi_config {
    unsigned cpus; /* APIC IDs 0..cpus-1 */
    uint8_t ioapic_id;
    uint64_t ioapic_address; /* 0xfec00000 */
};

/* Builds RSDP, XSDT, RSDT, MADT, FADT, FACS and DSDT into area (guest
 * address area_gpa, area_size bytes), which it zeroes first; the RSDP comes
 * first, 16-byte aligned. Returns 0 and the RSDP's guest address, or -1 (and
 * leaves area alone) if they do not fit, the area reaches above 4 GiB (the
 * 32-bit pointers), cpus is 0 or above ACPI_TABLES_MAX_CPUS, or the IOAPIC
 * address is above 4 GiB. */
int acpi_build_tables(const struct acpi_config *c, uint8_t *area, uint64_t area_gpa,
                      uint32_t area_size, uint64_t *rsdp_gpa);

#endif
