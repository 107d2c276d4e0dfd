/* libFuzzer target: the VMM's multiboot1 loader (guest-loader/mb_*.c) and
 * argument parser. The input: a 16-bit little-endian length n, then n bytes
 * of guest image, then one module; the argument parser gets the input as a
 * string. Guest RAM is 2 MiB, exactly sized so ASan sees a write past it. */
#include <stddef.h>
#include <stdint.h>

#include "../../guest-loader/args.h"
#include "../../guest-loader/multiboot.h"
#include "fuzz_check.h"

#define FUZZ_RAM (2u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What a successful load promises: everything inside RAM and in order, the
 * strings of the info page inside it and terminated. */
static void check_info(const struct guest_ram *ram, const struct mb_boot *b)
{
    REQUIRE(b->entry < ram->size);
    REQUIRE(b->image_start <= b->image_end && b->image_end <= ram->size);
    REQUIRE(b->modules_end >= b->image_end && b->modules_end <= ram->size);
    REQUIRE(b->info % MB_PAGE_SIZE == 0 && b->info >= b->modules_end);
    REQUIRE(b->info + MB_INFO_AREA <= ram->size);
    const uint8_t *mbi = ram->base + b->info;
    static const unsigned strings[] = {16, 64}; /* cmdline, boot loader name */
    for (unsigned i = 0; i < 2; i++) {
        uint32_t at = get32(mbi + strings[i]);
        REQUIRE(at >= b->info && at < b->info + MB_INFO_AREA);
        require_terminated((const char *)ram->base + at, b->info + MB_INFO_AREA - at);
    }
}

static void fuzz_args(const uint8_t *data, size_t size)
{
    char s[KEEL_START_ARGS_MAX + 8];
    size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    struct vmm_args a;
    char why[VMM_ARGS_ERROR_MAX];
    if (vmm_parse_args(s, &a, why)) {
        REQUIRE(a.memory >= VMM_MIN_MEMORY && a.memory <= VMM_MAX_MEMORY && a.memory % 4096 == 0);
        REQUIRE(a.cpus >= 1 && a.cpus <= VMM_MAX_CPUS);
        require_terminated(a.cmdline, sizeof(a.cmdline));
    } else {
        require_terminated(why, sizeof(why));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_args(data, size);
    if (size < 2)
        return 0;
    size_t n = (size_t)(data[0] | (data[1] << 8));
    if (n > size - 2)
        n = size - 2;
    size_t mod_size = size - 2 - n;
    uint8_t *image = malloc(n ? n : 1); /* exact copies: ASan catches a read past either */
    uint8_t *module = malloc(mod_size ? mod_size : 1);
    memcpy(image, data + 2, n);
    memcpy(module, data + 2 + n, mod_size);
    struct guest_ram ram = {malloc(FUZZ_RAM), FUZZ_RAM};
    struct mb_module mod = {module, mod_size, "fuzz"};
    struct mb_boot boot;
    char why[MB_ERROR_MAX];
    if (mb_load(&ram, image, n, "fuzz -v", &mod, 1, &boot, why))
        check_info(&ram, &boot);
    else
        require_terminated(why, sizeof(why));
    free(ram.base);
    free(module);
    free(image);
    return 0;
}
