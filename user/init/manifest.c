/*
 * The boot manifest parser (manifest.h, docs/manifest.md): splits the text
 * into lines, handles comments, [vm name] headers and the per-VM bookkeeping
 * (defaults, duplicates, the VM limit, a missing image) and collects the
 * messages. Values and keys are manifest_keys.c's.
 */
#include <stdarg.h>

#include "fmt.h"
#include "kstring.h"
#include "manifest_internal.h"

#define EXCERPT_SHOWN 32
#define UTF8_BOM      "\xef\xbb\xbf"

bool mf_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

const char *mf_find(struct mf_text t, char c)
{
    for (size_t i = 0; i < t.len; i++) {
        if (t.p[i] == c)
            return t.p + i;
    }
    return NULL;
}

struct mf_text mf_trim(struct mf_text t)
{
    while (t.len > 0 && mf_is_blank(t.p[0])) {
        t.p++;
        t.len--;
    }
    while (t.len > 0 && mf_is_blank(t.p[t.len - 1]))
        t.len--;
    return t;
}

void mf_excerpt(char *buf, struct mf_text t)
{
    size_t n = 0;
    for (; n < t.len && n < EXCERPT_SHOWN; n++) {
        unsigned char c = (unsigned char)t.p[n];
        buf[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (n < t.len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

void mf_error(struct mf_parser *p, struct manifest_vm *vm, unsigned line, const char *fmt, ...)
{
    char problem[MANIFEST_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(problem, sizeof(problem), fmt, ap);
    va_end(ap);
    struct manifest_errors *e = &p->m->errors;
    if (e->count < MANIFEST_MAX_ERRORS) {
        struct manifest_error *err = &e->list[e->count];
        err->line = line;
        fmt_snprintf(err->text, sizeof(err->text), "manifest line %u: %s", line, problem);
    }
    e->count++;
    if (vm != NULL && vm->valid) {
        vm->valid = false;
        fmt_snprintf(vm->reason, sizeof(vm->reason), "line %u: %s", line, problem);
    }
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

bool mf_check_name(struct mf_parser *p, const char *what, struct mf_text name)
{
    char shown[MF_EXCERPT_MAX];
    mf_excerpt(shown, name);
    if (name.len == 0) {
        mf_report(p, "empty %s name", what);
        return false;
    }
    if (name.len >= MANIFEST_NAME_MAX) {
        mf_report(p, "%s name '%s' is longer than %d characters", what, shown,
                  MANIFEST_NAME_MAX - 1);
        return false;
    }
    for (size_t i = 0; i < name.len; i++) {
        if (!name_char(name.p[i])) {
            mf_report(p, "%s name '%s': only letters, digits, '_', '.' and '-' are allowed", what,
                      shown);
            return false;
        }
    }
    return true;
}

/* Ends the current section: a VM without an image is invalid; one without a
 * command line gets the image name. */
static void finish_section(struct mf_parser *p)
{
    struct manifest_vm *vm = p->vm;
    if (vm != NULL && p->key_line[MF_KEY_IMAGE] == 0)
        mf_error(p, vm, vm->line, "[vm %s] has no image (image = <boot module name>)", vm->name);
    if (vm != NULL && p->key_line[MF_KEY_CMDLINE] == 0)
        kstrlcpy(vm->cmdline, vm->image, sizeof(vm->cmdline));
    p->vm = NULL;
    p->state = MF_SKIPPING;
    memset(p->key_line, 0, sizeof(p->key_line));
}

static struct manifest_vm *find_vm(struct manifest *m, struct mf_text name)
{
    for (unsigned i = 0; i < m->vm_count; i++) {
        struct manifest_vm *vm = &m->vms[i];
        if (strlen(vm->name) == name.len && memcmp(vm->name, name.p, name.len) == 0)
            return vm;
    }
    return NULL;
}

static void start_vm(struct mf_parser *p, struct mf_text name)
{
    struct manifest_vm *other = find_vm(p->m, name);
    if (other != NULL) {
        /* Which of the two was meant is anyone's guess: neither starts. */
        mf_error(p, other, p->line, "duplicate VM name '%s' (first at line %u); neither starts",
                 other->name, other->line);
        return;
    }
    if (p->m->vm_count >= MANIFEST_MAX_VMS) {
        char shown[MF_EXCERPT_MAX];
        mf_excerpt(shown, name);
        mf_report(p, "too many VMs: [vm %s] is one more than %d; its lines are skipped", shown,
                  MANIFEST_MAX_VMS);
        return;
    }
    struct manifest_vm *vm = &p->m->vms[p->m->vm_count++];
    memcpy(vm->name, name.p, name.len);
    vm->name[name.len] = '\0';
    vm->memory = MANIFEST_DEFAULT_MEMORY;
    vm->cpus = 1;
    vm->autostart = true;
    vm->on_exit = MANIFEST_ON_EXIT_KEEP;
    vm->line = p->line;
    vm->valid = true;
    p->vm = vm;
    p->state = MF_IN_VM;
}

/* "[vm name]" with blanks allowed inside the brackets, then nothing but
 * blanks or a comment. A header that is wrong starts a skipped section. */
static void parse_header(struct mf_parser *p, struct mf_text line)
{
    finish_section(p);
    const char *close = mf_find(line, ']');
    if (close == NULL) {
        mf_report(p, "missing ']' in the section header (expected [vm <name>])");
        return;
    }
    struct mf_text after = {close + 1, (size_t)(line.p + line.len - close - 1)};
    after = mf_trim(after);
    if (after.len > 0 && after.p[0] != '#') {
        mf_report(p, "unexpected text after ']' (a comment starts with '#')");
        return;
    }
    struct mf_text inner = mf_trim((struct mf_text){line.p + 1, (size_t)(close - line.p - 1)});
    char shown[MF_EXCERPT_MAX];
    mf_excerpt(shown, inner);
    if (inner.len < 2 || memcmp(inner.p, "vm", 2) != 0 ||
        (inner.len > 2 && !mf_is_blank(inner.p[2]))) {
        mf_report(p, "unknown section '[%s]' (expected [vm <name>])", shown);
        return;
    }
    struct mf_text name = mf_trim((struct mf_text){inner.p + 2, inner.len - 2});
    if (name.len == 0) {
        mf_report(p, "section header without a VM name (expected [vm <name>])");
        return;
    }
    if (mf_check_name(p, "VM", name))
        start_vm(p, name);
}

/* "key = value", outside comments; in a skipped section, ignored. */
static void parse_assignment(struct mf_parser *p, struct mf_text line)
{
    if (p->state == MF_SKIPPING)
        return;
    size_t eq = 0;
    while (eq < line.len && line.p[eq] != '=' && line.p[eq] != '#')
        eq++;
    char shown[MF_EXCERPT_MAX];
    struct mf_text key = mf_trim((struct mf_text){line.p, eq});
    mf_excerpt(shown, key);
    if (eq == line.len || line.p[eq] == '#') {
        mf_report(p, "expected 'key = value' or '[vm <name>]', not '%s'", shown);
        return;
    }
    if (key.len == 0) {
        mf_report(p, "missing key before '='");
        return;
    }
    if (p->state == MF_OUTSIDE) {
        mf_report(p, "key outside a [vm name] section ('%s')", shown);
        return;
    }
    mf_assign(p, key, (struct mf_text){line.p + eq + 1, line.len - eq - 1});
}

/* Text only: tabs are the only control characters allowed (and a CR that
 * ends the line, removed before). */
static bool check_text(struct mf_parser *p, struct mf_text raw)
{
    for (size_t i = 0; i < raw.len; i++) {
        unsigned char c = (unsigned char)raw.p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            mf_report(p, "control character 0x%02x in column %zu (the manifest must be text)", c,
                      i + 1);
            return false;
        }
    }
    return true;
}

static void parse_line(struct mf_parser *p, struct mf_text raw)
{
    if (raw.len > 0 && raw.p[raw.len - 1] == '\r')
        raw.len--;
    struct mf_text line = mf_trim(raw);
    bool header = line.len > 0 && line.p[0] == '[';
    if (!check_text(p, raw)) {
        if (header) { /* a header we cannot read: skip its section */
            finish_section(p);
        }
        return;
    }
    if (line.len == 0 || line.p[0] == '#')
        return;
    if (header)
        parse_header(p, line);
    else
        parse_assignment(p, line);
}

int manifest_parse(const char *text, size_t len, struct manifest *out)
{
    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    struct mf_parser p = {.m = out, .state = MF_OUTSIDE};
    if (text == NULL)
        len = 0;
    while (len > 0 && text[len - 1] == '\0') /* padding after the text */
        len--;
    size_t pos = 0;
    if (len >= 3 && memcmp(text, UTF8_BOM, 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *nl = mf_find((struct mf_text){text + pos, len - pos}, '\n');
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        p.line++;
        parse_line(&p, (struct mf_text){text + pos, end - pos});
        pos = end + 1;
    }
    finish_section(&p);
    int valid = 0;
    for (unsigned i = 0; i < out->vm_count; i++)
        valid += out->vms[i].valid;
    return valid;
}

const char *manifest_on_exit_name(enum manifest_on_exit on_exit)
{
    return on_exit == MANIFEST_ON_EXIT_POWEROFF ? "poweroff" : "keep";
}
