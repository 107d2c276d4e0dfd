/*
 * ACPI discovery (see acpi_tables.h): the RSDP (ACPI 6.5 section 5.2.5), the
 * RSDT or XSDT it points to (5.2.7, 5.2.8), and the tables they list that the
 * core uses (MADT, FADT, HPET: acpi_madt.c, acpi_timers.c). Every table is
 * read through the phys_reader: first its header, then, once its length is
 * bounded, the whole of it, whose checksum must be zero.
 */
#include "acpi_internal.h"
#include "kstring.h"
#include "le_bytes.h"

/* RSDP layout, ACPI 6.5 table 5.3. */
#define RSDP_SIGNATURE        "RSD PTR "
#define RSDP_V1_SIZE          20u
#define RSDP_V2_SIZE          36u
#define RSDP_OFF_OEM_ID       9
#define RSDP_OFF_REVISION     15
#define RSDP_OFF_RSDT         16
#define RSDP_OFF_XSDT         24
#define RSDP_SCAN_STEP        16u /* 5.2.5.1: on a 16-byte boundary */
#define RSDP_REVISION_XSDT    2   /* revision 2 and later carry the XSDT fields */
#define ACPI_OEM_ID_LEN       6
#define ACPI_MAX_ROOT_ENTRIES 1024u /* Keel's bound on the tables looked at */

struct wanted_table {
    char signature[5];
    const char *name;
    bool (*parse)(const uint8_t *table, uint32_t len, struct acpi_info *out);
    uint64_t used_at; /* 0 until one was usable */
    unsigned duplicates;
};

static uint8_t sum_bytes(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

/* An RSDP whose first 20 bytes are at p and, for revision >= 2, 36 bytes at
 * p36 (NULL when unreadable): signature and both checksums. */
static bool rsdp_valid(const uint8_t *p, const uint8_t *p36)
{
    if (memcmp(p, RSDP_SIGNATURE, 8) != 0 || sum_bytes(p, RSDP_V1_SIZE) != 0)
        return false;
    return p[RSDP_OFF_REVISION] < RSDP_REVISION_XSDT ||
           (p36 != NULL && sum_bytes(p36, RSDP_V2_SIZE) == 0);
}

/* Candidates at 16-byte steps from start rounded up (never address 0, which
 * means "none"); each read through the reader, unreadable ones skipped. */
uint64_t acpi_scan_rsdp(const struct phys_reader *reader, uint64_t start, uint64_t length)
{
    uint64_t end = length > UINT64_MAX - start ? UINT64_MAX : start + length;
    if (start > UINT64_MAX - (RSDP_SCAN_STEP - 1))
        return 0;
    uint64_t p = (start + RSDP_SCAN_STEP - 1) & ~(uint64_t)(RSDP_SCAN_STEP - 1);
    if (p == 0)
        p = RSDP_SCAN_STEP;
    for (; p < end && end - p >= RSDP_V1_SIZE; p += RSDP_SCAN_STEP) {
        const uint8_t *v1 = phys_read(reader, p, RSDP_V1_SIZE);
        if (v1 == NULL || memcmp(v1, RSDP_SIGNATURE, 8) != 0)
            continue;
        const uint8_t *v2 = NULL;
        if (v1[RSDP_OFF_REVISION] >= RSDP_REVISION_XSDT)
            v2 = phys_read(reader, p, RSDP_V2_SIZE);
        if (rsdp_valid(v1, v2))
            return p;
    }
    return 0;
}

/* Reads the table at phys and checks: header readable, length within
 * [ACPI_HEADER_SIZE, ACPI_MAX_TABLE_LENGTH], all of it readable, checksum
 * zero. Returns it (its length in *len) or NULL after a diagnostic. */
static const uint8_t *load_table(const struct phys_reader *reader, uint64_t phys, const char *name,
                                 uint32_t *len, struct acpi_info *out)
{
    const uint8_t *hdr = phys_read(reader, phys, ACPI_HEADER_SIZE);
    if (hdr == NULL) {
        diag_add(&out->diag, "ACPI: %s at 0x%llx is not readable; table ignored", name,
                 (unsigned long long)phys);
        return NULL;
    }
    *len = le32(hdr + ACPI_HDR_OFF_LENGTH);
    if (*len < ACPI_HEADER_SIZE || *len > ACPI_MAX_TABLE_LENGTH) {
        diag_add(&out->diag, "ACPI: %s length %u is outside %u..%u; table ignored", name, *len,
                 ACPI_HEADER_SIZE, ACPI_MAX_TABLE_LENGTH);
        return NULL;
    }
    const uint8_t *table = phys_read(reader, phys, *len);
    if (table == NULL) {
        diag_add(&out->diag, "ACPI: %s at 0x%llx (%u bytes) is not readable; table ignored", name,
                 (unsigned long long)phys, *len);
        return NULL;
    }
    uint8_t sum = sum_bytes(table, *len);
    if (sum != 0) {
        diag_add(&out->diag, "ACPI: %s checksum invalid (sum 0x%02x); table ignored", name, sum);
        return NULL;
    }
    return table;
}

/* One entry of the RSDT/XSDT: looks at its signature and parses the tables
 * the core wants, the first usable one of each kind only. */
static void visit_entry(const struct phys_reader *reader, uint64_t phys, struct wanted_table *w,
                        unsigned nwanted, struct acpi_info *out)
{
    const uint8_t *hdr = phys_read(reader, phys, ACPI_HEADER_SIZE);
    if (hdr == NULL) {
        diag_add(&out->diag, "ACPI: table at 0x%llx is not readable; ignored",
                 (unsigned long long)phys);
        return;
    }
    for (unsigned i = 0; i < nwanted; i++) {
        if (memcmp(hdr, w[i].signature, 4) != 0)
            continue;
        if (w[i].used_at != 0) {
            w[i].duplicates++;
            return;
        }
        uint32_t len;
        const uint8_t *table = load_table(reader, phys, w[i].name, &len, out);
        if (table != NULL && w[i].parse(table, len, out))
            w[i].used_at = phys;
        return;
    }
}

/* Walks the root table's entries (entry_size 4 for the RSDT, 8 for the XSDT);
 * the count follows from the verified length and is bounded. */
static void walk_root(const struct phys_reader *reader, const uint8_t *root, uint32_t len,
                      unsigned entry_size, struct acpi_info *out)
{
    struct wanted_table w[] = {
        {"APIC", "MADT", acpi_parse_madt, 0, 0},
        {"FACP", "FADT", acpi_parse_fadt, 0, 0},
        {"HPET", "HPET", acpi_parse_hpet, 0, 0},
    };
    const char *root_name = entry_size == 8 ? "XSDT" : "RSDT";
    uint32_t count = (len - ACPI_HEADER_SIZE) / entry_size;
    if ((len - ACPI_HEADER_SIZE) % entry_size != 0)
        diag_add(&out->diag, "ACPI: %s ends in a partial entry; ignored", root_name);
    if (count > ACPI_MAX_ROOT_ENTRIES) {
        diag_add(&out->diag, "ACPI: %s lists %u tables; only the first %u are looked at", root_name,
                 count, ACPI_MAX_ROOT_ENTRIES);
        count = ACPI_MAX_ROOT_ENTRIES;
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = root + ACPI_HEADER_SIZE + (size_t)i * entry_size;
        uint64_t phys = entry_size == 8 ? le64(e) : le32(e);
        if (phys == 0)
            diag_add(&out->diag, "ACPI: %s entry %u is null; ignored", root_name, i);
        else
            visit_entry(reader, phys, w, 3, out);
    }
    for (unsigned i = 0; i < 3; i++) {
        if (w[i].duplicates)
            diag_add(&out->diag, "ACPI: %u more %s tables listed; the one at 0x%llx is used",
                     w[i].duplicates, w[i].name, (unsigned long long)w[i].used_at);
    }
}

/* Fetches the RSDP bytes: the copy, or 20 (36 for revision >= 2, when
 * readable) bytes at rsdp_phys. Returns how many are available at *p. */
static unsigned fetch_rsdp(const struct phys_reader *reader, const uint8_t *copy, unsigned copy_len,
                           uint64_t phys, const uint8_t **p, struct acpi_info *out)
{
    if (copy != NULL) {
        *p = copy;
        return copy_len;
    }
    out->rsdp_phys = phys;
    *p = phys != 0 ? phys_read(reader, phys, RSDP_V1_SIZE) : NULL;
    if (*p == NULL) {
        diag_add(&out->diag, "ACPI: no readable RSDP (at 0x%llx); no ACPI tables used",
                 (unsigned long long)phys);
        return 0;
    }
    if ((*p)[RSDP_OFF_REVISION] >= RSDP_REVISION_XSDT) {
        const uint8_t *v2 = phys_read(reader, phys, RSDP_V2_SIZE);
        if (v2 != NULL) {
            *p = v2;
            return RSDP_V2_SIZE;
        }
    }
    return RSDP_V1_SIZE;
}

/* Checks the RSDP: size, signature, checksum (else -1: nothing usable), and
 * for revision >= 2 the 36-byte size and extended checksum (else only the
 * RSDT is used). Returns 1 when the XSDT fields may be used, else 0. */
static int check_rsdp(const uint8_t *p, unsigned len, struct acpi_info *out)
{
    if (len < RSDP_V1_SIZE || memcmp(p, RSDP_SIGNATURE, 8) != 0) {
        diag_add(&out->diag, "ACPI: RSDP (%u bytes) has no \"RSD PTR \" signature; no ACPI", len);
        return -1;
    }
    uint8_t sum = sum_bytes(p, RSDP_V1_SIZE);
    if (sum != 0) {
        diag_add(&out->diag, "ACPI: RSDP checksum invalid (sum 0x%02x); no ACPI tables used", sum);
        return -1;
    }
    out->revision = p[RSDP_OFF_REVISION];
    for (int i = 0; i < ACPI_OEM_ID_LEN; i++) {
        uint8_t c = p[RSDP_OFF_OEM_ID + i];
        out->oem_id[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (out->revision < RSDP_REVISION_XSDT)
        return 0;
    if (len < RSDP_V2_SIZE) {
        diag_add(&out->diag, "ACPI: revision %u RSDP is only %u bytes; using the RSDT",
                 out->revision, len);
        return 0;
    }
    sum = sum_bytes(p, RSDP_V2_SIZE);
    if (sum != 0) {
        diag_add(&out->diag, "ACPI: RSDP extended checksum invalid (sum 0x%02x); using the RSDT",
                 sum);
        return 0;
    }
    return 1;
}

int acpi_parse(const struct phys_reader *reader, const uint8_t *rsdp_copy, unsigned rsdp_len,
               uint64_t rsdp_phys, struct acpi_info *out)
{
    memset(out, 0, sizeof(*out));
    const uint8_t *rsdp;
    unsigned len = fetch_rsdp(reader, rsdp_copy, rsdp_len, rsdp_phys, &rsdp, out);
    if (len == 0 && rsdp_copy == NULL)
        return -1;
    int xsdt_ok = check_rsdp(rsdp, len, out);
    if (xsdt_ok < 0)
        return -1;

    uint32_t root_len = 0;
    const uint8_t *root = NULL;
    uint64_t xsdt = xsdt_ok ? le64(rsdp + RSDP_OFF_XSDT) : 0;
    if (xsdt != 0) {
        root = load_table(reader, xsdt, "XSDT", &root_len, out);
        if (root != NULL && memcmp(root, "XSDT", 4) != 0) {
            diag_add(&out->diag, "ACPI: XSDT signature is wrong; table ignored");
            root = NULL;
        }
        out->used_xsdt = root != NULL;
        if (root == NULL)
            diag_add(&out->diag, "ACPI: falling back to the RSDT");
    }
    uint32_t rsdt = le32(rsdp + RSDP_OFF_RSDT);
    if (root == NULL && rsdt != 0) {
        root = load_table(reader, rsdt, "RSDT", &root_len, out);
        if (root != NULL && memcmp(root, "RSDT", 4) != 0) {
            diag_add(&out->diag, "ACPI: RSDT signature is wrong; table ignored");
            root = NULL;
        }
    }
    if (root == NULL) {
        diag_add(&out->diag, "ACPI: neither an XSDT nor an RSDT is usable; no ACPI tables used");
        return -1;
    }
    walk_root(reader, root, root_len, out->used_xsdt ? 8 : 4, out);
    return 0;
}
