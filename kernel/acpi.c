/* ACPI discovery (ACPI 6.5 section 5.2.5.1: the RSDP lies in the first KiB of
 * the EBDA or in the BIOS ROM area 0xE0000-0xFFFFF). */
#include "acpi.h"
#include "bootinfo.h"
#include "kstring.h"
#include "physmem_reader.h"
#include "printk.h"

#define BDA_EBDA_SEGMENT 0x40e /* BIOS data area: EBDA segment (word) */
#define EBDA_SCAN_LENGTH 1024
#define BIOS_AREA_START  0xe0000
#define BIOS_AREA_LENGTH 0x20000

struct acpi_info acpi;

const struct boot_info *boot_info_get(void);

static uint64_t scan_bios_areas(const struct phys_reader *r)
{
    const uint16_t *seg = phys_read(r, BDA_EBDA_SEGMENT, 2);
    if (seg && *seg) {
        uint64_t rsdp = acpi_scan_rsdp(r, (uint64_t)*seg << 4, EBDA_SCAN_LENGTH);
        if (rsdp)
            return rsdp;
    }
    return acpi_scan_rsdp(r, BIOS_AREA_START, BIOS_AREA_LENGTH);
}

static void log_results(void)
{
    printk_diag(LOG_WARNING, &acpi.diag);
    pr_info("ACPI: revision %u, OEM '%s', %s; MADT: %u CPUs, %u IOAPICs, %u overrides%s",
            acpi.revision, acpi.oem_id, acpi.used_xsdt ? "XSDT" : "RSDT", acpi.cpu_count,
            acpi.ioapic_count, acpi.override_count, acpi.have_madt ? "" : " (no usable MADT)");
    if (acpi.pm_timer_present)
        pr_info("ACPI: PM timer at %s 0x%llx (%s bits)",
                acpi.pm_timer_space == ACPI_GAS_IO ? "port" : "address",
                (unsigned long long)acpi.pm_timer_address, acpi.pm_timer_32bit ? "32" : "24");
    if (acpi.have_hpet)
        pr_info("ACPI: HPET at 0x%llx", (unsigned long long)acpi.hpet_address);
}

void acpi_init(uint32_t test_flags)
{
    const struct boot_info *bi = boot_info_get();
    const struct phys_reader *reader = acpi_inject_reader(test_flags);
    int result;
    if (bi->rsdp_length) {
        result = acpi_parse(reader, bi->rsdp, bi->rsdp_length, 0, &acpi);
    } else {
        uint64_t rsdp = scan_bios_areas(&direct_phys_reader);
        if (!rsdp) {
            memset(&acpi, 0, sizeof(acpi));
            pr_warn("ACPI: no RSDP found (not in the boot loader's tags, the EBDA or the BIOS "
                    "area); running on the boot CPU only with default APIC addresses");
            return;
        }
        result = acpi_parse(reader, 0, 0, rsdp, &acpi);
    }
    log_results();
    if (result < 0)
        pr_warn("ACPI: no usable RSDT or XSDT; running on the boot CPU only");
}
