/* The core's view of the firmware's ACPI tables, found and parsed at boot. */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H

#include <stdint.h>

#include "acpi_tables.h"

extern struct acpi_info acpi;

/* Finds the RSDP (multiboot2 tag, else the BIOS areas), parses the tables and
 * logs what was found and every problem. Never fails: without usable tables
 * the core runs on the boot CPU with default APIC addresses. */
void acpi_init(uint32_t test_flags);

/* keel.test= switches that feed the parser damaged copies of real tables. */
const struct phys_reader *acpi_inject_reader(uint32_t test_flags);

#endif
