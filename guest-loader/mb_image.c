/*
 * Multiboot1 image loading (multiboot.h): the header search (spec 3.1.1,
 * 3.1.2), the a.out address fields (3.1.3) and ELF32/ELF64 program headers
 * (3.1.4; ELF layout from the System V ABI, "Program Header"). Everything in
 * the image is untrusted.
 */
#include <stdarg.h>

#include "fmt.h"
#include "kstring.h"
#include "le_bytes.h"
#include "multiboot.h"

#define MB_HEADER_MIN     12u /* magic, flags, checksum */
#define MB_HEADER_ADDRESS 32u /* ... and the five address fields */
#define FOUR_GIB          0x100000000ull

#define ELF_CLASS_32  1
#define ELF_CLASS_64  2
#define ELF_DATA_LSB  1
#define ELF_ET_EXEC   2
#define ELF_EM_386    3
#define ELF_EM_X86_64 62
#define ELF_PT_LOAD   1
#define ELF_PN_XNUM   0xffffu
#define ELF32_EHDR    52u
#define ELF64_EHDR    64u
#define ELF32_PHDR    32u
#define ELF64_PHDR    56u

/* One program header, whichever the class. */
struct phdr {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
};

bool mb_fail(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(why, MB_ERROR_MAX, fmt, ap);
    va_end(ap);
    return false;
}

bool mb_find_header(const uint8_t *image, uint64_t size, struct mb_header *hdr, char *why)
{
    uint64_t limit = size < MB_SEARCH_BYTES ? size : MB_SEARCH_BYTES;
    memset(hdr, 0, sizeof(*hdr));
    for (uint64_t off = 0; off + MB_HEADER_MIN <= limit; off += 4) {
        const uint8_t *p = image + off;
        uint32_t flags = le32(p + 4);
        if (le32(p) != MB_HEADER_MAGIC || (uint32_t)(le32(p) + flags + le32(p + 8)) != 0)
            continue;
        hdr->offset = (uint32_t)off;
        hdr->flags = flags;
        uint32_t unknown = flags & MB_FLAGS_REQUIRED & ~MB_FLAGS_UNDERSTOOD;
        if (unknown)
            return mb_fail(
                why, "multiboot header at offset %llu requires features 0x%x this loader lacks",
                (unsigned long long)off, unknown);
        if (!(flags & MB_FLAG_ADDRESS))
            return true;
        if (size - off < MB_HEADER_ADDRESS)
            return mb_fail(
                why,
                "multiboot header at offset %llu: address fields cut off by the end of the image",
                (unsigned long long)off);
        hdr->header_addr = le32(p + 12);
        hdr->load_addr = le32(p + 16);
        hdr->load_end_addr = le32(p + 20);
        hdr->bss_end_addr = le32(p + 24);
        hdr->entry_addr = le32(p + 28);
        return true;
    }
    return mb_fail(why,
                   "no multiboot header (magic 0x%x with a valid checksum) in the first %u bytes",
                   MB_HEADER_MAGIC, MB_SEARCH_BYTES);
}

/* Copies filesz bytes of src to guest [gpa, gpa + memsz) and zeroes the rest,
 * after checking the range is RAM below 4 GiB and clear of the legacy hole. */
static bool place(struct guest_ram *ram, uint64_t gpa, const uint8_t *src, uint64_t filesz,
                  uint64_t memsz, char *why)
{
    if (filesz > memsz)
        return mb_fail(why, "segment at 0x%llx: file size 0x%llx exceeds its memory size 0x%llx",
                       (unsigned long long)gpa, (unsigned long long)filesz,
                       (unsigned long long)memsz);
    if (gpa >= FOUR_GIB || memsz > FOUR_GIB - gpa || !guest_ram_contains(ram, gpa, memsz))
        return mb_fail(
            why, "segment [0x%llx, +0x%llx) lies outside the guest's 0x%llx bytes of RAM",
            (unsigned long long)gpa, (unsigned long long)memsz, (unsigned long long)ram->size);
    if (memsz && gpa < MB_HIGH_RAM && gpa + memsz > MB_LOW_RAM_END)
        return mb_fail(why, "segment [0x%llx, +0x%llx) overlaps the reserved range 0xa0000-0xfffff",
                       (unsigned long long)gpa, (unsigned long long)memsz);
    memcpy(ram->base + gpa, src, filesz);
    memset(ram->base + gpa + filesz, 0, memsz - filesz);
    return true;
}

static void note_range(struct mb_boot *boot, uint64_t start, uint64_t end, bool *first)
{
    if (*first || start < boot->image_start)
        boot->image_start = start;
    if (*first || end > boot->image_end)
        boot->image_end = end;
    *first = false;
}

/* 3.1.3: the address fields say where the file goes, whatever its format. */
static bool load_by_address(struct guest_ram *ram, const uint8_t *image, uint64_t size,
                            const struct mb_header *h, struct mb_boot *boot, char *why)
{
    if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > h->offset)
        return mb_fail(why,
                       "header_addr 0x%x and load_addr 0x%x put the load before the file's start",
                       h->header_addr, h->load_addr);
    uint64_t file_off = h->offset - (h->header_addr - h->load_addr);
    uint64_t load_size = size - file_off;
    if (h->load_end_addr) {
        if (h->load_end_addr < h->load_addr || h->load_end_addr - h->load_addr > load_size)
            return mb_fail(why, "load_end_addr 0x%x: before load_addr or past the end of the file",
                           h->load_end_addr);
        load_size = h->load_end_addr - h->load_addr;
    }
    uint64_t load_end = h->load_addr + load_size;
    uint64_t bss_end = h->bss_end_addr ? h->bss_end_addr : load_end;
    if (bss_end < load_end)
        return mb_fail(why, "bss_end_addr 0x%x lies before the end of the loaded text 0x%llx",
                       h->bss_end_addr, (unsigned long long)load_end);
    if (!place(ram, h->load_addr, image + file_off, load_size, bss_end - h->load_addr, why))
        return false;
    bool first = true;
    note_range(boot, h->load_addr, bss_end, &first);
    boot->entry = h->entry_addr;
    boot->elf = false;
    return true;
}

static void read_phdr(const uint8_t *p, unsigned elf_class, struct phdr *ph)
{
    ph->type = le32(p);
    if (elf_class == 32) {
        ph->offset = le32(p + 4);
        ph->vaddr = le32(p + 8);
        ph->paddr = le32(p + 12);
        ph->filesz = le32(p + 16);
        ph->memsz = le32(p + 20);
    } else {
        ph->offset = le64(p + 8);
        ph->vaddr = le64(p + 16);
        ph->paddr = le64(p + 24);
        ph->filesz = le64(p + 32);
        ph->memsz = le64(p + 40);
    }
}

/* The ELF header's fields that matter here. */
struct elf_info {
    unsigned elf_class; /* 32 or 64 */
    uint64_t entry, phoff;
    unsigned phentsize, phnum;
};

static bool read_ehdr(const uint8_t *image, uint64_t size, struct elf_info *e, char *why)
{
    static const uint8_t elf_magic[4] = {0x7f, 'E', 'L', 'F'};
    if (size < ELF32_EHDR || memcmp(image, elf_magic, sizeof(elf_magic)) != 0)
        return mb_fail(why, "not an ELF file and no address fields in its multiboot header "
                            "(flag 16)");
    bool is64 = image[4] == ELF_CLASS_64;
    if ((image[4] != ELF_CLASS_32 && !is64) || image[5] != ELF_DATA_LSB)
        return mb_fail(why, "ELF class %u / data %u: only little-endian ELF32 and ELF64", image[4],
                       image[5]);
    if (is64 && size < ELF64_EHDR)
        return mb_fail(why, "ELF64 header cut off (%llu bytes)", (unsigned long long)size);
    unsigned machine = le16(image + 18);
    if (le16(image + 16) != ELF_ET_EXEC || machine != (is64 ? ELF_EM_X86_64 : ELF_EM_386))
        return mb_fail(why, "ELF type %u machine %u: expected an executable for %s",
                       le16(image + 16), machine, is64 ? "x86-64" : "i386");
    e->elf_class = is64 ? 64 : 32;
    e->entry = is64 ? le64(image + 24) : le32(image + 24);
    e->phoff = is64 ? le64(image + 32) : le32(image + 28);
    e->phentsize = le16(image + (is64 ? 54 : 42));
    e->phnum = le16(image + (is64 ? 56 : 44));
    unsigned min_entsize = is64 ? ELF64_PHDR : ELF32_PHDR;
    if (e->phnum == 0 || e->phnum == ELF_PN_XNUM || e->phentsize < min_entsize)
        return mb_fail(why, "ELF program headers: %u of %u bytes each", e->phnum, e->phentsize);
    if (e->phoff > size || (uint64_t)e->phnum * e->phentsize > size - e->phoff)
        return mb_fail(why, "ELF program headers at 0x%llx run past the end of the file",
                       (unsigned long long)e->phoff);
    return true;
}

/* 3.1.4: each PT_LOAD at its physical address; the entry point translated
 * from virtual to physical through the segment that holds it (as GRUB does
 * for kernels linked high but loaded low). */
static bool load_elf(struct guest_ram *ram, const uint8_t *image, uint64_t size,
                     struct mb_boot *boot, char *why)
{
    struct elf_info e = {0};
    unsigned loads = 0;
    if (!read_ehdr(image, size, &e, why))
        return false;
    uint64_t phys_entry = e.entry;
    bool first = true;
    for (unsigned i = 0; i < e.phnum; i++) {
        struct phdr ph;
        read_phdr(image + e.phoff + (uint64_t)i * e.phentsize, e.elf_class, &ph);
        if (ph.type != ELF_PT_LOAD || ph.memsz == 0)
            continue;
        if (++loads > MB_MAX_SEGMENTS)
            return mb_fail(why, "more than %u loadable ELF segments", MB_MAX_SEGMENTS);
        if (ph.offset > size || ph.filesz > size - ph.offset)
            return mb_fail(why,
                           "ELF segment %u: file bytes [0x%llx, +0x%llx) past the end of the file",
                           i, (unsigned long long)ph.offset, (unsigned long long)ph.filesz);
        if (!place(ram, ph.paddr, image + ph.offset, ph.filesz, ph.memsz, why))
            return false;
        note_range(boot, ph.paddr, ph.paddr + ph.memsz, &first);
        if (e.entry >= ph.vaddr && e.entry - ph.vaddr < ph.memsz)
            phys_entry = e.entry - ph.vaddr + ph.paddr;
    }
    if (loads == 0)
        return mb_fail(why, "ELF file without a loadable segment");
    if (phys_entry >= FOUR_GIB)
        return mb_fail(why, "ELF entry point 0x%llx is not a 32-bit physical address",
                       (unsigned long long)phys_entry);
    boot->entry = (uint32_t)phys_entry;
    boot->elf = true;
    boot->elf_class = e.elf_class;
    return true;
}

bool mb_load_image(struct guest_ram *ram, const uint8_t *image, uint64_t size,
                   const struct mb_header *hdr, struct mb_boot *boot, char *why)
{
    boot->header_flags = hdr->flags;
    if (hdr->flags & MB_FLAG_VIDEO_MODE)
        fmt_snprintf(boot->note, sizeof(boot->note),
                     "the image asks for a video mode (flag 2): there is no display, none given");
    bool ok = (hdr->flags & MB_FLAG_ADDRESS) ? load_by_address(ram, image, size, hdr, boot, why)
                                             : load_elf(ram, image, size, boot, why);
    if (!ok)
        return false;
    if (!guest_ram_contains(ram, boot->entry, 1))
        return mb_fail(why, "entry point 0x%x is outside the guest's RAM", boot->entry);
    return true;
}
