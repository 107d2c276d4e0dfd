/* The VMM's argument string (args.h). */
#include <stdarg.h>

#include "args.h"
#include "fmt.h"
#include "kstring.h"
#include "../user/lib/numparse.h" /* relative: also built by the host tests */

#define CMDLINE_KEY "cmdline="
#define SHOWN_MAX   24
#define PAGE_SIZE   4096u

_Static_assert(VMM_MAX_AFFINITY == CPU_LIST_MAX, "affinity list sizes");

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

static bool set_memory(struct vmm_args *out, const char *v, size_t len)
{
    uint64_t n;
    if (!parse_size(v, len, &n) || n < VMM_MIN_MEMORY || n > VMM_MAX_MEMORY || n % PAGE_SIZE != 0)
        return false;
    out->memory = n;
    return true;
}

static bool set_cpus(struct vmm_args *out, const char *v, size_t len)
{
    uint64_t n;
    if (!parse_u64(v, len, &n) || n < 1 || n > VMM_MAX_CPUS)
        return false;
    out->cpus = (unsigned)n;
    return true;
}

static bool set_affinity(struct vmm_args *out, const char *v, size_t len)
{
    return parse_cpu_list(v, len, out->affinity, &out->affinity_count);
}

/* The keys before cmdline=: each parses its value, or false with what is
 * expected of it. */
static const struct {
    const char *key; /* with its '=' */
    bool (*set)(struct vmm_args *out, const char *v, size_t len);
    const char *expected;
} keys[] = {
    {"memory=", set_memory, "a multiple of 4K from 1M to 3G"},
    {"cpus=", set_cpus, "1 to 64 CPUs"},
    {"affinity=", set_affinity, "CPU numbers below 64 separated by commas, at most 64"},
};
#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

_Static_assert(VMM_MAX_CPUS == 64, "the message of cpus=");

/* One "key=value" word (not cmdline); seen has a bit per key given. */
static bool set_key(struct vmm_args *out, const char *w, size_t len, unsigned *seen, char *why)
{
    int shown = len > SHOWN_MAX ? SHOWN_MAX : (int)len;
    for (unsigned k = 0; k < KEY_COUNT; k++) {
        size_t n = strlen(keys[k].key);
        if (!starts_with(w, len, keys[k].key))
            continue;
        if (*seen & (1u << k))
            return fail(why, "%.*s given twice", (int)n - 1, keys[k].key);
        if (!keys[k].set(out, w + n, len - n))
            return fail(why, "'%.*s': expected %s", shown, w, keys[k].expected);
        *seen |= 1u << k;
        return true;
    }
    return fail(why, "unknown argument '%.*s' (memory=, cpus=, affinity=, cmdline=)", shown, w);
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
