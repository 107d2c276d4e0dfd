/*
 * Multiboot2 boot information (Multiboot2 Specification 2.0, section 3.6
 * "Boot information format"): a total_size/reserved header, then 8-aligned
 * tags (type, size) ending with an end tag. The whole structure is read once
 * through the phys_reader after total_size is bounded; each tag's size is
 * then checked against what remains of it.
 */
#include "bootinfo_internal.h"
#include "kstring.h"
#include "le_bytes.h"

#define PROTO "multiboot2"

#define MB2_INFO_HEADER 8u         /* total_size, reserved (3.6.1) */
#define MB2_INFO_MAX    (1u << 20) /* Keel's bound on total_size */
#define MB2_TAG_HEADER  8u         /* type, size (3.6.2) */
#define MB2_TAG_ALIGN   8u

/* Tag types, sections 3.6.3 to 3.6.17. */
#define MB2_TAG_END         0
#define MB2_TAG_CMDLINE     1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE      3
#define MB2_TAG_MEMINFO     4
#define MB2_TAG_MMAP        6
#define MB2_TAG_ACPI_OLD    14
#define MB2_TAG_ACPI_NEW    15

#define MB2_MODULE_OFF_START  8 /* 3.6.6: mod_start, mod_end, then the string */
#define MB2_MODULE_OFF_END    12
#define MB2_MODULE_OFF_STRING 16
#define MB2_MEMINFO_SIZE      16 /* 3.6.8: mem_lower at 8, mem_upper at 12 */
#define MB2_MMAP_OFF_ENTRY_SZ 8  /* 3.6.8: entry_size, entry_version, entries */
#define MB2_MMAP_OFF_VERSION  12
#define MB2_MMAP_OFF_ENTRIES  16
#define MB2_MMAP_ENTRY_MIN    24 /* base_addr, length, type, reserved */
#define MB2_RSDP_V1_SIZE      20 /* ACPI 6.5 section 5.2.5.3 */
#define MB2_RSDP_V2_SIZE      36

struct mb2_state {
    unsigned modules_seen, modules_ignored;
    bool have_mmap, have_meminfo, have_rsdp_new, have_end;
    uint32_t mem_lower, mem_upper;
};

static void parse_string_tag(const uint8_t *tag, uint32_t size, char *dst, size_t dst_size,
                             const char *what, struct boot_info *bi)
{
    struct mb_bytes src = {.buf = tag + MB2_TAG_HEADER, .len = size - MB2_TAG_HEADER};
    mb_report_string(bi, PROTO, what, mb_copy_string(&src, dst, dst_size), dst_size);
}

static void parse_module_tag(const struct phys_reader *reader, const uint8_t *tag, uint32_t size,
                             struct mb2_state *st, struct boot_info *bi)
{
    unsigned index = st->modules_seen++;
    if (size < MB2_MODULE_OFF_STRING) {
        diag_add(&bi->diag, PROTO ": module tag %u is %u bytes (< 16); ignored", index, size);
        return;
    }
    struct mb_bytes src = {.buf = tag + MB2_MODULE_OFF_STRING, .len = size - MB2_MODULE_OFF_STRING};
    if (!mb_add_module(bi, reader, PROTO, index, le32(tag + MB2_MODULE_OFF_START),
                       le32(tag + MB2_MODULE_OFF_END), &src))
        st->modules_ignored++;
}

/* Checks entry_size (>= 24, else the tag is ignored) and entry_version
 * (reported if not 0, parsed as version 0); the entry count follows from the
 * tag size, whose remainder is reported. */
static void parse_mmap_tag(const uint8_t *tag, uint32_t size, struct mb2_state *st,
                           struct boot_info *bi)
{
    if (st->have_mmap) {
        diag_add(&bi->diag, PROTO ": second memory map tag ignored");
        return;
    }
    if (size < MB2_MMAP_OFF_ENTRIES) {
        diag_add(&bi->diag, PROTO ": memory map tag is %u bytes (< 16); ignored", size);
        return;
    }
    uint32_t entry_size = le32(tag + MB2_MMAP_OFF_ENTRY_SZ);
    uint32_t version = le32(tag + MB2_MMAP_OFF_VERSION);
    if (entry_size < MB2_MMAP_ENTRY_MIN) {
        diag_add(&bi->diag, PROTO ": memory map entry_size %u (< 24); map ignored", entry_size);
        return;
    }
    if (version != 0)
        diag_add(&bi->diag, PROTO ": memory map entry_version %u; read as version 0", version);
    uint32_t bytes = size - MB2_MMAP_OFF_ENTRIES;
    uint32_t count = bytes / entry_size;
    if (bytes % entry_size != 0)
        diag_add(&bi->diag, PROTO ": memory map tag ends in a partial entry; ignored");
    unsigned before = bi->memmap.count;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = tag + MB2_MMAP_OFF_ENTRIES + (size_t)i * entry_size;
        memmap_add_raw(&bi->memmap, le64(e), le64(e + 8), le32(e + 16), &bi->diag);
    }
    st->have_mmap = bi->memmap.count > before;
}

static void parse_meminfo_tag(const uint8_t *tag, uint32_t size, struct mb2_state *st,
                              struct boot_info *bi)
{
    if (size < MB2_MEMINFO_SIZE) {
        diag_add(&bi->diag, PROTO ": basic memory tag is %u bytes (< 16); ignored", size);
        return;
    }
    st->have_meminfo = true;
    st->mem_lower = le32(tag + 8);
    st->mem_upper = le32(tag + 12);
}

/* Copies the RSDP (3.6.15, 3.6.16). Checks only the size against the RSDP
 * revision's; acpi_parse() checks the contents. The new RSDP is preferred. */
static void parse_rsdp_tag(const uint8_t *tag, uint32_t size, bool is_new, struct mb2_state *st,
                           struct boot_info *bi)
{
    uint32_t len = size - MB2_TAG_HEADER;
    uint32_t need = is_new ? MB2_RSDP_V2_SIZE : MB2_RSDP_V1_SIZE;
    if (len < need) {
        diag_add(&bi->diag, PROTO ": ACPI %s RSDP tag holds %u bytes (< %u); ignored",
                 is_new ? "new" : "old", len, need);
        return;
    }
    if (st->have_rsdp_new)
        return;
    if (len > BOOT_RSDP_MAX)
        len = BOOT_RSDP_MAX;
    memcpy(bi->rsdp, tag + MB2_TAG_HEADER, len);
    bi->rsdp_length = len;
    st->have_rsdp_new = is_new;
}

static void parse_tag(const struct phys_reader *reader, const uint8_t *tag, uint32_t type,
                      uint32_t size, struct mb2_state *st, struct boot_info *bi)
{
    switch (type) {
    case MB2_TAG_CMDLINE:
        parse_string_tag(tag, size, bi->cmdline, sizeof(bi->cmdline), "command line", bi);
        break;
    case MB2_TAG_LOADER_NAME:
        parse_string_tag(tag, size, bi->loader_name, sizeof(bi->loader_name), "boot loader name",
                         bi);
        mb_make_printable(bi->loader_name);
        break;
    case MB2_TAG_MODULE:
        parse_module_tag(reader, tag, size, st, bi);
        break;
    case MB2_TAG_MEMINFO:
        parse_meminfo_tag(tag, size, st, bi);
        break;
    case MB2_TAG_MMAP:
        parse_mmap_tag(tag, size, st, bi);
        break;
    case MB2_TAG_ACPI_OLD:
    case MB2_TAG_ACPI_NEW:
        parse_rsdp_tag(tag, size, type == MB2_TAG_ACPI_NEW, st, bi);
        break;
    default: /* framebuffer, EFI, ELF sections, ...: not the core's business */
        break;
    }
}

/* Walks the tags of the info structure (info, size bytes). Checks each tag's
 * size: below the tag header or past the structure's end stops the walk. */
static void walk_tags(const struct phys_reader *reader, const uint8_t *info, uint32_t size,
                      struct mb2_state *st, struct boot_info *bi)
{
    uint32_t off = MB2_INFO_HEADER;
    while (size - off >= MB2_TAG_HEADER) {
        uint32_t type = le32(info + off), tag_size = le32(info + off + 4);
        if (tag_size < MB2_TAG_HEADER || tag_size > size - off) {
            diag_add(&bi->diag,
                     PROTO ": tag type %u at offset %u has size %u (%s); the rest is ignored", type,
                     off, tag_size, tag_size < MB2_TAG_HEADER ? "below 8" : "past the end");
            return;
        }
        if (type == MB2_TAG_END) {
            st->have_end = true;
            return;
        }
        parse_tag(reader, info + off, type, tag_size, st, bi);
        uint32_t step = (tag_size + MB2_TAG_ALIGN - 1) & ~(MB2_TAG_ALIGN - 1);
        if (step > size - off)
            break;
        off += step;
    }
    diag_add(&bi->diag, PROTO ": no end tag within total_size %u", size);
}

/* Checks total_size (below the header: nothing parsed; above MB2_INFO_MAX:
 * cut) and that the whole structure is readable, then walks the tags. */
void multiboot2_parse(uint64_t info_phys, const struct phys_reader *reader, struct boot_info *bi)
{
    bi->info_start = bi->info_end = info_phys;
    const uint8_t *hdr = phys_read(reader, info_phys, MB2_INFO_HEADER);
    if (hdr == NULL) {
        diag_add(&bi->diag, PROTO ": info structure at 0x%llx is not readable",
                 (unsigned long long)info_phys);
        return;
    }
    uint32_t size = le32(hdr);
    if (size < MB2_INFO_HEADER) {
        diag_add(&bi->diag, PROTO ": info total_size %u is below its 8-byte header; nothing parsed",
                 size);
        return;
    }
    if (size > MB2_INFO_MAX) {
        diag_add(&bi->diag, PROTO ": info total_size %u exceeds %u; only that much is read", size,
                 MB2_INFO_MAX);
        size = MB2_INFO_MAX;
    }
    bi->info_end = info_phys > UINT64_MAX - size ? UINT64_MAX : info_phys + size;
    const uint8_t *info = phys_read(reader, info_phys, size);
    if (info == NULL) {
        diag_add(&bi->diag, PROTO ": info structure at 0x%llx (%u bytes) is not readable",
                 (unsigned long long)info_phys, size);
        return;
    }
    struct mb2_state st = {0};
    walk_tags(reader, info, size, &st, bi);
    if (st.modules_ignored)
        diag_add(&bi->diag, PROTO ": %u modules; Keel keeps the first %u", st.modules_seen,
                 BOOT_MODULES_MAX);
    if (!st.have_mmap && st.have_meminfo)
        mb_add_basic_memory(bi, PROTO, st.mem_lower, st.mem_upper);
    else if (!st.have_mmap)
        diag_add(&bi->diag, PROTO ": no memory information");
}
