/* libFuzzer target: the core's command-line parser (kernel/cmdline.c). The
 * input is the text, not NUL-terminated: max_len bounds every read. */
#include <stddef.h>
#include <stdint.h>

#include "cmdline.h"
#include "fuzz_check.h"

#define ALL_TEST_FLAGS KEEL_TEST_ALL_FLAGS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cmdline_options a, b;
    cmdline_parse((const char *)data, size, &a);
    REQUIRE(a.console == CONSOLE_COM1 || a.console == CONSOLE_COM2 || a.console == CONSOLE_NONE);
    REQUIRE(a.loglevel >= 0 && a.loglevel <= 7);
    REQUIRE((a.test_flags & ~(uint32_t)ALL_TEST_FLAGS) == 0);
    require_diag_sound(&a.warnings);
    /* Deterministic, and blind to bytes past max_len. */
    cmdline_parse((const char *)data, size, &b);
    REQUIRE(memcmp(&a, &b, sizeof(a)) == 0);
    return 0;
}
