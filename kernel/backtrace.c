/* Walks saved frame pointers: [rbp] = caller's rbp, [rbp+8] = return address. */
#include <stdbool.h>

#include "backtrace.h"
#include "layout.h"
#include "paging.h"
#include "printk.h"

#define BACKTRACE_DEPTH 16

static bool frame_readable(uint64_t rbp)
{
    if (rbp & 7)
        return false;
    if (rbp < DIRECT_MAP_BASE)
        return false;
    return paging_is_mapped(rbp) && paging_is_mapped(rbp + 15);
}

void backtrace_print(uint64_t rip, uint64_t rbp)
{
    pr_emerg("backtrace: (addr2line -e build/keel.elf <address>)");
    pr_emerg("  #0 %016llx", (unsigned long long)rip);
    for (int depth = 1; depth < BACKTRACE_DEPTH && rbp; depth++) {
        if (!frame_readable(rbp)) {
            pr_emerg("  (frame pointer %016llx not readable; backtrace ends)",
                     (unsigned long long)rbp);
            return;
        }
        const uint64_t *frame = (const uint64_t *)rbp;
        uint64_t ret = frame[1];
        if (ret < KERNEL_VMA_BASE)
            return;
        pr_emerg("  #%d %016llx", depth, (unsigned long long)ret);
        if (frame[0] <= rbp)
            return; /* the stack grows down: callers' frames lie above */
        rbp = frame[0];
    }
}
