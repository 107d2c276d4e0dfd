/* ELF64 image validation (see elf_check.h). Offsets and constants from the
 * ELF-64 Object File Format 1.5, tables 2-5. */
#include "elf_check.h"
#include "kstring.h"

#define EI_CLASS    4
#define EI_DATA     5
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define ET_EXEC     2
#define EM_X86_64   62
#define PT_LOAD     1
#define PF_X        1u
#define PF_W        2u
#define EHDR_SIZE   64
#define PHDR_SIZE   56
#define PAGE        0x1000ull

struct ehdr_fields {
    uint16_t type, machine, phentsize, phnum;
    uint64_t entry, phoff;
};

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static const char *check_header(const uint8_t *img, size_t size, struct ehdr_fields *h)
{
    if (size < EHDR_SIZE || memcmp(img,
                                   "\x7f"
                                   "ELF",
                                   4) != 0)
        return "not an ELF file";
    if (img[EI_CLASS] != ELFCLASS64 || img[EI_DATA] != ELFDATA2LSB)
        return "not a 64-bit little-endian ELF file";
    h->type = get16(img + 16);
    h->machine = get16(img + 18);
    h->entry = get64(img + 24);
    h->phoff = get64(img + 32);
    h->phentsize = get16(img + 54);
    h->phnum = get16(img + 56);
    if (h->type != ET_EXEC)
        return "not an executable (ET_EXEC) ELF file: link it statically, not as PIE";
    if (h->machine != EM_X86_64)
        return "not an x86-64 ELF file";
    if (h->phentsize != PHDR_SIZE || h->phnum == 0)
        return "bad program header size or no program headers";
    if (h->phoff > size || (uint64_t)h->phnum * PHDR_SIZE > size - h->phoff)
        return "program headers lie outside the file";
    return 0;
}

static const char *add_segment(const uint8_t *ph, size_t size, uint64_t user_min, uint64_t user_max,
                               struct elf_image *out)
{
    uint32_t flags = get32(ph + 4);
    uint64_t offset = get64(ph + 8), vaddr = get64(ph + 16);
    uint64_t filesz = get64(ph + 32), memsz = get64(ph + 40);
    if (filesz > memsz)
        return "a segment's file size exceeds its memory size";
    if (offset > size || filesz > size - offset)
        return "a segment's bytes lie outside the file";
    if (memsz == 0)
        return 0;
    uint64_t start = vaddr & ~(PAGE - 1);
    if (vaddr < user_min || vaddr > user_max || memsz > user_max - vaddr)
        return "a segment lies outside the partition's image area";
    uint64_t end = (vaddr + memsz + PAGE - 1) & ~(PAGE - 1);
    for (unsigned i = 0; i < out->segment_count; i++) {
        const struct elf_segment *o = &out->segments[i];
        if (start < o->vaddr + o->memsz && o->vaddr < end)
            return "two segments share a page";
    }
    if (out->segment_count == ELF_MAX_SEGMENTS)
        return "too many loadable segments";
    out->segments[out->segment_count++] = (struct elf_segment){
        .vaddr = start,
        .memsz = end - start,
        .file_offset = offset,
        .file_vaddr = vaddr,
        .filesz = filesz,
        .writable = (flags & PF_W) != 0,
        .executable = (flags & PF_X) != 0,
    };
    return 0;
}

const char *elf_check(const uint8_t *image, size_t size, uint64_t user_min, uint64_t user_max,
                      struct elf_image *out)
{
    struct ehdr_fields h;
    memset(out, 0, sizeof(*out));
    const char *err = check_header(image, size, &h);
    if (err)
        return err;
    for (unsigned i = 0; i < h.phnum; i++) {
        const uint8_t *ph = image + h.phoff + (uint64_t)i * PHDR_SIZE;
        if (get32(ph) != PT_LOAD)
            continue;
        err = add_segment(ph, size, user_min, user_max, out);
        if (err)
            return err;
    }
    if (out->segment_count == 0)
        return "no loadable segment";
    for (unsigned i = 0; i < out->segment_count; i++) {
        const struct elf_segment *s = &out->segments[i];
        if (s->executable && h.entry >= s->file_vaddr && h.entry - s->file_vaddr < s->filesz) {
            out->entry = h.entry;
            return 0;
        }
    }
    return "the entry point is not inside an executable segment";
}
