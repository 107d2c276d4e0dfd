/*
 * libFuzzer target: ACPI table parsing (kernel/acpi_*.c). The input is
 * physical memory from address 0 with an RSDP at ACPI_FUZZ_RSDP; it is
 * parsed from there by address, from a copy of those bytes (the multiboot2
 * path), and from whatever acpi_scan_rsdp() finds in it.
 */
#include <stddef.h>
#include <stdint.h>

#include "acpi_tables.h"
#include "fake_phys.h"
#include "fuzz_check.h"

#define ACPI_FUZZ_RSDP 16 /* 16-byte aligned, and not 0 (which means "none") */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_info(const struct acpi_info *ai, int rc)
{
    REQUIRE(rc == 0 || rc == -1);
    require_terminated(ai->oem_id, sizeof(ai->oem_id));
    require_diag_sound(&ai->diag);
    REQUIRE(ai->cpu_count <= ACPI_MAX_CPUS);
    REQUIRE(ai->ioapic_count <= ACPI_MAX_IOAPICS);
    REQUIRE(ai->override_count <= ACPI_MAX_OVERRIDES);
    if (!ai->have_madt)
        REQUIRE(ai->cpu_count == 0 && ai->ioapic_count == 0 && ai->override_count == 0);
    if (ai->cpus_ignored)
        REQUIRE(ai->cpu_count == ACPI_MAX_CPUS);
    for (unsigned i = 0; i < ai->cpu_count; i++) {
        for (unsigned j = 0; j < i; j++)
            REQUIRE(ai->cpus[i].apic_id != ai->cpus[j].apic_id);
    }
    if (ai->pm_timer_present)
        REQUIRE(ai->have_fadt && ai->pm_timer_address != 0 && ai->pm_timer_space <= ACPI_GAS_IO);
    if (ai->have_hpet)
        REQUIRE(ai->hpet_address != 0);
    if (rc < 0)
        REQUIRE(!ai->have_madt && !ai->have_fadt && !ai->have_hpet);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct acpi_info ai;
    struct fake_phys fp;
    fake_phys_init(&fp);
    fake_phys_map(&fp, 0, data, size);

    check_info(&ai, acpi_parse(&fp.reader, NULL, 0, ACPI_FUZZ_RSDP, &ai));

    if (size > ACPI_FUZZ_RSDP) {
        size_t len = size - ACPI_FUZZ_RSDP < 36 ? size - ACPI_FUZZ_RSDP : 36;
        uint8_t *copy = malloc(len); /* exact size: an over-read is caught */
        memcpy(copy, data + ACPI_FUZZ_RSDP, len);
        check_info(&ai, acpi_parse(&fp.reader, copy, (unsigned)len, 0, &ai));
        REQUIRE(ai.rsdp_phys == 0);
        free(copy);
    }

    uint64_t found = acpi_scan_rsdp(&fp.reader, 0, size);
    REQUIRE(found == 0 || (found % 16 == 0 && found + 20 <= size));
    if (found != 0) {
        check_info(&ai, acpi_parse(&fp.reader, NULL, 0, found, &ai));
        REQUIRE(ai.rsdp_phys == found);
    }
    fake_phys_fini(&fp);
    return 0;
}
