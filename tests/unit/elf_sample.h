/* A small valid ELF64 executable image, shared by the elf_check unit test
 * and the fuzz seed generator. */
#ifndef KEEL_TEST_ELF_SAMPLE_H
#define KEEL_TEST_ELF_SAMPLE_H

#include <stdint.h>
#include <string.h>

struct image {
    uint8_t bytes[0x3000];
};

static inline void elf_put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}
static inline void elf_put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static inline void elf_put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* A valid ET_EXEC: text at 0x401000 (R X, 0x100 bytes from offset 0x1000),
 * data at 0x402000 (R W, 0x80 bytes + bss to 0x3000). */
static inline void make_valid(struct image *im)
{
    uint8_t *b = im->bytes;
    memset(b, 0, sizeof(im->bytes));
    memcpy(b,
           "\x7f"
           "ELF",
           4);
    b[4] = 2; /* ELFCLASS64 */
    b[5] = 1; /* little endian */
    b[6] = 1;
    elf_put16(b + 16, 2);  /* ET_EXEC */
    elf_put16(b + 18, 62); /* EM_X86_64 */
    elf_put32(b + 20, 1);
    elf_put64(b + 24, 0x401010); /* entry */
    elf_put64(b + 32, 64);       /* phoff */
    elf_put16(b + 52, 64);
    elf_put16(b + 54, 56);
    elf_put16(b + 56, 2);
    uint8_t *ph = b + 64;
    elf_put32(ph, 1);             /* PT_LOAD */
    elf_put32(ph + 4, 5);         /* R X */
    elf_put64(ph + 8, 0x1000);    /* offset */
    elf_put64(ph + 16, 0x401000); /* vaddr */
    elf_put64(ph + 32, 0x100);    /* filesz */
    elf_put64(ph + 40, 0x100);    /* memsz */
    ph += 56;
    elf_put32(ph, 1);
    elf_put32(ph + 4, 6); /* R W */
    elf_put64(ph + 8, 0x2000);
    elf_put64(ph + 16, 0x402000);
    elf_put64(ph + 32, 0x80);
    elf_put64(ph + 40, 0x3000);
}

#endif
