/* The in-core device the self-test guests talk to (tests/guests/README.md
 * documents the ports and the MMIO window). Used only by the self-test and
 * the benchmark; the ring-3 VMM's devices replace it for real guests. */
#ifndef KEEL_SELFTEST_DEVICE_H
#define KEEL_SELFTEST_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "vm.h"

#define SELFTEST_LINE_MAX 96
#define SELFTEST_SCRATCH  256

struct selftest_device {
    const char *vm_name;
    uint32_t checkpoint;
    bool has_result;
    uint32_t result;
    uint32_t string_sum, string_count; /* port 0x513 */
    uint32_t string_in_index;          /* port 0x515 */
    uint64_t bench[3];                 /* ports 0x518-0x51a */
    unsigned line_len;
    char line[SELFTEST_LINE_MAX];
    uint8_t scratch[SELFTEST_SCRATCH];
};

/* Device ops whose ctx is dev. */
struct vm_device_ops selftest_device_ops(struct selftest_device *dev);

#endif
