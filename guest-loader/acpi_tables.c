/* The guest's ACPI tables (acpi_tables.h). Offsets and values: ACPI 6.0
 * chapter 5.2; AML: chapter 20. */
#include "acpi_tables.h"
#include "acpi_pm.h"
#include "kstring.h"
#include "rtc.h"

#define FOUR_GIB (1ull << 32)

/* System description table header (5.2.6). */
#define HDR_SIZE         36
#define HDR_LENGTH       4
#define HDR_REVISION     8
#define HDR_CHECKSUM     9
#define HDR_OEM_ID       10
#define HDR_OEM_TABLE_ID 16
#define HDR_OEM_REVISION 24
#define HDR_CREATOR_ID   28
#define HDR_CREATOR_REV  32
#define OEM_ID           "KEEL  "
#define OEM_TABLE_ID     "KEELVM  "
#define CREATOR_ID       "KEEL"
#define OEM_REVISION     1
#define CREATOR_REVISION 1
#define TABLE_ALIGN      16

/* RSDP (5.2.5.3). */
#define RSDP_SIZE         36
#define RSDP_V1_SIZE      20 /* what the first checksum covers */
#define RSDP_CHECKSUM     8
#define RSDP_OEM_ID       9
#define RSDP_REVISION     15
#define RSDP_RSDT         16
#define RSDP_LENGTH       20
#define RSDP_XSDT         24
#define RSDP_EXT_CHECKSUM 32
#define RSDP_REV_ACPI2    2
#define RSDP_ALIGN        16 /* 5.2.5.1: on a 16-byte boundary */

#define ROOT_ENTRIES  2 /* FADT, MADT */
#define RSDT_REVISION 1
#define XSDT_REVISION 1

/* FACS (5.2.10). */
#define FACS_SIZE    64
#define FACS_ALIGN   64
#define FACS_LENGTH  4
#define FACS_VERSION 32
#define FACS_VER     2

/* FADT (5.2.9). */
#define FADT_SIZE           276
#define FADT_REVISION       6
#define FADT_MINOR          0 /* ACPI 6.0 */
#define FADT_FIRMWARE_CTRL  36
#define FADT_DSDT           40
#define FADT_SCI_INT        46
#define FADT_SMI_CMD        48
#define FADT_PM1A_EVT_BLK   56
#define FADT_PM1A_CNT_BLK   64
#define FADT_PM_TMR_BLK     76
#define FADT_PM1_EVT_LEN    88
#define FADT_PM1_CNT_LEN    89
#define FADT_PM_TMR_LEN     91
#define FADT_P_LVL2_LAT     96
#define FADT_P_LVL3_LAT     98
#define FADT_CENTURY        108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS          112
#define FADT_MINOR_VERSION  131
#define FADT_X_FIRMWARE     132
#define FADT_X_DSDT         140
#define FADT_X_PM1A_EVT     148
#define FADT_X_PM1A_CNT     172
#define FADT_X_PM_TMR       208
#define LVL_UNSUPPORTED     0x0fff /* P_LVL2_LAT > 100, P_LVL3_LAT > 1000: no C2/C3 */
/* Fixed feature flags (5.2.9, "Fixed ACPI Description Table Fixed Feature Flags"). */
#define FADT_WBINVD      (1u << 0)
#define FADT_PROC_C1     (1u << 2)
#define FADT_PWR_BUTTON  (1u << 4) /* 1: control method or absent (no power button here) */
#define FADT_SLP_BUTTON  (1u << 5) /* 1: control method or absent */
#define FADT_FIX_RTC     (1u << 6) /* 1: no RTC_STS in PM1 */
#define FADT_TMR_VAL_EXT (1u << 8) /* the PM timer is 32 bits */
#define FADT_FLAGS_VALUE                                                                           \
    (FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_FIX_RTC |               \
     FADT_TMR_VAL_EXT)
/* IA-PC boot architecture flags (5.2.9.3): ISA devices, no 8042, no VGA. */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_VGA_ABSENT     (1u << 2)

/* Generic Address Structure (5.2.3.2). */
#define GAS_SYSTEM_IO 1

/* MADT (5.2.12). */
#define MADT_REVISION       4 /* ACPI 6.0 errata A */
#define MADT_HDR_SIZE       44
#define MADT_LAPIC_ADDR     36
#define MADT_FLAGS          40
#define MADT_LAPIC_BASE     0xfee00000u
#define MADT_PCAT_COMPAT    1u /* dual 8259s present */
#define MADT_LAPIC          0  /* 5.2.12.2 */
#define MADT_LAPIC_SIZE     8
#define MADT_LAPIC_ENABLED  1u
#define MADT_IOAPIC         1 /* 5.2.12.3 */
#define MADT_IOAPIC_SIZE    12
#define MADT_ISO            2 /* 5.2.12.5 */
#define MADT_ISO_SIZE       10
#define MADT_ISO_COUNT      2
#define MADT_ISA_BUS        0
#define MADT_LAPIC_NMI      4 /* 5.2.12.7 */
#define MADT_LAPIC_NMI_SIZE 6
#define MADT_ALL_PROCESSORS 0xff
#define MADT_LINT1          1
#define ISA_IRQ_PIT         0
#define GSI_PIT             2
#define MPS_CONFORMING      0x0000
#define MPS_LEVEL_HIGH                                                                             \
    0x000d /* polarity 01 active high, trigger 11 level (5.2.12.5, MPS INTI flags) */

/* DSDT and its AML (20.2). */
#define DSDT_REVISION 2 /* 64-bit integers */
#define AML_ZERO_OP   0x00
#define AML_NAME_OP   0x08
#define AML_SCOPE_OP  0x10
#define AML_PACKAGE   0x12
#define AML_ROOT_CHAR 0x5c

_Static_assert(ACPI_SLP_TYP_S5 == 0, "the DSDT encodes SLP_TYPa/b of \\_S5 as ZeroOp");

/* Name(\_S5, Package() {0, 0, 0, 0}); Scope(\_SB) {} */
static const uint8_t dsdt_aml[] = {
    AML_NAME_OP,
    '_',
    'S',
    '5',
    '_',
    AML_PACKAGE,
    6, /* PkgLength (one byte; counts itself): 1 + NumElements + 4 elements */
    4, /* NumElements: SLP_TYPa, SLP_TYPb, two reserved */
    AML_ZERO_OP,
    AML_ZERO_OP,
    AML_ZERO_OP,
    AML_ZERO_OP,
    AML_SCOPE_OP,
    6, /* PkgLength: itself + the 5-byte name */
    AML_ROOT_CHAR,
    '_',
    'S',
    'B',
    '_',
};

struct layout {
    uint32_t rsdp, facs, dsdt, fadt, madt, xsdt, rsdt, end;
};

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

/* Sets p[at] so that the n bytes at p sum to 0. */
static void checksum(uint8_t *p, uint32_t n, uint32_t at)
{
    uint8_t sum = 0;
    p[at] = 0;
    for (uint32_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    p[at] = (uint8_t)-sum;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put_le(t + HDR_LENGTH, len, 4);
    t[HDR_REVISION] = rev;
    memcpy(t + HDR_OEM_ID, OEM_ID, 6);
    memcpy(t + HDR_OEM_TABLE_ID, OEM_TABLE_ID, 8);
    put_le(t + HDR_OEM_REVISION, OEM_REVISION, 4);
    memcpy(t + HDR_CREATOR_ID, CREATOR_ID, 4);
    put_le(t + HDR_CREATOR_REV, CREATOR_REVISION, 4);
}

static void gas_io(uint8_t *p, unsigned bits, uint16_t port)
{
    p[0] = GAS_SYSTEM_IO;
    p[1] = (uint8_t)bits;
    p[2] = 0; /* bit offset */
    p[3] = 0; /* access size: legacy (as wide as the register) */
    put_le(p + 4, port, 8);
}

static uint32_t madt_size(unsigned cpus)
{
    return MADT_HDR_SIZE + MADT_LAPIC_SIZE * cpus + MADT_IOAPIC_SIZE +
           MADT_ISO_SIZE * MADT_ISO_COUNT + MADT_LAPIC_NMI_SIZE;
}

/* The first offset >= off whose guest address is a multiple of align. */
static uint64_t place(uint64_t gpa, uint64_t off, uint64_t align)
{
    return ((gpa + off + align - 1) & ~(align - 1)) - gpa;
}

static int plan(const struct acpi_config *c, uint64_t gpa, uint32_t size, struct layout *l)
{
    uint64_t off = place(gpa, 0, RSDP_ALIGN), at[7];
    const uint64_t sizes[7] = {RSDP_SIZE,
                               FACS_SIZE,
                               HDR_SIZE + sizeof(dsdt_aml),
                               FADT_SIZE,
                               madt_size(c->cpus),
                               HDR_SIZE + 8 * ROOT_ENTRIES,
                               HDR_SIZE + 4 * ROOT_ENTRIES};
    for (unsigned i = 0; i < 7; i++) {
        off = place(gpa, off, i == 1 ? FACS_ALIGN : TABLE_ALIGN);
        at[i] = off;
        off += sizes[i];
    }
    if (off > size || gpa + off > FOUR_GIB)
        return -1;
    *l = (struct layout){(uint32_t)at[0], (uint32_t)at[1], (uint32_t)at[2], (uint32_t)at[3],
                         (uint32_t)at[4], (uint32_t)at[5], (uint32_t)at[6], (uint32_t)off};
    return 0;
}

static void build_fadt(uint8_t *t, uint64_t facs, uint64_t dsdt)
{
    header(t, "FACP", FADT_SIZE, FADT_REVISION);
    put_le(t + FADT_FIRMWARE_CTRL, facs, 4);
    put_le(t + FADT_DSDT, dsdt, 4);
    put_le(t + FADT_SCI_INT, ACPI_SCI_IRQ, 2);
    put_le(t + FADT_SMI_CMD, 0, 4); /* no SMI: ACPI_ENABLE/DISABLE stay 0 */
    put_le(t + FADT_PM1A_EVT_BLK, ACPI_PM1_STS, 4);
    put_le(t + FADT_PM1A_CNT_BLK, ACPI_PM1_CNT, 4);
    put_le(t + FADT_PM_TMR_BLK, ACPI_PM_TMR, 4);
    t[FADT_PM1_EVT_LEN] = ACPI_PM1_EVT_LEN;
    t[FADT_PM1_CNT_LEN] = ACPI_PM1_CNT_LEN;
    t[FADT_PM_TMR_LEN] = ACPI_PM_TMR_LEN;
    put_le(t + FADT_P_LVL2_LAT, LVL_UNSUPPORTED, 2);
    put_le(t + FADT_P_LVL3_LAT, LVL_UNSUPPORTED, 2);
    t[FADT_CENTURY] = RTC_CENTURY;
    put_le(t + FADT_IAPC_BOOT_ARCH, BOOT_LEGACY_DEVICES | BOOT_VGA_ABSENT, 2);
    put_le(t + FADT_FLAGS, FADT_FLAGS_VALUE, 4);
    t[FADT_MINOR_VERSION] = FADT_MINOR;
    put_le(t + FADT_X_FIRMWARE, facs, 8);
    put_le(t + FADT_X_DSDT, dsdt, 8);
    gas_io(t + FADT_X_PM1A_EVT, 8 * ACPI_PM1_EVT_LEN, ACPI_PM1_STS);
    gas_io(t + FADT_X_PM1A_CNT, 8 * ACPI_PM1_CNT_LEN, ACPI_PM1_CNT);
    gas_io(t + FADT_X_PM_TMR, 8 * ACPI_PM_TMR_LEN, ACPI_PM_TMR);
    checksum(t, FADT_SIZE, HDR_CHECKSUM);
}

static uint8_t *iso(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    p[0] = MADT_ISO;
    p[1] = MADT_ISO_SIZE;
    p[2] = MADT_ISA_BUS;
    p[3] = irq;
    put_le(p + 4, gsi, 4);
    put_le(p + 8, flags, 2);
    return p + MADT_ISO_SIZE;
}

static void build_madt(uint8_t *t, const struct acpi_config *c)
{
    uint32_t len = madt_size(c->cpus);
    header(t, "APIC", len, MADT_REVISION);
    put_le(t + MADT_LAPIC_ADDR, MADT_LAPIC_BASE, 4);
    put_le(t + MADT_FLAGS, MADT_PCAT_COMPAT, 4);
    uint8_t *p = t + MADT_HDR_SIZE;
    for (unsigned i = 0; i < c->cpus; i++, p += MADT_LAPIC_SIZE) {
        p[0] = MADT_LAPIC;
        p[1] = MADT_LAPIC_SIZE;
        p[2] = (uint8_t)i; /* ACPI processor UID */
        p[3] = (uint8_t)i; /* APIC ID */
        put_le(p + 4, MADT_LAPIC_ENABLED, 4);
    }
    p[0] = MADT_IOAPIC;
    p[1] = MADT_IOAPIC_SIZE;
    p[2] = c->ioapic_id;
    put_le(p + 4, c->ioapic_address, 4);
    put_le(p + 8, 0, 4); /* GSI base */
    p += MADT_IOAPIC_SIZE;
    p = iso(p, ISA_IRQ_PIT, GSI_PIT, MPS_CONFORMING);
    p = iso(p, ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_LEVEL_HIGH);
    p[0] = MADT_LAPIC_NMI;
    p[1] = MADT_LAPIC_NMI_SIZE;
    p[2] = MADT_ALL_PROCESSORS;
    put_le(p + 3, MPS_CONFORMING, 2);
    p[5] = MADT_LINT1;
    checksum(t, len, HDR_CHECKSUM);
}

static void build_root(uint8_t *t, const char *sig, uint8_t rev, unsigned width,
                       const uint64_t entries[ROOT_ENTRIES])
{
    uint32_t len = HDR_SIZE + width * ROOT_ENTRIES;
    header(t, sig, len, rev);
    for (unsigned i = 0; i < ROOT_ENTRIES; i++)
        put_le(t + HDR_SIZE + width * i, entries[i], width);
    checksum(t, len, HDR_CHECKSUM);
}

static void build_rsdp(uint8_t *p, uint64_t rsdt, uint64_t xsdt)
{
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + RSDP_OEM_ID, OEM_ID, 6);
    p[RSDP_REVISION] = RSDP_REV_ACPI2;
    put_le(p + RSDP_RSDT, rsdt, 4);
    put_le(p + RSDP_LENGTH, RSDP_SIZE, 4);
    put_le(p + RSDP_XSDT, xsdt, 8);
    checksum(p, RSDP_V1_SIZE, RSDP_CHECKSUM);
    checksum(p, RSDP_SIZE, RSDP_EXT_CHECKSUM);
}

int acpi_build_tables(const struct acpi_config *c, uint8_t *area, uint64_t area_gpa,
                      uint32_t area_size, uint64_t *rsdp_gpa)
{
    struct layout l;
    if (c->cpus == 0 || c->cpus > ACPI_TABLES_MAX_CPUS || c->ioapic_address >= FOUR_GIB ||
        area_gpa >= FOUR_GIB || plan(c, area_gpa, area_size, &l) != 0)
        return -1;
    memset(area, 0, area_size);

    memcpy(area + l.facs, "FACS", 4);
    put_le(area + l.facs + FACS_LENGTH, FACS_SIZE, 4);
    area[l.facs + FACS_VERSION] = FACS_VER;

    header(area + l.dsdt, "DSDT", HDR_SIZE + sizeof(dsdt_aml), DSDT_REVISION);
    memcpy(area + l.dsdt + HDR_SIZE, dsdt_aml, sizeof(dsdt_aml));
    checksum(area + l.dsdt, HDR_SIZE + sizeof(dsdt_aml), HDR_CHECKSUM);

    build_fadt(area + l.fadt, area_gpa + l.facs, area_gpa + l.dsdt);
    build_madt(area + l.madt, c);
    const uint64_t entries[ROOT_ENTRIES] = {area_gpa + l.fadt, area_gpa + l.madt};
    build_root(area + l.xsdt, "XSDT", XSDT_REVISION, 8, entries);
    build_root(area + l.rsdt, "RSDT", RSDT_REVISION, 4, entries);
    build_rsdp(area + l.rsdp, area_gpa + l.rsdt, area_gpa + l.xsdt);
    *rsdp_gpa = area_gpa + l.rsdp;
    return 0;
}
