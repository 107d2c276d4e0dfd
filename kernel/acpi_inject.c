/*
 * Test-only damage to ACPI tables (keel.test=acpi-bad-checksum: the MADT's
 * checksum; acpi-truncated: the FADT cut short before its PM timer;
 * madt-extra-cpus: 300 absent CPUs appended to the MADT): a phys_reader that serves damaged heap
 * copies of real tables in place of the originals, so the real parser meets
 * bad firmware data on a real boot. Without those switches it is the plain
 * direct-map reader.
 */
#include <stdbool.h>

#include "acpi.h"
#include "cmdline.h"
#include "heap.h"
#include "kstring.h"
#include "physmem_reader.h"

#define HEADER_LENGTH     36
#define MAX_PATCHED       4
#define EXTRA_CPUS        300
#define LAPIC_ENTRY_LEN   8  /* MADT type 0 (ACPI 6.5, 5.2.12.2) */
#define X2APIC_ENTRY_LEN  16 /* MADT type 9 (5.2.12.12) */
#define FADT_TRUNCATED    60 /* cuts off PM_TMR_BLK at offset 76 */
#define FIRST_ABSENT_APIC 0x40

struct patched_table {
    uint64_t phys;
    uint32_t length;
    uint8_t *copy;
};

static uint32_t inject_flags;
static struct patched_table patched[MAX_PATCHED];
static unsigned patched_count;

static void fix_checksum(uint8_t *t, uint32_t len)
{
    uint8_t sum = 0;
    t[9] = 0;
    for (uint32_t i = 0; i < len; i++)
        sum += t[i];
    t[9] = (uint8_t)(0 - sum);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Appends EXTRA_CPUS enabled CPUs whose APIC IDs no CPU has. */
static uint32_t add_absent_cpus(uint8_t *t, uint32_t len)
{
    for (uint32_t i = 0; i < EXTRA_CPUS; i++) {
        uint32_t id = FIRST_ABSENT_APIC + i;
        uint8_t *e = t + len;
        if (id < 0xff) {
            memset(e, 0, LAPIC_ENTRY_LEN);
            e[0] = 0;
            e[1] = LAPIC_ENTRY_LEN;
            e[2] = (uint8_t)(0x80 + i);
            e[3] = (uint8_t)id;
            e[4] = 1; /* enabled */
            len += LAPIC_ENTRY_LEN;
        } else {
            memset(e, 0, X2APIC_ENTRY_LEN);
            e[0] = 9;
            e[1] = X2APIC_ENTRY_LEN;
            put32(e + 4, id);
            put32(e + 8, 1);
            put32(e + 12, 0x1000 + i);
            len += X2APIC_ENTRY_LEN;
        }
    }
    return len;
}

static uint32_t damage(const char *sig, uint8_t *t, uint32_t len)
{
    if (!memcmp(sig, "APIC", 4) && (inject_flags & KEEL_TEST_MADT_EXTRA_CPUS)) {
        len = add_absent_cpus(t, len);
        put32(t + 4, len);
        fix_checksum(t, len);
    }
    if (!memcmp(sig, "APIC", 4) && (inject_flags & KEEL_TEST_ACPI_BAD_CHECKSUM))
        t[9] ^= 0x5a;
    if (!memcmp(sig, "FACP", 4) && (inject_flags & KEEL_TEST_ACPI_TRUNCATED)) {
        len = FADT_TRUNCATED;
        put32(t + 4, len);
        fix_checksum(t, len);
    }
    return len;
}

static bool is_target(const char *sig)
{
    return !memcmp(sig, "APIC", 4) || !memcmp(sig, "FACP", 4);
}

/* The damaged copy of the table at phys, made on first use; NULL if phys
 * holds no table this test damages. */
static struct patched_table *patched_at(uint64_t phys)
{
    for (unsigned i = 0; i < patched_count; i++) {
        if (patched[i].phys == phys)
            return &patched[i];
    }
    const uint8_t *h = direct_phys_reader.read(&direct_phys_reader, phys, HEADER_LENGTH);
    if (!h || !is_target((const char *)h) || patched_count == MAX_PATCHED)
        return 0;
    uint32_t len;
    memcpy(&len, h + 4, 4);
    if (len < HEADER_LENGTH || len > ACPI_MAX_TABLE_LENGTH / 2)
        return 0;
    const uint8_t *orig = direct_phys_reader.read(&direct_phys_reader, phys, len);
    uint8_t *copy = orig ? kmalloc(len + EXTRA_CPUS * X2APIC_ENTRY_LEN) : 0;
    if (!copy)
        return 0;
    memcpy(copy, orig, len);
    struct patched_table *p = &patched[patched_count++];
    *p = (struct patched_table){phys, damage((const char *)h, copy, len), copy};
    return p;
}

static const void *inject_read(const struct phys_reader *self, uint64_t phys, size_t len)
{
    (void)self;
    struct patched_table *p = patched_at(phys);
    if (!p)
        return direct_phys_reader.read(&direct_phys_reader, phys, len);
    return len <= p->length ? p->copy : 0;
}

static const struct phys_reader inject_reader = {.read = inject_read};

const struct phys_reader *acpi_inject_reader(uint32_t test_flags)
{
    const uint32_t acpi_tests =
        KEEL_TEST_ACPI_BAD_CHECKSUM | KEEL_TEST_ACPI_TRUNCATED | KEEL_TEST_MADT_EXTRA_CPUS;
    inject_flags = test_flags & acpi_tests;
    return inject_flags ? &inject_reader : &direct_phys_reader;
}
