/*
 * Boot information front end (see bootinfo.h): picks the multiboot parser by
 * magic, and holds what both parsers share: bounded string reads, module
 * naming and checks, and the mem_lower/mem_upper fallback.
 */
#include "bootinfo_internal.h"
#include "fmt.h"
#include "kstring.h"

/* Multiboot 0.6.96 section 3.3: mem_lower counts KiB from 0 and is at most
 * 640; mem_upper counts KiB from 1 MiB. Multiboot2 basic meminfo (3.6.8)
 * carries the same two fields. */
#define MB_LOWER_MAX_KIB 640u
#define MB_UPPER_BASE    0x100000ull

enum { MB_BYTE_END = -1, MB_BYTE_UNREADABLE = -2 };

/* Byte i of src (0..255), MB_BYTE_END past its end, or MB_BYTE_UNREADABLE. */
static int mb_byte(const struct mb_bytes *src, size_t i)
{
    if (src->reader == NULL)
        return i < src->len ? src->buf[i] : MB_BYTE_END;
    if (i >= MB_STRING_SCAN_MAX)
        return MB_BYTE_END;
    const uint8_t *p = phys_read(src->reader, src->phys + i, 1);
    return p != NULL ? *p : MB_BYTE_UNREADABLE;
}

static enum mb_string_status status_of_end(int c)
{
    return c == MB_BYTE_END ? MB_STRING_UNTERMINATED : MB_STRING_UNREADABLE;
}

/* Copies a NUL-terminated string of at most size-1 bytes; dst is always
 * terminated, and empty when the string is unreadable. The loop is bounded by
 * src's length (or MB_STRING_SCAN_MAX) and by size. */
enum mb_string_status mb_copy_string(const struct mb_bytes *src, char *dst, size_t size)
{
    size_t n = 0;
    for (size_t i = 0;; i++) {
        int c = mb_byte(src, i);
        if (c == 0 || n + 1 >= size) {
            dst[n] = '\0';
            return c == 0 ? MB_STRING_OK : MB_STRING_TOO_LONG;
        }
        if (c < 0) {
            dst[c == MB_BYTE_UNREADABLE ? 0 : n] = '\0';
            return status_of_end(c);
        }
        dst[n++] = (char)c;
    }
}

void mb_report_string(struct boot_info *bi, const char *proto, const char *what,
                      enum mb_string_status st, size_t size)
{
    if (st == MB_STRING_TOO_LONG)
        diag_add(&bi->diag, "%s: %s is longer than %zu bytes; truncated", proto, what, size - 1);
    else if (st == MB_STRING_UNTERMINATED)
        diag_add(&bi->diag, "%s: %s has no terminating NUL; cut where it ends", proto, what);
    else if (st == MB_STRING_UNREADABLE)
        diag_add(&bi->diag, "%s: %s is not readable; ignored", proto, what);
}

void mb_make_printable(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < ' ' || (unsigned char)*s >= 0x7f)
            *s = '?';
    }
}

/* The last word of a module's command line (words are runs of visible ASCII),
 * cut to BOOT_MODULE_NAME_MAX - 1 characters (reported as TOO_LONG). */
static enum mb_string_status module_name(const struct mb_bytes *src, char *name)
{
    char cur[BOOT_MODULE_NAME_MAX];
    size_t len = 0;
    bool cut = false, name_cut = false;
    name[0] = '\0';
    for (size_t i = 0;; i++) {
        int c = mb_byte(src, i);
        bool separator = c <= ' ' || c >= 0x7f;
        if (separator && len > 0) {
            memcpy(name, cur, len);
            name[len] = '\0';
            name_cut = cut;
            len = 0;
            cut = false;
        }
        if (c <= 0) {
            if (c == 0)
                return name_cut ? MB_STRING_TOO_LONG : MB_STRING_OK;
            return status_of_end(c);
        }
        if (!separator && len + 1 < BOOT_MODULE_NAME_MAX)
            cur[len++] = (char)c;
        else if (!separator)
            cut = true;
    }
}

static void name_module(struct boot_info *bi, const char *proto, unsigned index,
                        const struct mb_bytes *src, char *name)
{
    name[0] = '\0';
    if (src != NULL) {
        enum mb_string_status st = module_name(src, name);
        if (st == MB_STRING_UNREADABLE)
            name[0] = '\0';
        if (st != MB_STRING_OK) {
            char what[48];
            fmt_snprintf(what, sizeof(what), "module %u's command line", index);
            mb_report_string(bi, proto, what, st, BOOT_MODULE_NAME_MAX);
        }
    }
    if (name[0] == '\0')
        fmt_snprintf(name, BOOT_MODULE_NAME_MAX, "module%u", index);
    for (unsigned i = 0; i < bi->module_count; i++) {
        if (strcmp(bi->modules[i].name, name) == 0) {
            diag_add(&bi->diag, "%s: modules %u and %u are both named '%s'; lookups find the first",
                     proto, i, index, name);
            break;
        }
    }
}

bool mb_add_module(struct boot_info *bi, const struct phys_reader *reader, const char *proto,
                   unsigned index, uint64_t start, uint64_t end, const struct mb_bytes *src)
{
    if (bi->module_count >= BOOT_MODULES_MAX)
        return false;
    struct boot_module *mod = &bi->modules[bi->module_count];
    name_module(bi, proto, index, src, mod->name);
    if (end < start) {
        diag_add(&bi->diag, "%s: module %u ('%s') ends at 0x%llx, before its start 0x%llx; dropped",
                 proto, index, mod->name, (unsigned long long)end, (unsigned long long)start);
        return true;
    }
    if (end == start) {
        diag_add(&bi->diag, "%s: module %u ('%s') is empty (0 bytes)", proto, index, mod->name);
    } else if (phys_read(reader, start, end - start) == NULL) {
        diag_add(&bi->diag, "%s: module %u ('%s') at 0x%llx-0x%llx is unreadable; dropped", proto,
                 index, mod->name, (unsigned long long)start, (unsigned long long)end);
        return true;
    }
    mod->start = start;
    mod->end = end;
    bi->module_count++;
    return true;
}

void mb_add_basic_memory(struct boot_info *bi, const char *proto, uint32_t lower_kib,
                         uint32_t upper_kib)
{
    if (lower_kib > MB_LOWER_MAX_KIB) {
        diag_add(&bi->diag, "%s: mem_lower is %u KiB (more than %u); taken as %u", proto, lower_kib,
                 MB_LOWER_MAX_KIB, MB_LOWER_MAX_KIB);
        lower_kib = MB_LOWER_MAX_KIB;
    }
    if (lower_kib > 0)
        memmap_add_raw(&bi->memmap, 0, (uint64_t)lower_kib * 1024, MEMMAP_USABLE, &bi->diag);
    if (upper_kib > 0)
        memmap_add_raw(&bi->memmap, MB_UPPER_BASE, (uint64_t)upper_kib * 1024, MEMMAP_USABLE,
                       &bi->diag);
}

/* Checks the magic; everything else is checked by the protocol's parser. */
int bootinfo_parse(uint32_t magic, uint64_t info_phys, const struct phys_reader *reader,
                   struct boot_info *out)
{
    memset(out, 0, sizeof(*out));
    memmap_init(&out->memmap);
    if (magic == MULTIBOOT1_BOOT_MAGIC) {
        out->protocol = 1;
        multiboot1_parse(info_phys, reader, out);
        return 0;
    }
    if (magic == MULTIBOOT2_BOOT_MAGIC) {
        out->protocol = 2;
        multiboot2_parse(info_phys, reader, out);
        return 0;
    }
    diag_add(&out->diag, "boot: unknown boot loader magic 0x%08x; no boot information", magic);
    return -1;
}

const struct boot_module *bootinfo_find_module(const struct boot_info *bi, const char *name)
{
    if (bi == NULL || name == NULL)
        return NULL;
    for (unsigned i = 0; i < bi->module_count && i < BOOT_MODULES_MAX; i++) {
        if (strncmp(bi->modules[i].name, name, BOOT_MODULE_NAME_MAX) == 0)
            return &bi->modules[i];
    }
    return NULL;
}
