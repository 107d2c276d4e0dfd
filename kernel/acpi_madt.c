/*
 * The MADT (ACPI 6.5 section 5.2.12): the local APIC address and flags, then
 * variable-length interrupt controller structures, each (type, length, ...).
 * Every entry's length is checked before its fields are read: below 2 or past
 * the table's end stops the walk (so a zero length cannot loop), below the
 * type's own size skips the entry.
 */
#include "acpi_internal.h"
#include "le_bytes.h"

#define MADT_OFF_LAPIC_ADDRESS 36
#define MADT_OFF_FLAGS         40
#define MADT_OFF_ENTRIES       44
#define MADT_FLAG_PCAT_COMPAT  (1u << 0) /* table 5.20 */

/* Interrupt controller structure types and sizes, table 5.21 and 5.2.12.x. */
#define MADT_LAPIC           0 /* 5.2.12.2, 8 bytes */
#define MADT_IOAPIC          1 /* 5.2.12.3, 12 bytes */
#define MADT_OVERRIDE        2 /* 5.2.12.5, 10 bytes */
#define MADT_LAPIC_ADDRESS   5 /* 5.2.12.8, 12 bytes */
#define MADT_X2APIC          9 /* 5.2.12.12, 16 bytes */
#define MADT_ENTRY_HEADER    2u
#define LAPIC_ENABLED        (1u << 0) /* table 5.23 */
#define LAPIC_ONLINE_CAPABLE (1u << 1)
#define XAPIC_BROADCAST_ID   0xffu
#define X2APIC_BROADCAST_ID  0xffffffffu

struct madt_state {
    unsigned cpus_seen; /* enabled or online-capable, duplicates excluded */
    unsigned duplicate_ids;
    unsigned broadcast_ids;
    unsigned ioapics_ignored;
    unsigned overrides_ignored;
    unsigned short_entries;
    bool have_address_override;
};

static unsigned entry_min_length(uint8_t type)
{
    switch (type) {
    case MADT_LAPIC:
        return 8;
    case MADT_IOAPIC:
    case MADT_LAPIC_ADDRESS:
        return 12;
    case MADT_OVERRIDE:
        return 10;
    case MADT_X2APIC:
        return 16;
    default:
        return MADT_ENTRY_HEADER;
    }
}

/* Records a CPU that is enabled or online-capable, once per APIC ID, up to
 * ACPI_MAX_CPUS; counts the others. */
static void add_cpu(struct acpi_info *out, struct madt_state *st, uint32_t apic_id, uint32_t uid,
                    uint32_t flags, bool x2apic)
{
    if (!(flags & (LAPIC_ENABLED | LAPIC_ONLINE_CAPABLE)))
        return;
    if (apic_id == (x2apic ? X2APIC_BROADCAST_ID : XAPIC_BROADCAST_ID)) {
        st->broadcast_ids++;
        return;
    }
    for (unsigned i = 0; i < out->cpu_count; i++) {
        if (out->cpus[i].apic_id == apic_id) {
            st->duplicate_ids++;
            return;
        }
    }
    st->cpus_seen++;
    if (out->cpu_count >= ACPI_MAX_CPUS) {
        out->cpus_ignored++;
        return;
    }
    struct acpi_cpu *cpu = &out->cpus[out->cpu_count++];
    cpu->apic_id = apic_id;
    cpu->acpi_uid = uid;
    cpu->x2apic = x2apic;
}

static void add_ioapic(struct acpi_info *out, struct madt_state *st, const uint8_t *e)
{
    if (out->ioapic_count >= ACPI_MAX_IOAPICS) {
        st->ioapics_ignored++;
        return;
    }
    struct acpi_ioapic *io = &out->ioapics[out->ioapic_count++];
    io->id = e[2];
    io->address = le32(e + 4);
    io->gsi_base = le32(e + 8);
}

static void add_override(struct acpi_info *out, struct madt_state *st, const uint8_t *e)
{
    if (out->override_count >= ACPI_MAX_OVERRIDES) {
        st->overrides_ignored++;
        return;
    }
    struct acpi_irq_override *o = &out->overrides[out->override_count++];
    o->bus = e[2];
    o->source = e[3];
    o->gsi = le32(e + 4);
    o->flags = le16(e + 8);
}

/* One entry of at least entry_min_length(type) bytes. */
static void parse_entry(const uint8_t *e, struct madt_state *st, struct acpi_info *out)
{
    switch (e[0]) {
    case MADT_LAPIC:
        add_cpu(out, st, e[3], e[2], le32(e + 4), false);
        break;
    case MADT_X2APIC:
        add_cpu(out, st, le32(e + 4), le32(e + 12), le32(e + 8), true);
        break;
    case MADT_IOAPIC:
        add_ioapic(out, st, e);
        break;
    case MADT_OVERRIDE:
        add_override(out, st, e);
        break;
    case MADT_LAPIC_ADDRESS:
        /* 5.2.12.8: when present, it replaces the 32-bit field. */
        if (!st->have_address_override)
            out->lapic_address = le64(e + 4);
        st->have_address_override = true;
        break;
    default:
        break;
    }
}

static void report(const struct madt_state *st, struct acpi_info *out)
{
    if (out->cpus_ignored)
        diag_add(&out->diag,
                 "ACPI: MADT lists %u enabled CPUs; Keel supports %u, the rest are ignored",
                 st->cpus_seen, ACPI_MAX_CPUS);
    if (st->duplicate_ids)
        diag_add(&out->diag, "ACPI: MADT lists %u CPUs whose APIC ID was listed before; ignored",
                 st->duplicate_ids);
    if (st->broadcast_ids)
        diag_add(&out->diag, "ACPI: MADT lists %u CPUs with the broadcast APIC ID; ignored",
                 st->broadcast_ids);
    if (st->ioapics_ignored)
        diag_add(&out->diag, "ACPI: MADT lists %u more IOAPICs than Keel's %u; ignored",
                 st->ioapics_ignored, ACPI_MAX_IOAPICS);
    if (st->overrides_ignored)
        diag_add(&out->diag, "ACPI: MADT lists %u more interrupt overrides than Keel's %u; ignored",
                 st->overrides_ignored, ACPI_MAX_OVERRIDES);
    if (st->short_entries)
        diag_add(&out->diag, "ACPI: MADT has %u entries shorter than their type's size; skipped",
                 st->short_entries);
    if (out->cpu_count == 0)
        diag_add(&out->diag, "ACPI: MADT lists no usable CPU");
}

/* Checks the table reaches the first entry, then walks the entries as the
 * file comment says. */
bool acpi_parse_madt(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
    if (len < MADT_OFF_ENTRIES) {
        diag_add(&out->diag, "ACPI: MADT is %u bytes (< %u); table ignored", len, MADT_OFF_ENTRIES);
        return false;
    }
    struct madt_state st = {0};
    out->have_madt = true;
    out->lapic_address = le32(t + MADT_OFF_LAPIC_ADDRESS);
    out->pcat_compat = (le32(t + MADT_OFF_FLAGS) & MADT_FLAG_PCAT_COMPAT) != 0;
    uint32_t off = MADT_OFF_ENTRIES;
    while (len - off >= MADT_ENTRY_HEADER) {
        const uint8_t *e = t + off;
        uint8_t elen = e[1];
        if (elen < MADT_ENTRY_HEADER || elen > len - off) {
            diag_add(&out->diag,
                     "ACPI: MADT entry (type %u) at offset %u has length %u (%s); rest of the MADT "
                     "ignored",
                     e[0], off, elen, elen < MADT_ENTRY_HEADER ? "below 2" : "past the end");
            break;
        }
        if (elen < entry_min_length(e[0]))
            st.short_entries++;
        else
            parse_entry(e, &st, out);
        off += elen;
    }
    if (len - off == 1)
        diag_add(&out->diag, "ACPI: MADT has a stray byte at its end; ignored");
    report(&st, out);
    return true;
}
