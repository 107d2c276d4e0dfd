/*
 * Multiboot 1 boot information (Multiboot Specification 0.6.96, section 3.3
 * "Boot information format"). The fixed structure is read only as far as the
 * flags that Keel uses require; every pointer in it is followed through the
 * phys_reader with the exact length it claims, after that length is bounded.
 */
#include "bootinfo_internal.h"
#include "kstring.h"
#include "le_bytes.h"

#define PROTO "multiboot"

/* Info flags and field offsets, section 3.3. */
#define MB1_FLAG_MEM         (1u << 0)
#define MB1_FLAG_CMDLINE     (1u << 2)
#define MB1_FLAG_MODS        (1u << 3)
#define MB1_FLAG_MMAP        (1u << 6)
#define MB1_FLAG_LOADER_NAME (1u << 9)

#define MB1_OFF_FLAGS       0
#define MB1_OFF_MEM_LOWER   4
#define MB1_OFF_MEM_UPPER   8
#define MB1_OFF_CMDLINE     16
#define MB1_OFF_MODS_COUNT  20
#define MB1_OFF_MODS_ADDR   24
#define MB1_OFF_MMAP_LENGTH 44
#define MB1_OFF_MMAP_ADDR   48
#define MB1_OFF_LOADER_NAME 64
/* The whole structure, through the framebuffer fields (flag 12) of later
 * revisions: what the core reserves as info_start..info_end. */
#define MB1_INFO_SIZE 116u

/* Module list entry: mod_start, mod_end, string, reserved (section 3.3). */
#define MB1_MOD_SIZE       16u
#define MB1_MOD_OFF_START  0
#define MB1_MOD_OFF_END    4
#define MB1_MOD_OFF_STRING 8

/* Memory map entry: size (not counting itself), base_addr, length, type. */
#define MB1_MMAP_OFF_BASE   4
#define MB1_MMAP_OFF_LENGTH 12
#define MB1_MMAP_OFF_TYPE   20
#define MB1_MMAP_ENTRY_MIN  20u    /* size of base_addr + length + type */
#define MB1_MMAP_MAX_BYTES  65536u /* Keel's bound: 2,730 entries of 24 bytes */

/* Bytes of the fixed structure that must be readable for these flags. */
static uint32_t needed_size(uint32_t flags)
{
    if (flags & MB1_FLAG_LOADER_NAME)
        return MB1_OFF_LOADER_NAME + 4;
    if (flags & MB1_FLAG_MMAP)
        return MB1_OFF_MMAP_ADDR + 4;
    if (flags & MB1_FLAG_MODS)
        return MB1_OFF_MODS_ADDR + 4;
    if (flags & MB1_FLAG_CMDLINE)
        return MB1_OFF_CMDLINE + 4;
    return MB1_OFF_MEM_UPPER + 4;
}

static void parse_string(const struct phys_reader *reader, uint32_t phys, char *dst, size_t size,
                         const char *what, struct boot_info *bi)
{
    struct mb_bytes src = {.reader = reader, .phys = phys};
    mb_report_string(bi, PROTO, what, mb_copy_string(&src, dst, size), size);
}

/* Checks mods_count against BOOT_MODULES_MAX before reading the list, and the
 * list itself through the reader. */
static void parse_modules(const struct phys_reader *reader, uint32_t count, uint32_t addr,
                          struct boot_info *bi)
{
    if (count > BOOT_MODULES_MAX) {
        diag_add(&bi->diag, PROTO ": %u modules; Keel keeps the first %u", count, BOOT_MODULES_MAX);
        count = BOOT_MODULES_MAX;
    }
    if (count == 0)
        return;
    const uint8_t *list = phys_read(reader, addr, (size_t)count * MB1_MOD_SIZE);
    if (list == NULL) {
        diag_add(&bi->diag, PROTO ": module list at 0x%x (%u entries) is not readable; no modules",
                 addr, count);
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *m = list + i * MB1_MOD_SIZE;
        uint32_t string = le32(m + MB1_MOD_OFF_STRING);
        struct mb_bytes src = {.reader = reader, .phys = string};
        mb_add_module(bi, reader, PROTO, i, le32(m + MB1_MOD_OFF_START), le32(m + MB1_MOD_OFF_END),
                      string != 0 ? &src : NULL);
    }
}

/* Walks the size-prefixed entries. Checks: the map's length (0, or above
 * MB1_MMAP_MAX_BYTES: cut), readability, each size field (< 20 or past the
 * end stops the walk). Returns the number of entries the memmap accepted. */
static unsigned parse_mmap(const struct phys_reader *reader, uint32_t length, uint32_t addr,
                           struct boot_info *bi)
{
    if (length == 0) {
        diag_add(&bi->diag, PROTO ": memory map is empty");
        return 0;
    }
    if (length > MB1_MMAP_MAX_BYTES) {
        diag_add(&bi->diag, PROTO ": memory map is %u bytes; only the first %u are used", length,
                 MB1_MMAP_MAX_BYTES);
        length = MB1_MMAP_MAX_BYTES;
    }
    const uint8_t *map = phys_read(reader, addr, length);
    if (map == NULL) {
        diag_add(&bi->diag, PROTO ": memory map at 0x%x (%u bytes) is not readable", addr, length);
        return 0;
    }
    unsigned n = 0, before = bi->memmap.count;
    uint32_t off = 0;
    while (length - off >= 4) {
        uint32_t size = le32(map + off);
        if (size < MB1_MMAP_ENTRY_MIN || size > length - off - 4) {
            diag_add(&bi->diag, PROTO ": memory map entry %u has size %u (%s); the rest is ignored",
                     n, size, size < MB1_MMAP_ENTRY_MIN ? "below 20" : "past the map's end");
            return bi->memmap.count - before;
        }
        const uint8_t *e = map + off;
        memmap_add_raw(&bi->memmap, le64(e + MB1_MMAP_OFF_BASE), le64(e + MB1_MMAP_OFF_LENGTH),
                       le32(e + MB1_MMAP_OFF_TYPE), &bi->diag);
        n++;
        off += 4 + size;
    }
    if (off != length)
        diag_add(&bi->diag, PROTO ": %u stray bytes after the memory map's last entry ignored",
                 length - off);
    return bi->memmap.count - before;
}

/* Reads the flags, then the fixed part those flags need; each field is used
 * only when its flag is set. */
void multiboot1_parse(uint64_t info_phys, const struct phys_reader *reader, struct boot_info *bi)
{
    bi->info_start = info_phys;
    bi->info_end = info_phys > UINT64_MAX - MB1_INFO_SIZE ? UINT64_MAX : info_phys + MB1_INFO_SIZE;
    const uint8_t *p = phys_read(reader, info_phys, 4);
    uint32_t flags = p != NULL ? le32(p + MB1_OFF_FLAGS) : 0;
    uint32_t need = needed_size(flags);
    if (p != NULL)
        p = phys_read(reader, info_phys, need);
    if (p == NULL) {
        diag_add(&bi->diag, PROTO ": info structure at 0x%llx (%u bytes) is not readable",
                 (unsigned long long)info_phys, need);
        return;
    }
    if (flags & MB1_FLAG_CMDLINE)
        parse_string(reader, le32(p + MB1_OFF_CMDLINE), bi->cmdline, sizeof(bi->cmdline),
                     "command line", bi);
    if (flags & MB1_FLAG_LOADER_NAME) {
        parse_string(reader, le32(p + MB1_OFF_LOADER_NAME), bi->loader_name,
                     sizeof(bi->loader_name), "boot loader name", bi);
        mb_make_printable(bi->loader_name);
    }
    if (flags & MB1_FLAG_MODS)
        parse_modules(reader, le32(p + MB1_OFF_MODS_COUNT), le32(p + MB1_OFF_MODS_ADDR), bi);

    unsigned entries = 0;
    if (flags & MB1_FLAG_MMAP)
        entries =
            parse_mmap(reader, le32(p + MB1_OFF_MMAP_LENGTH), le32(p + MB1_OFF_MMAP_ADDR), bi);
    if (entries == 0 && (flags & MB1_FLAG_MEM)) {
        if (flags & MB1_FLAG_MMAP)
            diag_add(&bi->diag, PROTO ": no usable memory map; using mem_lower/mem_upper");
        mb_add_basic_memory(bi, PROTO, le32(p + MB1_OFF_MEM_LOWER), le32(p + MB1_OFF_MEM_UPPER));
    } else if (entries == 0) {
        diag_add(&bi->diag, PROTO ": no memory information (flags 0x%x)", flags);
    }
}
