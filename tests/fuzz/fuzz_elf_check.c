/* libFuzzer target: elf_check on arbitrary bytes. Invariants: it terminates,
 * and an accepted image's segments lie in the file and the user range, do
 * not overlap, and contain the entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf_check.h"

#define USER_MIN 0x400000ull
#define USER_MAX 0x7fff00000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct elf_image img;
    if (elf_check(data, size, USER_MIN, USER_MAX, &img) != NULL)
        return 0;
    int entry_found = 0;
    for (unsigned i = 0; i < img.segment_count; i++) {
        const struct elf_segment *s = &img.segments[i];
        if (s->file_offset > size || s->filesz > size - s->file_offset)
            abort();
        if (s->vaddr < (USER_MIN & ~0xfffull) || s->vaddr + s->memsz > USER_MAX + 0x1000)
            abort();
        if (s->filesz > s->memsz || (s->vaddr & 0xfff) || (s->memsz & 0xfff))
            abort();
        for (unsigned j = 0; j < i; j++) {
            const struct elf_segment *o = &img.segments[j];
            if (s->vaddr < o->vaddr + o->memsz && o->vaddr < s->vaddr + s->memsz)
                abort();
        }
        if (s->executable && img.entry >= s->file_vaddr && img.entry - s->file_vaddr < s->filesz)
            entry_found = 1;
    }
    if (!entry_found)
        abort();
    return 0;
}
