/* The VMM's argument string (args.h). */
#include <stdarg.h>

#include "args.h"
#include "fmt.h"
#include "kstring.h"
#include "../user/lib/numparse.h" /* relative: also built by the host tests */

#define CMDLINE_KEY "cmdline="
#define SHOWN_MAX   24
#define SEEN_MEMORY 1u
#define SEEN_CPUS   2u

static bool fail(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(why, VMM_ARGS_ERROR_MAX, fmt, ap);
    va_end(ap);
    return false;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* One "key=value" word (not cmdline). */
static bool set_key(struct vmm_args *out, const char *w, size_t len, unsigned *seen, char *why)
{
    int shown = len > SHOWN_MAX ? SHOWN_MAX : (int)len;
    uint64_t n;
    if (starts_with(w, len, "memory=")) {
        const char *v = w + 7;
        if (*seen & SEEN_MEMORY)
            return fail(why, "memory given twice");
        if (!parse_size(v, len - 7, &n) || n < VMM_MIN_MEMORY || n > VMM_MAX_MEMORY ||
            n % 4096 != 0)
            return fail(why, "'%.*s': expected a multiple of 4K from 1M to 3G", shown, w);
        out->memory = n;
        *seen |= SEEN_MEMORY;
        return true;
    }
    if (starts_with(w, len, "cpus=")) {
        if (*seen & SEEN_CPUS)
            return fail(why, "cpus given twice");
        if (!parse_u64(w + 5, len - 5, &n) || n < 1 || n > VMM_MAX_CPUS)
            return fail(why, "'%.*s': expected 1 to %d CPUs", shown, w, VMM_MAX_CPUS);
        out->cpus = (unsigned)n;
        *seen |= SEEN_CPUS;
        return true;
    }
    return fail(why, "unknown argument '%.*s' (memory=, cpus=, cmdline=)", shown, w);
}

bool vmm_parse_args(const char *args, struct vmm_args *out, char *why)
{
    memset(out, 0, sizeof(*out));
    out->memory = VMM_DEFAULT_MEMORY;
    out->cpus = 1;
    size_t total = strnlen(args, KEEL_START_ARGS_MAX - 1);
    unsigned seen = 0;
    size_t i = 0;
    while (i < total) {
        if (is_blank(args[i])) {
            i++;
            continue;
        }
        size_t end = i;
        while (end < total && !is_blank(args[end]))
            end++;
        if (starts_with(args + i, total - i, CMDLINE_KEY)) {
            size_t start = i + strlen(CMDLINE_KEY);
            memcpy(out->cmdline, args + start, total - start);
            out->cmdline[total - start] = '\0';
            return true;
        }
        if (!set_key(out, args + i, end - i, &seen, why))
            return false;
        i = end;
    }
    return true;
}
