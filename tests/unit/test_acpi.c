/*
 * Host unit tests of kernel/acpi_tables.c, acpi_madt.c and acpi_timers.c:
 * tables built in fake physical memory (the BIOS area, where the RSDP is
 * scanned for, and a table area), good and bad.
 */
#include "acpi_tables.h"
#include "check.h"
#include "fake_phys.h"

#define BIOS   0xe0000ull
#define TABLES 0x7fe0000ull
#define RSDP   0xf6a40ull

static uint8_t bios[0x20000], tables[0x40000];
static struct fake_phys fp;
static struct acpi_info ai;
static uint64_t next_table;

static uint8_t *at(uint64_t phys)
{
    if (phys >= BIOS && phys < BIOS + sizeof(bios))
        return bios + (phys - BIOS);
    if (phys >= TABLES && phys < TABLES + sizeof(tables))
        return tables + (phys - TABLES);
    abort();
}

static void put16(uint64_t p, uint16_t v)
{
    at(p)[0] = (uint8_t)v;
    at(p)[1] = (uint8_t)(v >> 8);
}

static void put32(uint64_t p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint64_t p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void mem_reset(void)
{
    memset(bios, 0, sizeof(bios));
    memset(tables, 0, sizeof(tables));
    fake_phys_fini(&fp);
    fake_phys_init(&fp);
    fake_phys_map(&fp, BIOS, bios, sizeof(bios));
    fake_phys_map(&fp, TABLES, tables, sizeof(tables));
    next_table = TABLES + 4; /* deliberately not 8-aligned */
}

static uint8_t sum(uint64_t p, uint32_t len)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < len; i++)
        s = (uint8_t)(s + at(p)[i]);
    return s;
}

/* A table being built: header first, then bytes appended. */
struct tb {
    uint64_t phys;
    uint32_t len;
};

static struct tb tb_begin(const char *sig, uint8_t revision)
{
    struct tb t = {next_table, 36};
    memcpy(at(t.phys), sig, 4);
    at(t.phys)[8] = revision;
    memcpy(at(t.phys + 10), "KEELOE", 6);
    return t;
}

static void tb_put(struct tb *t, const void *bytes, uint32_t n)
{
    memcpy(at(t->phys + t->len), bytes, n);
    t->len += n;
}

/* Sets the length and a correct checksum; returns the address. */
static uint64_t tb_end(struct tb *t)
{
    put32(t->phys + 4, t->len);
    at(t->phys)[9] = 0;
    at(t->phys)[9] = (uint8_t)-sum(t->phys, t->len);
    next_table = (t->phys + t->len + 64 + 3) & ~3ull;
    return t->phys;
}

static void refix(uint64_t phys)
{
    uint32_t len = at(phys)[4] | at(phys)[5] << 8 | at(phys)[6] << 16 | at(phys)[7] << 24;
    at(phys)[9] = 0;
    at(phys)[9] = (uint8_t)-sum(phys, len);
}

static void rsdp_put(uint64_t p, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    memcpy(at(p), "RSD PTR ", 8);
    memcpy(at(p + 9), "KEELOE", 6);
    at(p)[15] = rev;
    put32(p + 16, rsdt);
    put32(p + 20, 36);
    put64(p + 24, xsdt);
    at(p)[8] = 0;
    at(p)[8] = (uint8_t)-sum(p, 20);
    at(p)[32] = 0;
    at(p)[32] = (uint8_t)-sum(p, 36);
}

static uint64_t root_make(const char *sig, const uint64_t *list, unsigned n)
{
    struct tb t = tb_begin(sig, 1);
    unsigned size = sig[0] == 'X' ? 8 : 4;
    for (unsigned i = 0; i < n; i++)
        tb_put(&t, &list[i], size);
    return tb_end(&t);
}

static void madt_lapic(struct tb *t, uint8_t uid, uint8_t id, uint32_t flags)
{
    uint8_t e[8] = {0, 8, uid, id};
    memcpy(e + 4, &flags, 4);
    tb_put(t, e, 8);
}

static void madt_x2apic(struct tb *t, uint32_t id, uint32_t uid, uint32_t flags)
{
    uint8_t e[16] = {9, 16};
    memcpy(e + 4, &id, 4);
    memcpy(e + 8, &flags, 4);
    memcpy(e + 12, &uid, 4);
    tb_put(t, e, 16);
}

static struct tb madt_begin(void)
{
    struct tb t = tb_begin("APIC", 4);
    uint32_t head[2] = {0xfee00000u, 1};
    tb_put(&t, head, 8);
    return t;
}

static uint64_t std_madt(void)
{
    struct tb t = madt_begin();
    madt_lapic(&t, 0, 0, 1);
    madt_lapic(&t, 1, 2, 1);
    madt_lapic(&t, 2, 4, 0); /* disabled */
    uint8_t ioapic[12] = {1, 12, 3, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0};
    tb_put(&t, ioapic, 12);
    uint8_t iso0[10] = {2, 10, 0, 0, 2, 0, 0, 0, 0, 0};
    uint8_t iso9[10] = {2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0};
    tb_put(&t, iso0, 10);
    tb_put(&t, iso9, 10);
    uint8_t nmi[6] = {4, 6, 0xff, 5, 0, 1}; /* a type Keel skips */
    tb_put(&t, nmi, 6);
    return tb_end(&t);
}

static uint64_t fadt_make(uint8_t revision, uint32_t len, uint32_t port, uint8_t tmr_len,
                          uint32_t flags)
{
    struct tb t = tb_begin("FACP", revision);
    uint8_t body[300] = {0};
    memcpy(body + 76 - 36, &port, 4);
    body[91 - 36] = tmr_len;
    memcpy(body + 112 - 36, &flags, 4);
    tb_put(&t, body, len - 36);
    return tb_end(&t);
}

static uint64_t hpet_make(uint32_t len, uint8_t space, uint64_t address, uint16_t min_tick)
{
    struct tb t = tb_begin("HPET", 1);
    uint8_t body[20] = {0x01, 0xa2, 0x86, 0x80, space, 64};
    memcpy(body + 8, &address, 8);
    body[16] = 0; /* HPET number at 52 */
    memcpy(body + 17, &min_tick, 2);
    tb_put(&t, body, len - 36);
    return tb_end(&t);
}

static int parse_at(uint64_t rsdp)
{
    int rc = acpi_parse(&fp.reader, NULL, 0, rsdp, &ai);
    diag_print("acpi", &ai.diag);
    return rc;
}

/* RSDP (revision 0) -> RSDT -> MADT, FADT, HPET. */
static void std_setup(uint64_t *madt, uint64_t *fadt, uint64_t *hpet)
{
    mem_reset();
    uint64_t list[3] = {std_madt(), fadt_make(1, 116, 0x608, 4, 1u << 8),
                        hpet_make(56, 0, 0xfed00000, 0x80)};
    rsdp_put(RSDP, 0, (uint32_t)root_make("RSDT", list, 3), 0);
    if (madt)
        *madt = list[0];
    if (fadt)
        *fadt = list[1];
    if (hpet)
        *hpet = list[2];
}

static void rsdt_good(void)
{
    std_setup(NULL, NULL, NULL);
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_NO_DIAG(&ai.diag);
    CHECK_EQ(ai.rsdp_phys, RSDP);
    CHECK_EQ(ai.revision, 0);
    CHECK_STR(ai.oem_id, "KEELOE");
    CHECK(!ai.used_xsdt);
    CHECK(ai.have_madt);
    CHECK_EQ(ai.lapic_address, 0xfee00000u);
    CHECK(ai.pcat_compat);
    CHECK_EQ(ai.cpu_count, 2);
    CHECK_EQ(ai.cpus[1].apic_id, 2);
    CHECK_EQ(ai.cpus[1].acpi_uid, 1);
    CHECK(!ai.cpus[1].x2apic);
    CHECK_EQ(ai.cpus_ignored, 0);
    CHECK_EQ(ai.ioapic_count, 1);
    CHECK_EQ(ai.ioapics[0].id, 3);
    CHECK_EQ(ai.ioapics[0].address, 0xfec00000u);
    CHECK_EQ(ai.override_count, 2);
    CHECK_EQ(ai.overrides[0].source, 0);
    CHECK_EQ(ai.overrides[0].gsi, 2);
    CHECK_EQ(ai.overrides[1].source, 9);
    CHECK_EQ(ai.overrides[1].flags, 0x0d);
    CHECK(ai.have_fadt && ai.pm_timer_present && ai.pm_timer_32bit);
    CHECK_EQ(ai.pm_timer_space, ACPI_GAS_IO);
    CHECK_EQ(ai.pm_timer_address, 0x608);
    CHECK_EQ(ai.fadt_revision, 1);
    CHECK(ai.have_hpet);
    CHECK_EQ(ai.hpet_address, 0xfed00000u);
    CHECK_EQ(ai.hpet_min_tick, 0x80);
}

/* Revision 2 RSDP: the XSDT (unaligned 64-bit entries) is used over an RSDT
 * that lists nothing; x2APIC CPUs; the FADT's X_PM_TMR_BLK. */
static void xsdt_good(void)
{
    mem_reset();
    struct tb m = madt_begin();
    madt_lapic(&m, 0, 0, 1);
    madt_x2apic(&m, 300, 7, 1);
    madt_x2apic(&m, 301, 8, 2); /* online-capable */
    madt_x2apic(&m, 302, 9, 0); /* absent */
    uint8_t ovr[12] = {5, 12, 0, 0, 0, 0, 0xe0, 0xfe, 0x0f, 0, 0, 0};
    tb_put(&m, ovr, 12);
    uint64_t madt = tb_end(&m);
    uint64_t fadt = fadt_make(5, 268, 0x608, 4, 0);
    uint8_t gas[12] = {0, 32, 0, 3, 0x08, 0x80, 0xd0, 0xfe};
    memcpy(at(fadt + 208), gas, 12);
    refix(fadt);
    uint64_t list[2] = {madt, fadt};
    uint64_t xsdt = root_make("XSDT", list, 2);
    rsdp_put(RSDP, 2, (uint32_t)root_make("RSDT", NULL, 0), xsdt);
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_NO_DIAG(&ai.diag);
    CHECK(ai.used_xsdt);
    CHECK_EQ(ai.revision, 2);
    CHECK_EQ(ai.cpu_count, 3);
    CHECK_EQ(ai.cpus[1].apic_id, 300);
    CHECK_EQ(ai.cpus[1].acpi_uid, 7);
    CHECK(ai.cpus[1].x2apic);
    CHECK_EQ(ai.cpus[2].apic_id, 301);
    CHECK_EQ(ai.lapic_address, 0xffee00000ull);
    CHECK(ai.pm_timer_present);
    CHECK_EQ(ai.pm_timer_space, ACPI_GAS_MEMORY);
    CHECK_EQ(ai.pm_timer_address, 0xfed08008ull);
    CHECK(!ai.pm_timer_32bit);
    CHECK(!ai.have_hpet);
}

static void rsdp_problems(void)
{
    std_setup(NULL, NULL, NULL);
    at(RSDP)[8] ^= 0x10;
    CHECK_EQ(parse_at(RSDP), -1);
    CHECK_DIAG(&ai.diag, "ACPI: RSDP checksum invalid (sum 0x10); no ACPI tables used");
    CHECK(!ai.have_madt);
    at(RSDP)[8] ^= 0x10;
    at(RSDP)[0] = 'X';
    CHECK_EQ(parse_at(RSDP), -1);
    CHECK_DIAG(&ai.diag, "has no \"RSD PTR \" signature");
    CHECK_EQ(parse_at(0), -1);
    CHECK_EQ(parse_at(0x40000000), -1);
    CHECK_DIAG(&ai.diag, "no readable RSDP (at 0x40000000)");
    /* Revision 2 with a bad extended checksum: the RSDT still serves. */
    std_setup(NULL, NULL, NULL);
    rsdp_put(RSDP, 2, at(RSDP)[16] | at(RSDP)[17] << 8 | at(RSDP)[18] << 16 | at(RSDP)[19] << 24,
             0x12345678);
    at(RSDP)[32] ^= 1;
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_DIAG(&ai.diag, "RSDP extended checksum invalid (sum 0x01); using the RSDT");
    CHECK(!ai.used_xsdt && ai.have_madt);
}

static void rsdp_copy(void)
{
    std_setup(NULL, NULL, NULL);
    uint8_t copy[36];
    memcpy(copy, at(RSDP), 36);
    memset(at(RSDP), 0, 36);
    CHECK_EQ(acpi_parse(&fp.reader, copy, 20, 0x1234, &ai), 0);
    CHECK_EQ(ai.rsdp_phys, 0);
    CHECK(ai.have_madt && ai.have_fadt && ai.have_hpet);
    CHECK_EQ(acpi_parse(&fp.reader, copy, 19, 0, &ai), -1);
    CHECK_EQ(acpi_parse(&fp.reader, copy, 0, 0, &ai), -1);
    copy[15] = 2; /* claims revision 2 but only 20 bytes came */
    copy[8] = (uint8_t)(copy[8] - 2);
    CHECK_EQ(acpi_parse(&fp.reader, copy, 20, 0, &ai), 0);
    CHECK_DIAG(&ai.diag, "revision 2 RSDP is only 20 bytes; using the RSDT");
}

static void xsdt_falls_back(void)
{
    std_setup(NULL, NULL, NULL);
    uint32_t rsdt = at(RSDP)[16] | at(RSDP)[17] << 8 | at(RSDP)[18] << 16 | at(RSDP)[19] << 24;
    uint64_t list[1] = {hpet_make(56, 0, 0xfed00000, 1)};
    uint64_t xsdt = root_make("XSDT", list, 1);
    at(xsdt)[40] ^= 0xff; /* corrupt */
    rsdp_put(RSDP, 2, rsdt, xsdt);
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_DIAG(&ai.diag, "ACPI: XSDT checksum invalid");
    CHECK_DIAG(&ai.diag, "falling back to the RSDT");
    CHECK(!ai.used_xsdt && ai.have_madt && ai.have_fadt);
    refix(xsdt);
    memcpy(at(xsdt), "XSDX", 4);
    refix(xsdt);
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_DIAG(&ai.diag, "XSDT signature is wrong");
    rsdp_put(RSDP, 2, 0, xsdt);
    CHECK_EQ(parse_at(RSDP), -1);
    CHECK_DIAG(&ai.diag, "neither an XSDT nor an RSDT is usable");
}

static void madt_bad_checksum(void)
{
    uint64_t madt;
    std_setup(&madt, NULL, NULL);
    at(madt)[9] = (uint8_t)(at(madt)[9] + 0x3c);
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_DIAG(&ai.diag, "ACPI: MADT checksum invalid (sum 0x3c); table ignored");
    CHECK(!ai.have_madt);
    CHECK_EQ(ai.cpu_count, 0);
    CHECK(ai.have_fadt && ai.have_hpet); /* the others are still used */
}

static void table_length_bounds(void)
{
    uint64_t madt, fadt, hpet;
    std_setup(&madt, &fadt, &hpet);
    put32(madt + 4, (1u << 20) + 1);
    put32(fadt + 4, 35);
    put32(hpet + 4, sizeof(tables)); /* within the bound but not readable */
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_DIAG(&ai.diag, "ACPI: MADT length 1048577 is outside 36..1048576; table ignored");
    CHECK_DIAG(&ai.diag, "ACPI: FADT length 35 is outside");
    CHECK_DIAG(&ai.diag, "(262144 bytes) is not readable; table ignored");
    CHECK(!ai.have_madt && !ai.have_fadt && !ai.have_hpet);
}

static void madt_300_cpus(void)
{
    mem_reset();
    struct tb t = madt_begin();
    for (unsigned i = 0; i < 300; i++)
        madt_lapic(&t, (uint8_t)i, (uint8_t)i, i == 5 ? 0 : 1);
    for (unsigned i = 0; i < 10; i++)
        madt_x2apic(&t, 1000 + i, 1000 + i, 1);
    uint64_t list[1] = {tb_end(&t)};
    rsdp_put(RSDP, 0, (uint32_t)root_make("RSDT", list, 1), 0);
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_EQ(ai.cpu_count, ACPI_MAX_CPUS);
    CHECK_EQ(ai.cpus[5].apic_id, 6);
    /* IDs repeat modulo 256 and 255 is the broadcast ID: of the 300 entries,
     * 255 distinct usable ones (0-254 less the disabled 5, plus 5 later). */
    CHECK_EQ(ai.cpu_count + ai.cpus_ignored, 255 + 10);
    CHECK_DIAG(&ai.diag,
               "ACPI: MADT lists 265 enabled CPUs; Keel supports 64, the rest are ignored");
    CHECK_DIAG(&ai.diag, "whose APIC ID was listed before; ignored");
    CHECK_DIAG(&ai.diag, "1 CPUs with the broadcast APIC ID; ignored");
}

static void madt_bad_entries(void)
{
    mem_reset();
    struct tb t = madt_begin();
    madt_lapic(&t, 0, 0, 1);
    uint8_t short_ioapic[8] = {1, 8, 1, 0, 0, 0, 0xc0, 0xfe};
    tb_put(&t, short_ioapic, 8);
    uint8_t zero[4] = {0, 0, 0, 0}; /* a zero-length entry */
    tb_put(&t, zero, 4);
    madt_lapic(&t, 1, 1, 1); /* never reached */
    uint64_t list[1] = {tb_end(&t)};
    rsdp_put(RSDP, 0, (uint32_t)root_make("RSDT", list, 1), 0);
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_EQ(ai.cpu_count, 1);
    CHECK_EQ(ai.ioapic_count, 0);
    CHECK_DIAG(&ai.diag,
               "MADT entry (type 0) at offset 60 has length 0 (below 2); rest of the MADT ignored");
    CHECK_DIAG(&ai.diag, "MADT has 1 entries shorter than their type's size; skipped");
    /* An entry running past the end, and a stray last byte. */
    mem_reset();
    t = madt_begin();
    madt_lapic(&t, 0, 0, 1);
    uint8_t past[2] = {0, 8};
    tb_put(&t, past, 2);
    list[0] = tb_end(&t);
    rsdp_put(RSDP, 0, (uint32_t)root_make("RSDT", list, 1), 0);
    parse_at(RSDP);
    CHECK_DIAG(&ai.diag, "has length 8 (past the end)");
    CHECK_EQ(ai.cpu_count, 1);
    mem_reset();
    struct tb tiny = tb_begin("APIC", 1);
    tb_put(&tiny, "\0\0\0\0", 4);
    list[0] = tb_end(&tiny);
    rsdp_put(RSDP, 0, (uint32_t)root_make("RSDT", list, 1), 0);
    parse_at(RSDP);
    CHECK_DIAG(&ai.diag, "ACPI: MADT is 40 bytes (< 44); table ignored");
    CHECK(!ai.have_madt);
}

static void madt_limits(void)
{
    mem_reset();
    struct tb t = madt_begin();
    madt_lapic(&t, 0, 1, 1);
    madt_x2apic(&t, 1, 9, 1); /* same APIC ID as above */
    madt_x2apic(&t, 0xffffffffu, 9, 1);
    for (int i = 0; i < 10; i++) {
        uint8_t io[12] = {1, 12, (uint8_t)i, 0, 0, 0, 0xc0, 0xfe};
        tb_put(&t, io, 12);
    }
    for (int i = 0; i < 20; i++) {
        uint8_t iso[10] = {2, 10, 0, (uint8_t)i, (uint8_t)i, 0, 0, 0, 0, 0};
        tb_put(&t, iso, 10);
    }
    uint64_t list[1] = {tb_end(&t)};
    rsdp_put(RSDP, 0, (uint32_t)root_make("RSDT", list, 1), 0);
    parse_at(RSDP);
    CHECK_EQ(ai.cpu_count, 1);
    CHECK(!ai.cpus[0].x2apic);
    CHECK_EQ(ai.ioapic_count, ACPI_MAX_IOAPICS);
    CHECK_EQ(ai.override_count, ACPI_MAX_OVERRIDES);
    CHECK_DIAG(&ai.diag, "MADT lists 2 more IOAPICs than Keel's 8; ignored");
    CHECK_DIAG(&ai.diag, "MADT lists 4 more interrupt overrides than Keel's 16; ignored");
    CHECK_DIAG(&ai.diag, "1 CPUs whose APIC ID was listed before");
    CHECK_DIAG(&ai.diag, "1 CPUs with the broadcast APIC ID");
}

static void duplicate_tables(void)
{
    mem_reset();
    uint64_t bad = std_madt();
    at(bad)[50] ^= 1;
    struct tb t = madt_begin();
    madt_lapic(&t, 0, 7, 1);
    uint64_t good = tb_end(&t);
    uint64_t other = std_madt();
    uint64_t short_hpet = hpet_make(52, 0, 0xfed00000, 1);
    uint64_t io_hpet = hpet_make(56, 1, 0x1000, 1);
    uint64_t hpet = hpet_make(56, 0, 0xfed01000, 2);
    uint64_t list[7] = {bad, good, other, short_hpet, io_hpet, hpet, 0};
    rsdp_put(RSDP, 0, (uint32_t)root_make("RSDT", list, 7), 0);
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_EQ(ai.cpu_count, 1);
    CHECK_EQ(ai.cpus[0].apic_id, 7);
    CHECK_DIAG(&ai.diag, "ACPI: MADT checksum invalid");
    char want[96];
    snprintf(want, sizeof(want), "ACPI: 1 more MADT tables listed; the one at 0x%llx is used",
             (unsigned long long)good);
    CHECK_DIAG(&ai.diag, want);
    CHECK_DIAG(&ai.diag, "ACPI: HPET table is 52 bytes (< 56); no HPET");
    CHECK_DIAG(&ai.diag, "ACPI: HPET base 0x1000 in address space 1 is not usable memory");
    CHECK(ai.have_hpet);
    CHECK_EQ(ai.hpet_address, 0xfed01000u);
    CHECK_DIAG(&ai.diag, "ACPI: RSDT entry 6 is null; ignored");
}

static void fadt_variants(void)
{
    struct {
        uint8_t rev;
        uint32_t len, port;
        uint8_t tmr_len;
        bool present, ext;
        const char *diag;
    } cases[] = {
        {1, 116, 0x608, 4, true, true, NULL},
        {3, 100, 0x608, 4, true, false, "ACPI: FADT truncated: 100 bytes, revision 3 has 244"},
        {1, 80, 0x608, 4, false, false, "FADT truncated: 80 bytes, revision 1 has 116"},
        {1, 116, 0x608, 3, false, false, "FADT PM_TMR_LEN is 3, not 4; no PM timer"},
        {6, 276, 0, 4, false, false, NULL},
        {2, 116, 0x408, 4, true, true, NULL},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mem_reset();
        uint64_t list[1] = {
            fadt_make(cases[i].rev, cases[i].len, cases[i].port, cases[i].tmr_len, 1u << 8)};
        rsdp_put(RSDP, 0, (uint32_t)root_make("RSDT", list, 1), 0);
        parse_at(RSDP);
        CHECK_MSG(ai.have_fadt && ai.pm_timer_present == cases[i].present &&
                      ai.pm_timer_32bit == cases[i].ext && ai.fadt_revision == cases[i].rev,
                  "case %u: present %d ext %d", i, ai.pm_timer_present, ai.pm_timer_32bit);
        if (cases[i].diag)
            CHECK_DIAG(&ai.diag, cases[i].diag);
        else
            CHECK_NO_DIAG(&ai.diag);
    }
    /* X_PM_TMR_BLK in PCI config space: the I/O port is kept. */
    mem_reset();
    uint64_t fadt = fadt_make(3, 244, 0x608, 4, 0);
    uint8_t gas[12] = {2, 32, 0, 3, 0x08, 0x06};
    memcpy(at(fadt + 208), gas, 12);
    refix(fadt);
    rsdp_put(RSDP, 0, (uint32_t)root_make("RSDT", &fadt, 1), 0);
    parse_at(RSDP);
    CHECK_DIAG(&ai.diag, "FADT X_PM_TMR_BLK is in address space 2; using PM_TMR_BLK");
    CHECK_EQ(ai.pm_timer_space, ACPI_GAS_IO);
    CHECK_EQ(ai.pm_timer_address, 0x608);
}

static void root_oddities(void)
{
    mem_reset();
    struct tb t = tb_begin("RSDT", 1);
    uint32_t junk = 0x30000000; /* unreadable */
    for (int i = 0; i < 1100; i++)
        tb_put(&t, &junk, 4);
    tb_put(&t, "\1\2", 2); /* a partial entry */
    rsdp_put(RSDP, 0, (uint32_t)tb_end(&t), 0);
    CHECK_EQ(parse_at(RSDP), 0);
    CHECK_DIAG(&ai.diag, "ACPI: RSDT ends in a partial entry; ignored");
    CHECK_DIAG(&ai.diag, "ACPI: RSDT lists 1100 tables; only the first 1024 are looked at");
    CHECK_DIAG(&ai.diag, "ACPI: table at 0x30000000 is not readable; ignored");
    CHECK_EQ(ai.diag.count, 2 + 1024);
}

static void scan(void)
{
    std_setup(NULL, NULL, NULL);
    CHECK_EQ(acpi_scan_rsdp(&fp.reader, BIOS, sizeof(bios)), RSDP);
    CHECK_EQ(acpi_scan_rsdp(&fp.reader, RSDP - 3, 23), RSDP); /* rounded up to RSDP */
    CHECK_EQ(acpi_scan_rsdp(&fp.reader, RSDP - 16, 35), 0);   /* RSDP + 20 > end */
    CHECK_EQ(acpi_scan_rsdp(&fp.reader, RSDP + 1, 0x1000), 0);
    CHECK_EQ(acpi_scan_rsdp(&fp.reader, 0, 0x100000), RSDP); /* through unreadable memory */
    CHECK_EQ(acpi_scan_rsdp(&fp.reader, UINT64_MAX - 40, UINT64_MAX), 0);
    CHECK_EQ(acpi_scan_rsdp(&fp.reader, BIOS, 0), 0);
    /* Earlier decoys: right signature with a bad checksum, and a revision 2
     * one whose extended checksum fails, are passed over. */
    rsdp_put(BIOS + 0x100, 0, 0x1000, 0);
    at(BIOS + 0x100)[8] ^= 1;
    rsdp_put(BIOS + 0x200, 2, 0x1000, 0x2000);
    at(BIOS + 0x200)[32] ^= 1;
    memcpy(at(BIOS + 0x308), "RSD PTR ", 8); /* not 16-aligned */
    CHECK_EQ(acpi_scan_rsdp(&fp.reader, BIOS, sizeof(bios)), RSDP);
    rsdp_put(BIOS + 0x300, 2, 0x1000, 0x2000);
    CHECK_EQ(acpi_scan_rsdp(&fp.reader, BIOS, sizeof(bios)), BIOS + 0x300);
    /* A revision 2 RSDP whose extension is cut off by the end of memory. */
    mem_reset();
    uint64_t last = BIOS + sizeof(bios) - 32;
    memcpy(at(last), "RSD PTR ", 8);
    at(last)[15] = 2;
    at(last)[8] = (uint8_t)-sum(last, 20);
    CHECK_EQ(acpi_scan_rsdp(&fp.reader, BIOS, sizeof(bios)), 0);
}

int main(void)
{
    check_begin("acpi");
    RUN(rsdt_good);
    RUN(xsdt_good);
    RUN(rsdp_problems);
    RUN(rsdp_copy);
    RUN(xsdt_falls_back);
    RUN(madt_bad_checksum);
    RUN(table_length_bounds);
    RUN(madt_300_cpus);
    RUN(madt_bad_entries);
    RUN(madt_limits);
    RUN(duplicate_tables);
    RUN(fadt_variants);
    RUN(root_oddities);
    RUN(scan);
    fake_phys_fini(&fp);
    return check_finish();
}
