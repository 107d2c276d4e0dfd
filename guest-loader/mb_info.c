/*
 * Boot modules and the multiboot information structure (spec 3.3, "Boot
 * information format"): placed after the image in guest RAM (multiboot.h
 * shows the layout). Module contents and names are untrusted; every write
 * is bounds-checked against the guest's RAM and the info page.
 */
#include <stdarg.h>

#include "fmt.h"
#include "kstring.h"
#include "multiboot.h"

/* Offsets in the multiboot information structure (3.3). */
#define MBI_FLAGS       0
#define MBI_MEM_LOWER   4
#define MBI_MEM_UPPER   8
#define MBI_CMDLINE     16
#define MBI_MODS_COUNT  20
#define MBI_MODS_ADDR   24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR   48
#define MBI_LOADER_NAME 64
#define MBI_SIZE        128 /* 0.6.96 uses 88 bytes; the rest (later framebuffer fields) stays 0 */

#define MOD_ENTRY_SIZE  16 /* mod_start, mod_end, string, reserved */
#define MMAP_ENTRY_SIZE 24 /* size, base_addr (64), length (64), type */
#define MMAP_SIZE_FIELD 20 /* an entry's size field excludes itself */
#define MB_STRING_MAX   256
#define KIB             1024u

/* A bump allocator over the info page. */
struct info_area {
    uint8_t *host; /* the page in the VMM's view of guest RAM */
    uint32_t gpa;
    uint32_t used;
};

static void put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t page_up(uint64_t a)
{
    return (a + MB_PAGE_SIZE - 1) & ~(uint64_t)(MB_PAGE_SIZE - 1);
}

/* The page-aligned guest address at or after cursor where size bytes fit
 * clear of the legacy hole, or false when RAM ends first. */
static bool find_room(const struct guest_ram *ram, uint64_t cursor, uint64_t size, uint64_t *at)
{
    uint64_t a = page_up(cursor);
    if (a == 0)
        a = MB_PAGE_SIZE; /* guest address 0 stays free: 0 means "none" in the info */
    if (a < MB_HIGH_RAM && a + size > MB_LOW_RAM_END)
        a = MB_HIGH_RAM;
    if (a > UINT32_MAX || !guest_ram_contains(ram, a, size) || a + size > UINT32_MAX)
        return false;
    *at = a;
    return true;
}

/* Room for len bytes in the info page, 4-aligned -> its guest address, or 0. */
static uint32_t info_alloc(struct info_area *a, uint32_t len, uint8_t **host)
{
    uint32_t start = (a->used + 3u) & ~3u;
    if (start > MB_INFO_AREA || len > MB_INFO_AREA - start)
        return 0;
    a->used = start + len;
    *host = a->host + start;
    return a->gpa + start;
}

/* A NUL-terminated copy of s (cut to MB_STRING_MAX - 1) -> its guest address, or 0. */
static uint32_t info_string(struct info_area *a, const char *s)
{
    uint32_t len = (uint32_t)strnlen(s, MB_STRING_MAX - 1);
    uint8_t *p;
    uint32_t gpa = info_alloc(a, len + 1, &p);
    if (gpa) {
        memcpy(p, s, len);
        p[len] = 0;
    }
    return gpa;
}

static uint8_t *mmap_entry(uint8_t *p, uint64_t base, uint64_t length, uint32_t type)
{
    put32(p, MMAP_SIZE_FIELD);
    put64(p + 4, base);
    put64(p + 12, length);
    put32(p + 20, type);
    return p + MMAP_ENTRY_SIZE;
}

/* mem_lower, mem_upper and the memory map (3.3: mmap_* describe the RAM the
 * OS may use; the hole below 1 MiB is reserved, as on a PC). */
static bool write_memory(struct info_area *a, uint8_t *mbi, uint64_t ram_size)
{
    uint64_t low = ram_size < MB_LOW_RAM_END ? ram_size : MB_LOW_RAM_END;
    uint64_t high = ram_size > MB_HIGH_RAM ? ram_size - MB_HIGH_RAM : 0;
    uint32_t count = 2 + (high ? 1 : 0);
    uint8_t *p;
    uint32_t gpa = info_alloc(a, count * MMAP_ENTRY_SIZE, &p);
    if (!gpa)
        return false;
    p = mmap_entry(p, 0, low, MB_MEMORY_AVAILABLE);
    p = mmap_entry(p, MB_LOW_RAM_END, MB_HIGH_RAM - MB_LOW_RAM_END, MB_MEMORY_RESERVED);
    if (high)
        mmap_entry(p, MB_HIGH_RAM, high, MB_MEMORY_AVAILABLE);
    put32(mbi + MBI_MEM_LOWER, (uint32_t)(low / KIB));
    put32(mbi + MBI_MEM_UPPER, (uint32_t)(high / KIB));
    put32(mbi + MBI_MMAP_LENGTH, count * MMAP_ENTRY_SIZE);
    put32(mbi + MBI_MMAP_ADDR, gpa);
    return true;
}

/* Copies the modules after the image (always page-aligned, which satisfies
 * header flag 0) and records where each went in mods (start, end). */
static bool copy_modules(struct guest_ram *ram, const struct mb_module *mods, unsigned count,
                         uint64_t (*where)[2], struct mb_boot *boot, char *why)
{
    uint64_t cursor = boot->image_end;
    for (unsigned i = 0; i < count; i++) {
        uint64_t at;
        if (!find_room(ram, cursor, mods[i].size, &at))
            return mb_fail(why,
                           "module %u ('%.32s', %llu bytes) does not fit in the guest's RAM "
                           "after 0x%llx",
                           i, mods[i].name, (unsigned long long)mods[i].size,
                           (unsigned long long)cursor);
        if (mods[i].size)
            memcpy(ram->base + at, mods[i].data, mods[i].size);
        where[i][0] = at;
        where[i][1] = at + mods[i].size;
        cursor = at + mods[i].size;
    }
    boot->modules_end = cursor;
    return true;
}

bool mb_place_modules_and_info(struct guest_ram *ram, const char *cmdline,
                               const struct mb_module *mods, unsigned mod_count,
                               struct mb_boot *boot, char *why)
{
    uint64_t where[MB_MAX_MODULES][2];
    if (mod_count > MB_MAX_MODULES)
        return mb_fail(why, "%u modules: at most %u", mod_count, MB_MAX_MODULES);
    if (!copy_modules(ram, mods, mod_count, where, boot, why))
        return false;
    uint64_t info_gpa;
    if (!find_room(ram, boot->modules_end, MB_INFO_AREA, &info_gpa))
        return mb_fail(why, "no room for the boot information after 0x%llx",
                       (unsigned long long)boot->modules_end);
    struct info_area a = {ram->base + info_gpa, (uint32_t)info_gpa, 0};
    memset(a.host, 0, MB_INFO_AREA);
    uint8_t *mbi, *list;
    info_alloc(&a, MBI_SIZE, &mbi);
    uint32_t flags =
        MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP | MB_INFO_LOADER_NAME;
    uint32_t list_gpa = mod_count ? info_alloc(&a, mod_count * MOD_ENTRY_SIZE, &list) : 0;
    uint32_t cmd = info_string(&a, cmdline);
    uint32_t loader = info_string(&a, MB_LOADER_NAME);
    bool ok = cmd && loader && (list_gpa || !mod_count) && write_memory(&a, mbi, ram->size);
    for (unsigned i = 0; ok && i < mod_count; i++) {
        uint32_t name = info_string(&a, mods[i].name);
        uint8_t *e = list + i * MOD_ENTRY_SIZE;
        put32(e, (uint32_t)where[i][0]);
        put32(e + 4, (uint32_t)where[i][1]); /* one past the end, as GRUB does */
        put32(e + 8, name);
        ok = name != 0;
    }
    if (!ok)
        return mb_fail(why, "the boot information does not fit in one page");
    put32(mbi + MBI_FLAGS, flags);
    put32(mbi + MBI_CMDLINE, cmd);
    put32(mbi + MBI_MODS_COUNT, mod_count);
    put32(mbi + MBI_MODS_ADDR, list_gpa);
    put32(mbi + MBI_LOADER_NAME, loader);
    boot->info = (uint32_t)info_gpa;
    return true;
}

bool mb_load(struct guest_ram *ram, const uint8_t *image, uint64_t size, const char *cmdline,
             const struct mb_module *mods, unsigned mod_count, struct mb_boot *boot, char *why)
{
    struct mb_header hdr;
    memset(boot, 0, sizeof(*boot));
    return mb_find_header(image, size, &hdr, why) &&
           mb_load_image(ram, image, size, &hdr, boot, why) &&
           mb_place_modules_and_info(ram, cmdline, mods, mod_count, boot, why);
}
