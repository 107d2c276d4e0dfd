/*
 * The core's command line (see cmdline.h). Words are maximal runs of visible
 * ASCII (0x21-0x7e); every other byte separates words, and control or
 * non-ASCII bytes are reported once. A repeated option: the last one wins.
 */
#include <stdbool.h>

#include "cmdline.h"
#include "kstring.h"

#define SHOWN 40 /* at most this many characters of a word are quoted in a warning */

struct word {
    const char *p;
    size_t len;
};

static const struct {
    const char *name;
    uint32_t flag;
} test_switches[] = {
    {"fault", KEEL_TEST_FAULT},
    {"acpi-bad-checksum", KEEL_TEST_ACPI_BAD_CHECKSUM},
    {"acpi-truncated", KEEL_TEST_ACPI_TRUNCATED},
    {"madt-extra-cpus", KEEL_TEST_MADT_EXTRA_CPUS},
    {"bad-memmap", KEEL_TEST_BAD_MEMMAP},
    {"selftest", KEEL_TEST_SELFTEST},
    {"bench", KEEL_TEST_BENCH},
};

static bool is_word_char(char c)
{
    return c >= 0x21 && c <= 0x7e;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool word_is(struct word w, const char *lit)
{
    size_t n = strlen(lit);
    return w.len == n && memcmp(w.p, lit, n) == 0;
}

/* A word as quoted in a warning: its first SHOWN characters, terminated. */
struct quoted {
    char s[SHOWN + 1];
};

static struct quoted quote(struct word w)
{
    struct quoted q;
    size_t n = w.len > SHOWN ? SHOWN : w.len;
    memcpy(q.s, w.p, n);
    q.s[n] = '\0';
    return q;
}

/* QEMU and some loaders put the kernel image's name first. */
static bool looks_like_path(struct word w)
{
    for (size_t i = 0; i < w.len; i++) {
        if (w.p[i] == '/')
            return true;
    }
    return w.len >= 4 && memcmp(w.p + w.len - 4, ".elf", 4) == 0;
}

static void parse_console(struct word v, struct cmdline_options *out)
{
    static const char *const names[] = {"com1", "com2", "none"};
    for (unsigned i = 0; i < 3; i++) {
        if (word_is(v, names[i])) {
            out->console = (enum console_port)i;
            return;
        }
    }
    diag_add(&out->warnings, "cmdline: console=%s is not com1, com2 or none; kept %s", quote(v).s,
             names[out->console]);
}

/* Accepts one to three decimal digits with a value 0..7. */
static void parse_loglevel(struct word v, struct cmdline_options *out)
{
    int value = 0;
    bool ok = v.len >= 1 && v.len <= 3;
    for (size_t i = 0; ok && i < v.len; i++) {
        ok = v.p[i] >= '0' && v.p[i] <= '9';
        value = value * 10 + (v.p[i] - '0');
    }
    if (ok && value <= 7) {
        out->loglevel = value;
        return;
    }
    diag_add(&out->warnings, "cmdline: loglevel=%s is not 0..7; kept %d", quote(v).s,
             out->loglevel);
}

static uint32_t test_flag(struct word item)
{
    for (unsigned i = 0; i < sizeof(test_switches) / sizeof(test_switches[0]); i++) {
        if (word_is(item, test_switches[i].name))
            return test_switches[i].flag;
    }
    return 0;
}

/* A comma-separated list; replaces earlier keel.test options. Empty items are
 * skipped, unknown ones reported. */
static void parse_test(struct word v, struct cmdline_options *out)
{
    uint32_t flags = 0;
    size_t i = 0;
    while (i <= v.len) {
        struct word item = {v.p + i, 0};
        while (i + item.len < v.len && v.p[i + item.len] != ',')
            item.len++;
        i += item.len + 1;
        if (item.len == 0)
            continue;
        uint32_t f = test_flag(item);
        if (f == 0)
            diag_add(&out->warnings, "cmdline: keel.test switch '%s' unknown; ignored",
                     quote(item).s);
        flags |= f;
    }
    out->test_flags = flags;
}

static void parse_word(struct word w, bool first, struct cmdline_options *out)
{
    size_t eq = 0;
    while (eq < w.len && w.p[eq] != '=')
        eq++;
    if (eq == w.len) {
        if (!(first && looks_like_path(w)))
            diag_add(&out->warnings, "cmdline: unknown option '%s' ignored", quote(w).s);
        return;
    }
    struct word key = {w.p, eq}, val = {w.p + eq + 1, w.len - eq - 1};
    if (word_is(key, "console"))
        parse_console(val, out);
    else if (word_is(key, "loglevel"))
        parse_loglevel(val, out);
    else if (word_is(key, "keel.test"))
        parse_test(val, out);
    else if (eq == 0)
        diag_add(&out->warnings, "cmdline: option '%s' has no name; ignored", quote(w).s);
    else
        diag_add(&out->warnings, "cmdline: unknown option '%s' ignored", quote(w).s);
}

/* Length of the text to parse: up to NUL, max_len and CMDLINE_MAX. When the
 * text goes on past CMDLINE_MAX, the word cut in two there is dropped too. */
static size_t usable_length(const char *text, size_t max_len, struct diag *warnings)
{
    size_t limit = max_len < CMDLINE_MAX ? max_len : CMDLINE_MAX;
    size_t n = strnlen(text, limit);
    if (n < CMDLINE_MAX || max_len <= CMDLINE_MAX || text[n] == '\0')
        return n;
    diag_add(warnings, "cmdline: longer than %u bytes; the rest was ignored", CMDLINE_MAX);
    if (is_word_char(text[n])) {
        while (n > 0 && is_word_char(text[n - 1]))
            n--;
    }
    return n;
}

void cmdline_parse(const char *text, size_t max_len, struct cmdline_options *out)
{
    memset(out, 0, sizeof(*out));
    out->console = CONSOLE_COM1;
    out->loglevel = LOGLEVEL_DEFAULT;
    if (text == NULL)
        return;
    size_t n = usable_length(text, max_len, &out->warnings);
    bool first = true, odd_bytes = false;
    size_t i = 0;
    while (i < n) {
        if (!is_word_char(text[i])) {
            odd_bytes |= !is_space(text[i]);
            i++;
            continue;
        }
        struct word w = {text + i, 0};
        while (i < n && is_word_char(text[i])) {
            w.len++;
            i++;
        }
        parse_word(w, first, out);
        first = false;
    }
    if (odd_bytes)
        diag_add(&out->warnings, "cmdline: control or non-ASCII bytes; taken as spaces");
}
