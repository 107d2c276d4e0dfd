/* libFuzzer target: multiboot1 info parsing (kernel/multiboot1.c); see
 * fuzz_bootinfo.h for the input's meaning. */
#include "fuzz_bootinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_bootinfo(MULTIBOOT1_BOOT_MAGIC, data, size);
}
