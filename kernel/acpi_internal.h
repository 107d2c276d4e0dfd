/*
 * Shared between the ACPI table parsers (acpi_tables.c, acpi_madt.c,
 * acpi_timers.c); not part of the core's interface.
 */
#ifndef KEEL_ACPI_INTERNAL_H
#define KEEL_ACPI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi_tables.h"

/* System description table header, ACPI 6.5 section 5.2.6. */
#define ACPI_HEADER_SIZE      36u
#define ACPI_HDR_OFF_LENGTH   4
#define ACPI_HDR_OFF_REVISION 8

/* Generic Address Structure, ACPI 6.5 section 5.2.3.2. */
#define ACPI_GAS_SIZE        12u
#define ACPI_GAS_OFF_SPACE   0
#define ACPI_GAS_OFF_ADDRESS 4

/* Each takes a table whose length (>= ACPI_HEADER_SIZE, <= ACPI_MAX_TABLE_LENGTH)
 * and checksum were verified, reads nothing past len, records what it found
 * in out, and returns whether the table was usable (a later duplicate is then
 * ignored). */
bool acpi_parse_madt(const uint8_t *table, uint32_t len, struct acpi_info *out);
bool acpi_parse_fadt(const uint8_t *table, uint32_t len, struct acpi_info *out);
bool acpi_parse_hpet(const uint8_t *table, uint32_t len, struct acpi_info *out);

#endif
