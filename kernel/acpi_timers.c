/*
 * The two ACPI tables that describe time sources: the FADT's ACPI PM timer
 * (ACPI 6.5 section 5.2.9, table 5.9) and the HPET table (IA-PC HPET
 * specification 1.0a, section 3.2.4, table 3). A field is read only when the
 * table's verified length covers all of it; a FADT too short for a field
 * means that field is absent.
 */
#include "acpi_internal.h"
#include "le_bytes.h"

/* FADT fields, ACPI 6.5 table 5.9. */
#define FADT_OFF_PM_TMR_BLK   76 /* 32-bit I/O port of the PM timer */
#define FADT_OFF_PM_TMR_LEN   91 /* must be 4 when the timer exists */
#define FADT_OFF_FLAGS        112
#define FADT_OFF_X_PM_TMR_BLK 208 /* GAS; FADT revision 3 (ACPI 2.0) and later */
#define FADT_PM_TMR_LEN       4u
#define FADT_FLAG_TMR_VAL_EXT (1u << 8) /* table 5.10: the counter is 32 bits wide */
#define FADT_X_FIELDS_REV     3

/* HPET description table, HPET spec 1.0a table 3. */
#define HPET_OFF_BASE     40 /* GAS; address space must be system memory */
#define HPET_OFF_MIN_TICK 53 /* main counter minimum clock tick (16 bits) */
#define HPET_TABLE_SIZE   56u

/* The size a FADT of this revision has: 116 (revision 1-2), 244 (3-4),
 * 268 (5), 276 (6 and later). */
static uint32_t fadt_expected_size(uint8_t revision)
{
    if (revision >= 6)
        return 276;
    if (revision == 5)
        return 268;
    if (revision >= FADT_X_FIELDS_REV)
        return 244;
    return 116;
}

static bool covers(uint32_t len, uint32_t offset, uint32_t size)
{
    return len >= offset + size;
}

/* The 64-bit X_PM_TMR_BLK replaces PM_TMR_BLK when non-zero (5.2.9,
 * table 5.9) and in system memory or I/O space. */
static void use_x_pm_timer(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
    if (t[ACPI_HDR_OFF_REVISION] < FADT_X_FIELDS_REV ||
        !covers(len, FADT_OFF_X_PM_TMR_BLK, ACPI_GAS_SIZE))
        return;
    const uint8_t *gas = t + FADT_OFF_X_PM_TMR_BLK;
    uint64_t address = le64(gas + ACPI_GAS_OFF_ADDRESS);
    uint8_t space = gas[ACPI_GAS_OFF_SPACE];
    if (address == 0)
        return;
    if (space != ACPI_GAS_MEMORY && space != ACPI_GAS_IO) {
        diag_add(&out->diag, "ACPI: FADT X_PM_TMR_BLK is in address space %u; using PM_TMR_BLK",
                 space);
        return;
    }
    out->pm_timer_present = true;
    out->pm_timer_space = space;
    out->pm_timer_address = address;
}

/* Checks the length against the revision (short: reported, the missing
 * fields absent) and PM_TMR_LEN (not 4: no PM timer). */
bool acpi_parse_fadt(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
    uint8_t revision = t[ACPI_HDR_OFF_REVISION];
    out->have_fadt = true;
    out->fadt_revision = revision;
    if (len < fadt_expected_size(revision))
        diag_add(&out->diag,
                 "ACPI: FADT truncated: %u bytes, revision %u has %u; fields past its end taken as "
                 "absent",
                 len, revision, fadt_expected_size(revision));
    if (!covers(len, FADT_OFF_PM_TMR_LEN, 1))
        return true;
    uint32_t port = le32(t + FADT_OFF_PM_TMR_BLK);
    uint8_t tmr_len = t[FADT_OFF_PM_TMR_LEN];
    if (tmr_len != FADT_PM_TMR_LEN) {
        if (port != 0 || tmr_len != 0)
            diag_add(&out->diag, "ACPI: FADT PM_TMR_LEN is %u, not 4; no PM timer", tmr_len);
        return true;
    }
    if (port != 0) {
        out->pm_timer_present = true;
        out->pm_timer_space = ACPI_GAS_IO;
        out->pm_timer_address = port;
    }
    use_x_pm_timer(t, len, out);
    if (out->pm_timer_present && covers(len, FADT_OFF_FLAGS, 4))
        out->pm_timer_32bit = (le32(t + FADT_OFF_FLAGS) & FADT_FLAG_TMR_VAL_EXT) != 0;
    return true;
}

/* Checks the length (>= 56) and that the base is a non-zero system-memory
 * address; otherwise there is no HPET (and a later HPET table may serve). */
bool acpi_parse_hpet(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
    if (len < HPET_TABLE_SIZE) {
        diag_add(&out->diag, "ACPI: HPET table is %u bytes (< %u); no HPET", len, HPET_TABLE_SIZE);
        return false;
    }
    const uint8_t *gas = t + HPET_OFF_BASE;
    uint64_t address = le64(gas + ACPI_GAS_OFF_ADDRESS);
    if (gas[ACPI_GAS_OFF_SPACE] != ACPI_GAS_MEMORY || address == 0) {
        diag_add(&out->diag,
                 "ACPI: HPET base 0x%llx in address space %u is not usable memory; no HPET",
                 (unsigned long long)address, gas[ACPI_GAS_OFF_SPACE]);
        return false;
    }
    out->have_hpet = true;
    out->hpet_address = address;
    out->hpet_min_tick = le16(t + HPET_OFF_MIN_TICK);
    return true;
}
