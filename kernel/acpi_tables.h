/*
 * Parsers for the ACPI tables the core needs (ACPI 6.5 spec: RSDP 5.2.5,
 * RSDT/XSDT 5.2.7-8, FADT 5.2.9, MADT 5.2.12; HPET from the IA-PC HPET spec
 * 1.0a, section 3.2.4). Every table is reached through a phys_reader, its
 * length bounded and its checksum verified; a table that fails is reported in
 * diag and skipped, the others are still used. Pure logic, host-tested and
 * fuzzed.
 */
#ifndef KEEL_ACPI_TABLES_H
#define KEEL_ACPI_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "phys_reader.h"

#define ACPI_MAX_CPUS         64 /* CPUs Keel supports; more MADT entries are reported */
#define ACPI_MAX_IOAPICS      8
#define ACPI_MAX_OVERRIDES    16
#define ACPI_MAX_TABLE_LENGTH (1u << 20) /* sanity bound on a table's length field */

struct acpi_cpu {
    uint32_t apic_id;
    uint32_t acpi_uid;
    bool x2apic; /* listed by a processor local x2APIC entry */
};

struct acpi_ioapic {
    uint8_t id;
    uint32_t address;
    uint32_t gsi_base;
};

struct acpi_irq_override {
    uint8_t bus;
    uint8_t source; /* ISA IRQ */
    uint32_t gsi;
    uint16_t flags; /* MPS INTI flags: polarity bits 0-1, trigger bits 2-3 */
};

enum acpi_gas_space { ACPI_GAS_MEMORY = 0, ACPI_GAS_IO = 1 };

struct acpi_info {
    uint64_t rsdp_phys; /* 0 when the RSDP came as a copy (multiboot2 tag) */
    uint8_t revision;
    char oem_id[7];
    bool used_xsdt;

    bool have_madt;
    uint64_t lapic_address; /* MADT, or its 64-bit override entry */
    bool pcat_compat;       /* MADT flag: dual 8259 PICs present */
    unsigned cpu_count;     /* enabled (or online-capable) CPUs stored in cpus[] */
    unsigned cpus_ignored;  /* enabled CPUs beyond ACPI_MAX_CPUS */
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    unsigned ioapic_count;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    unsigned override_count;
    struct acpi_irq_override overrides[ACPI_MAX_OVERRIDES];

    bool have_fadt;
    bool pm_timer_present;
    uint8_t pm_timer_space; /* enum acpi_gas_space */
    uint64_t pm_timer_address;
    bool pm_timer_32bit; /* FADT flag TMR_VAL_EXT */
    uint8_t fadt_revision;

    bool have_hpet;
    uint64_t hpet_address; /* system memory space only */
    uint16_t hpet_min_tick;

    struct diag diag;
};

/* Scans [start, start+length) at 16-byte steps for a valid RSDP ("RSD PTR ",
 * checksum over 20 bytes, and the extended checksum for revision >= 2).
 * Returns its physical address or 0. */
uint64_t acpi_scan_rsdp(const struct phys_reader *reader, uint64_t start, uint64_t length);

/* Parses everything reachable from an RSDP, given either as a copy
 * (rsdp_copy/len, as multiboot2 provides) or by physical address (rsdp_copy
 * NULL). Uses the XSDT when revision >= 2 and its address is non-zero and it
 * validates, else the RSDT. Returns 0 when an RSDT or XSDT was usable, -1
 * otherwise (out->diag says why); partial results are valid either way. */
int acpi_parse(const struct phys_reader *reader, const uint8_t *rsdp_copy, unsigned rsdp_len,
               uint64_t rsdp_phys, struct acpi_info *out);

#endif
