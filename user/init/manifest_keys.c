/*
 * The values of the boot manifest (manifest.h, docs/manifest.md): quoting,
 * and one setter per key with its checks. A value is either bare text (up to
 * a '#', blanks trimmed, no quotes inside) or one quoted string ("..." with
 * \" and \\) followed by nothing but blanks or a comment.
 */
#include "../lib/numparse.h"
#include "kstring.h"
#include "manifest_internal.h"

#define KNOWN_KEYS "image, cmdline, modules, memory, cpus, autostart, on_exit, affinity"

_Static_assert(MANIFEST_MAX_AFFINITY == CPU_LIST_MAX, "affinity list sizes");

typedef void (*mf_setter)(struct mf_parser *p, struct manifest_vm *vm, struct mf_text v);

/* Reads a quoted string starting at rest.p[0] == '"' into buf. */
static bool read_quoted(struct mf_parser *p, const char *key, struct mf_text rest, char *buf,
                        size_t *len)
{
    size_t n = 0, i = 1;
    for (; i < rest.len && rest.p[i] != '"'; i++) {
        char c = rest.p[i];
        if (c == '\\') {
            if (i + 1 >= rest.len) { /* a backslash that ends the line */
                i = rest.len;
                break;
            }
            char next = rest.p[i + 1];
            if (next != '"' && next != '\\') {
                mf_report(p, "%s: unknown escape in a quoted string (only \\\" and \\\\)", key);
                return false;
            }
            c = next;
            i++;
        }
        if (n + 1 >= MANIFEST_CMDLINE_MAX) {
            mf_report(p, "%s: value longer than %d characters", key, MANIFEST_CMDLINE_MAX - 1);
            return false;
        }
        buf[n++] = c;
    }
    if (i >= rest.len) {
        mf_report(p, "%s: unterminated quoted string", key);
        return false;
    }
    struct mf_text after = mf_trim((struct mf_text){rest.p + i + 1, rest.len - i - 1});
    if (after.len > 0 && after.p[0] != '#') {
        mf_report(p, "%s: unexpected text after the closing quote", key);
        return false;
    }
    buf[n] = '\0';
    *len = n;
    return true;
}

/* The value after '=' into buf (MANIFEST_CMDLINE_MAX bytes), unquoted. */
static bool read_value(struct mf_parser *p, const char *key, struct mf_text rest, char *buf,
                       size_t *len)
{
    rest = mf_trim(rest);
    if (rest.len > 0 && rest.p[0] == '"')
        return read_quoted(p, key, rest, buf, len);
    const char *hash = mf_find(rest, '#');
    if (hash != NULL)
        rest = mf_trim((struct mf_text){rest.p, (size_t)(hash - rest.p)});
    if (mf_find(rest, '"') != NULL) {
        mf_report(p, "%s: a quote inside an unquoted value (quote the whole value)", key);
        return false;
    }
    if (rest.len >= MANIFEST_CMDLINE_MAX) {
        mf_report(p, "%s: value longer than %d characters", key, MANIFEST_CMDLINE_MAX - 1);
        return false;
    }
    memcpy(buf, rest.p, rest.len);
    buf[rest.len] = '\0';
    *len = rest.len;
    return true;
}

static void copy_name(char *dst, struct mf_text name)
{
    memcpy(dst, name.p, name.len);
    dst[name.len] = '\0';
}

static void set_image(struct mf_parser *p, struct manifest_vm *vm, struct mf_text v)
{
    if (mf_check_name(p, "image", v))
        copy_name(vm->image, v);
}

static void set_cmdline(struct mf_parser *p, struct manifest_vm *vm, struct mf_text v)
{
    (void)p;
    copy_name(vm->cmdline, v); /* read_value bounded it to the buffer */
}

/* Names separated by commas and/or blanks; an empty entry between commas is
 * an error; the list is kept only when all of it is good. */
static void set_modules(struct mf_parser *p, struct manifest_vm *vm, struct mf_text v)
{
    char names[MANIFEST_MAX_MODULES][MANIFEST_NAME_MAX] = {{0}}; /* no stack bytes leak out */
    unsigned count = 0;
    size_t i = 0;
    bool need_name = false; /* after a comma */
    while (i < v.len) {
        if (mf_is_blank(v.p[i])) {
            i++;
            continue;
        }
        if (v.p[i] == ',') {
            if (count == 0 || need_name) {
                mf_report(p, "modules: empty entry in the list");
                return;
            }
            need_name = true;
            i++;
            continue;
        }
        size_t start = i;
        while (i < v.len && !mf_is_blank(v.p[i]) && v.p[i] != ',')
            i++;
        struct mf_text name = {v.p + start, i - start};
        if (count == MANIFEST_MAX_MODULES) {
            mf_report(p, "modules: more than %d modules", MANIFEST_MAX_MODULES);
            return;
        }
        if (!mf_check_name(p, "module", name))
            return;
        copy_name(names[count++], name);
        need_name = false;
    }
    if (need_name) {
        mf_report(p, "modules: empty entry in the list");
        return;
    }
    memcpy(vm->modules, names, sizeof(names[0]) * count);
    vm->module_count = count;
}

static void set_memory(struct mf_parser *p, struct manifest_vm *vm, struct mf_text v)
{
    char shown[MF_EXCERPT_MAX];
    mf_excerpt(shown, v);
    uint64_t bytes;
    if (!parse_size(v.p, v.len, &bytes))
        mf_report(p, "memory = %s: expected a size like 64M (K, M, G)", shown);
    else if (bytes < MANIFEST_MIN_MEMORY || bytes > MANIFEST_MAX_MEMORY)
        mf_report(p, "memory = %s: must be between 1M and 64G", shown);
    else if (bytes % MANIFEST_MEMORY_ALIGN != 0)
        mf_report(p, "memory = %s: must be a multiple of 4K", shown);
    else
        vm->memory = bytes;
}

static void set_cpus(struct mf_parser *p, struct manifest_vm *vm, struct mf_text v)
{
    char shown[MF_EXCERPT_MAX];
    mf_excerpt(shown, v);
    uint64_t n;
    if (!parse_u64(v.p, v.len, &n) || n < 1 || n > MANIFEST_MAX_CPUS)
        mf_report(p, "cpus = %s: expected a number from 1 to %d", shown, MANIFEST_MAX_CPUS);
    else
        vm->cpus = (unsigned)n;
}

/* The same syntax as the VMM's affinity= (numparse.h), blanks allowed. */
static void set_affinity(struct mf_parser *p, struct manifest_vm *vm, struct mf_text v)
{
    char shown[MF_EXCERPT_MAX];
    mf_excerpt(shown, v);
    uint8_t cpus[CPU_LIST_MAX];
    unsigned count;
    if (!parse_cpu_list(v.p, v.len, cpus, &count)) {
        mf_report(
            p, "affinity = %s: expected CPU numbers from 0 to %d separated by commas (at most %d)",
            shown, CPU_LIST_MAX - 1, CPU_LIST_MAX);
        return;
    }
    memcpy(vm->affinity, cpus, count);
    vm->affinity_count = count;
}

static bool text_is(struct mf_text v, const char *word)
{
    return strlen(word) == v.len && memcmp(v.p, word, v.len) == 0;
}

/* -1 when v is not one of the words; else the index of the matching one. */
static int one_of(struct mf_text v, const char *const *words, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        if (text_is(v, words[i]))
            return (int)i;
    }
    return -1;
}

static void set_autostart(struct mf_parser *p, struct manifest_vm *vm, struct mf_text v)
{
    static const char *const words[] = {"no", "yes", "false", "true", "off", "on", "0", "1"};
    int i = one_of(v, words, sizeof(words) / sizeof(words[0]));
    char shown[MF_EXCERPT_MAX];
    mf_excerpt(shown, v);
    if (i < 0)
        mf_report(p, "autostart = %s: expected yes or no", shown);
    else
        vm->autostart = i % 2 == 1;
}

static void set_on_exit(struct mf_parser *p, struct manifest_vm *vm, struct mf_text v)
{
    static const char *const words[] = {"keep", "poweroff"};
    int i = one_of(v, words, sizeof(words) / sizeof(words[0]));
    char shown[MF_EXCERPT_MAX];
    mf_excerpt(shown, v);
    if (i < 0)
        mf_report(p, "on_exit = %s: expected keep or poweroff", shown);
    else
        vm->on_exit = i == 1 ? MANIFEST_ON_EXIT_POWEROFF : MANIFEST_ON_EXIT_KEEP;
}

static const struct {
    const char *name;
    mf_setter set;
} keys[MF_KEY_COUNT] = {
    [MF_KEY_IMAGE] = {"image", set_image},       [MF_KEY_CMDLINE] = {"cmdline", set_cmdline},
    [MF_KEY_MODULES] = {"modules", set_modules}, [MF_KEY_MEMORY] = {"memory", set_memory},
    [MF_KEY_CPUS] = {"cpus", set_cpus},          [MF_KEY_AUTOSTART] = {"autostart", set_autostart},
    [MF_KEY_ON_EXIT] = {"on_exit", set_on_exit}, [MF_KEY_AFFINITY] = {"affinity", set_affinity},
};

void mf_assign(struct mf_parser *p, struct mf_text key, struct mf_text rest)
{
    int k = 0;
    while (k < MF_KEY_COUNT && !text_is(key, keys[k].name))
        k++;
    if (k == MF_KEY_COUNT) {
        char shown[MF_EXCERPT_MAX];
        mf_excerpt(shown, key);
        mf_report(p, "unknown key '%s' in [vm %s] (known: " KNOWN_KEYS ")", shown, p->vm->name);
        return;
    }
    if (p->key_line[k] != 0) {
        mf_report(p, "duplicate key '%s' in [vm %s] (first at line %u)", keys[k].name, p->vm->name,
                  p->key_line[k]);
        return;
    }
    p->key_line[k] = p->line;
    char value[MANIFEST_CMDLINE_MAX];
    size_t len;
    if (read_value(p, keys[k].name, rest, value, &len))
        keys[k].set(p, p->vm, (struct mf_text){value, len});
}
