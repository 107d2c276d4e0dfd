/*
 * The multiboot1 loader of the VMM (Multiboot Specification 0.6.96; the
 * section numbers below are the spec's). Pure logic over a buffer that is
 * the guest's RAM: no hypercalls, no heap, no global state, so it builds for
 * ring 3 and for host tests. The image and the modules come from boot
 * modules and are untrusted: every offset, size and address is checked, and
 * a bad one is an error message, never an access outside the buffers.
 *
 * Guest physical layout it builds (docs/vmm.md):
 *   [0, 0xA0000)          RAM, "available" in the memory map (mem_lower 640)
 *   [0xA0000, 0x100000)   "reserved" (the PC's legacy hole; nothing loads here)
 *   [0x100000, ram size)  RAM, "available" (mem_upper)
 *   the image where its header or ELF program headers say; then each module
 *   on the next page boundary, in order; then one page of boot information
 *   (the multiboot info, memory map, strings, module list).
 */
#ifndef KEEL_VMM_MULTIBOOT_H
#define KEEL_VMM_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB_HEADER_MAGIC     0x1BADB002u /* 3.1.2 */
#define MB_BOOTLOADER_MAGIC 0x2BADB002u /* 3.2: EAX at entry */
#define MB_SEARCH_BYTES     8192u       /* 3.1.1: the header is in the first 8 KiB */

/* Header flags (3.1.2). Bits 0-15 are requirements, 16-31 optional. */
#define MB_FLAG_PAGE_ALIGN  (1u << 0)
#define MB_FLAG_MEMORY_INFO (1u << 1)
#define MB_FLAG_VIDEO_MODE  (1u << 2)
#define MB_FLAG_ADDRESS     (1u << 16) /* the a.out address fields are valid */
#define MB_FLAGS_REQUIRED   0xffffu
#define MB_FLAGS_UNDERSTOOD (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_VIDEO_MODE)

/* Multiboot information flags (3.3). */
#define MB_INFO_MEMORY      (1u << 0)
#define MB_INFO_CMDLINE     (1u << 2)
#define MB_INFO_MODS        (1u << 3)
#define MB_INFO_MMAP        (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

/* Memory map entry types (3.3). */
#define MB_MEMORY_AVAILABLE 1u
#define MB_MEMORY_RESERVED  2u

#define MB_PAGE_SIZE    4096u
#define MB_LOW_RAM_END  0xA0000u  /* 640 KiB: end of conventional memory */
#define MB_HIGH_RAM     0x100000u /* 1 MiB: where mem_upper counts from */
#define MB_LOADER_NAME  "Keel"
#define MB_MAX_MODULES  16
#define MB_ERROR_MAX    160
#define MB_MAX_SEGMENTS 64 /* PT_LOAD entries accepted in an ELF image */
#define MB_INFO_AREA    MB_PAGE_SIZE

/* The guest's RAM: guest physical [0, size) is host [base, base + size). */
struct guest_ram {
    uint8_t *base;
    uint64_t size;
};

/* A boot module to hand to the guest. name is its multiboot string. */
struct mb_module {
    const uint8_t *data;
    uint64_t size;
    const char *name;
};

/* Where the loader put things, for the vCPU's start state and messages. */
struct mb_boot {
    uint32_t entry;          /* EIP */
    uint32_t info;           /* EBX: the multiboot information structure */
    uint64_t image_start;    /* lowest loaded guest address */
    uint64_t image_end;      /* end of the image, its bss included */
    uint32_t header_flags;   /* of the image's multiboot header */
    bool elf;                /* loaded from ELF program headers, else the address fields */
    unsigned elf_class;      /* 32 or 64 when elf */
    uint64_t modules_end;    /* end of the last module (image_end without modules) */
    char note[MB_ERROR_MAX]; /* a remark worth printing (e.g. an ignored flag), or "" */
};

/* The multiboot header found in image[0..size): its offset and fields. */
struct mb_header {
    uint32_t offset;
    uint32_t flags;
    /* Valid with MB_FLAG_ADDRESS (3.1.3). */
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/*
 * Finds the multiboot header (magic, flags and checksum summing to 0,
 * 4-byte aligned, within the first 8 KiB). Returns false with a message in
 * why (MB_ERROR_MAX bytes) when there is none or it asks for something this
 * loader cannot give.
 */
bool mb_find_header(const uint8_t *image, uint64_t size, struct mb_header *hdr, char *why);

/*
 * Loads the image into ram by its address fields (flag 16) or else its ELF32
 * or ELF64 program headers (3.1.3, 3.1.4): fills boot's entry, image_start,
 * image_end, elf, elf_class. Returns false with why on a bad image.
 */
bool mb_load_image(struct guest_ram *ram, const uint8_t *image, uint64_t size,
                   const struct mb_header *hdr, struct mb_boot *boot, char *why);

/*
 * Copies the modules page-aligned after the image, then writes the
 * multiboot information (3.3) after them: memory fields and map, cmdline,
 * module list with each module's name as its string, boot loader name.
 * Sets boot->modules_end and boot->info. Returns false with why when it
 * does not fit in ram.
 */
bool mb_place_modules_and_info(struct guest_ram *ram, const char *cmdline,
                               const struct mb_module *mods, unsigned mod_count,
                               struct mb_boot *boot, char *why);

/* All three steps; boot is zeroed first. */
bool mb_load(struct guest_ram *ram, const uint8_t *image, uint64_t size, const char *cmdline,
             const struct mb_module *mods, unsigned mod_count, struct mb_boot *boot, char *why);

/* True when guest [gpa, gpa + len) is inside ram (no overflow). */
static inline bool guest_ram_contains(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
    return gpa <= ram->size && len <= ram->size - gpa;
}

/* Writes a formatted reason into why (MB_ERROR_MAX bytes); returns false, for
 * "return mb_fail(why, ...)" in the loader. */
bool mb_fail(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
