/* Host tests of elf_check (kernel/elf_check.c): a partition image is
 * untrusted input. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "elf_check.h"

#define USER_MIN 0x400000ull
#define USER_MAX 0x7fff00000000ull

#include "elf_sample.h"

static const char *check(const struct image *im, size_t size, struct elf_image *out)
{
    return elf_check(im->bytes, size, USER_MIN, USER_MAX, out);
}

static void accepts_a_valid_image(void)
{
    struct image im = {{0}};
    struct elf_image out;
    make_valid(&im);
    CHECK(check(&im, sizeof(im.bytes), &out) == NULL);
    CHECK_EQ(out.entry, 0x401010);
    CHECK_EQ(out.segment_count, 2);
    CHECK_EQ(out.segments[0].vaddr, 0x401000);
    CHECK_EQ(out.segments[0].memsz, 0x1000);
    CHECK(out.segments[0].executable && !out.segments[0].writable);
    CHECK_EQ(out.segments[1].memsz, 0x3000);
    CHECK(out.segments[1].writable && !out.segments[1].executable);
}

static void rejects_bad_headers(void)
{
    struct image im = {{0}};
    struct elf_image out;
    make_valid(&im);
    CHECK(check(&im, 10, &out) != NULL); /* truncated */
    im.bytes[0] = 0;
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    im.bytes[4] = 1; /* 32-bit */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    elf_put16(im.bytes + 16, 3); /* ET_DYN (PIE) */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    elf_put16(im.bytes + 18, 3); /* i386 */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    elf_put64(im.bytes + 32, 0xfffffffffffffff0ull); /* phoff wraps */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    elf_put16(im.bytes + 56, 0xffff); /* headers past the end */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
}

static void rejects_bad_segments(void)
{
    struct image im = {{0}};
    struct elf_image out;
    uint8_t *ph;
    make_valid(&im);
    ph = im.bytes + 64;
    elf_put64(ph + 32, 0x5000); /* filesz > memsz and past the file */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    elf_put64(im.bytes + 64 + 16, 0x1000); /* below the image area */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    elf_put64(im.bytes + 64 + 16, 0xffffffff80000000ull); /* the core's half */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    elf_put64(im.bytes + 64 + 40, 0xffffffffffffff00ull); /* memsz wraps */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    elf_put64(im.bytes + 120 + 16, 0x401800); /* shares the text page */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    elf_put64(im.bytes + 24, 0x402010); /* entry in the data segment */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
    make_valid(&im);
    elf_put32(im.bytes + 64, 0); /* no PT_LOAD left but data: entry not executable */
    CHECK(check(&im, sizeof(im.bytes), &out) != NULL);
}

int main(void)
{
    check_begin("elf_check");
    RUN(accepts_a_valid_image);
    RUN(rejects_bad_headers);
    RUN(rejects_bad_segments);
    return check_finish();
}
