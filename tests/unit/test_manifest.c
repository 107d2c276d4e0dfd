/* Host unit tests of the boot manifest parser (user/init/manifest*.c) and of
 * the number parsing it uses (user/lib/numparse.c). */
#include "check.h"

#include "../../user/init/manifest.h"
#include "../../user/lib/numparse.h"

static struct manifest m;
static int valid;

/* Parses n bytes of s from an exact-size heap copy, so ASan catches a read
 * past the end. */
static void parse_n(const char *s, size_t n)
{
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    valid = manifest_parse(copy, n, &m);
    free(copy);
    const char *v = getenv("KEEL_TEST_VERBOSE");
    for (unsigned i = 0; v != NULL && *v != '0' && i < m.errors.count && i < MANIFEST_MAX_ERRORS;
         i++)
        fprintf(stderr, "  [manifest] %s\n", m.errors.list[i].text);
}

static void parse(const char *s)
{
    parse_n(s, strlen(s));
}

/* A stored error on that line contains needle (and none was cut short). */
static bool check_error(unsigned line, const char *needle, const char *file, int at)
{
    check_state.checks++;
    for (unsigned i = 0; i < m.errors.count && i < MANIFEST_MAX_ERRORS; i++) {
        const struct manifest_error *e = &m.errors.list[i];
        if (strlen(e->text) >= MANIFEST_MSG_MAX - 1) {
            check_fail(file, at, "message cut short: \"%s\"", e->text);
            return false;
        }
        if (e->line == line && strstr(e->text, needle) != NULL)
            return true;
    }
    check_fail(file, at, "no error on line %u contains \"%s\" (%u given; first: \"%s\")", line,
               needle, m.errors.count, m.errors.count ? m.errors.list[0].text : "");
    return false;
}

#define CHECK_ERROR(line, needle) check_error((line), (needle), __FILE__, __LINE__)
#define CHECK_NO_ERRORS()                                                                          \
    CHECK_MSG(m.errors.count == 0, "unexpected error: %s", m.errors.list[0].text)

/* s has exactly one error, on line, containing needle; its VM (if any) is
 * invalid with that reason. */
static void one_error(const char *s, unsigned line, const char *needle)
{
    parse(s);
    CHECK_MSG(m.errors.count == 1, "%u errors for \"%s\"", m.errors.count, s);
    CHECK_ERROR(line, needle);
    if (strncmp(needle, "manifest ", 9) == 0)
        needle += 9; /* reasons are "line <n>: <problem>" */
    for (unsigned i = 0; i < m.vm_count; i++) {
        if (m.vms[i].valid)
            continue;
        CHECK(strstr(m.vms[i].reason, needle) != NULL);
        char at[32];
        snprintf(at, sizeof(at), "line %u: ", line);
        CHECK(strncmp(m.vms[i].reason, at, strlen(at)) == 0);
    }
}

static const char example[] = "# comments start with '#'\n"
                              "[vm hello]               # one section per VM\n"
                              "image     = hello        # boot module holding the guest image\n"
                              "cmdline   = \"hello -v\"   # guest command line\n"
                              "modules   = env          # further boot modules\n"
                              "memory    = 64M          # K, M, G suffixes\n"
                              "cpus      = 1\n"
                              "autostart = yes          # yes | no\n"
                              "on_exit   = keep         # keep | poweroff\n";

static void issue_example(void)
{
    parse(example);
    CHECK_NO_ERRORS();
    CHECK_EQ(valid, 1);
    CHECK_EQ(m.vm_count, 1);
    const struct manifest_vm *vm = &m.vms[0];
    CHECK_STR(vm->name, "hello");
    CHECK_STR(vm->image, "hello");
    CHECK_STR(vm->cmdline, "hello -v");
    CHECK_EQ(vm->module_count, 1);
    CHECK_STR(vm->modules[0], "env");
    CHECK_EQ(vm->memory, 64ull << 20);
    CHECK_EQ(vm->cpus, 1);
    CHECK(vm->autostart);
    CHECK_EQ(vm->on_exit, MANIFEST_ON_EXIT_KEEP);
    CHECK_EQ(vm->line, 2);
    CHECK(vm->valid);
    CHECK_STR(manifest_on_exit_name(vm->on_exit), "keep");
}

static void every_key(void)
{
    parse("[vm web-1.a_b]\n"
          "\timage=linux-6.1\n"
          "cmdline = \"console=ttyS0 quiet # not a comment \\\"q\\\" \\\\ \"\n"
          "modules = initrd, env  data,x.y\n"
          "memory = 2G\n"
          "cpus = 64\n"
          "autostart = no\n"
          "on_exit = poweroff\n"
          "affinity = 0, 2,1 # pinned\n");
    CHECK_NO_ERRORS();
    const struct manifest_vm *vm = &m.vms[0];
    CHECK_STR(vm->name, "web-1.a_b");
    CHECK_STR(vm->image, "linux-6.1");
    CHECK_STR(vm->cmdline, "console=ttyS0 quiet # not a comment \"q\" \\ ");
    CHECK_EQ(vm->module_count, 4);
    CHECK_STR(vm->modules[0], "initrd");
    CHECK_STR(vm->modules[1], "env");
    CHECK_STR(vm->modules[2], "data");
    CHECK_STR(vm->modules[3], "x.y");
    CHECK_EQ(vm->memory, 2ull << 30);
    CHECK_EQ(vm->cpus, 64);
    CHECK(!vm->autostart);
    CHECK_EQ(vm->on_exit, MANIFEST_ON_EXIT_POWEROFF);
    CHECK_STR(manifest_on_exit_name(vm->on_exit), "poweroff");
    CHECK_EQ(vm->affinity_count, 3);
    CHECK(vm->affinity[0] == 0 && vm->affinity[1] == 2 && vm->affinity[2] == 1);
    static const struct {
        const char *text;
        uint64_t bytes;
    } sizes[] = {{"1M", 1 << 20},       {"1024K", 1 << 20},   {"64G", 64ull << 30},
                 {"4100k", 4100 << 10}, {"1048576", 1 << 20}, {"3m", 3 << 20},
                 {"\"8M\"", 8 << 20}};
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char text[96];
        snprintf(text, sizeof(text), "[vm a]\nimage = a\nmemory = %s\n", sizes[i].text);
        parse(text);
        CHECK_NO_ERRORS();
        CHECK_MSG(m.vms[0].memory == sizes[i].bytes, "memory = %s", sizes[i].text);
    }
    static const char *const no[] = {"no", "false", "off", "0"}, *const yes[] = {"true", "on", "1"};
    for (unsigned i = 0; i < 4; i++) {
        char text[96];
        snprintf(text, sizeof(text), "[vm a]\nimage = a\nautostart = %s\n", no[i]);
        parse(text);
        CHECK_MSG(valid == 1 && !m.vms[0].autostart, "autostart = %s", no[i]);
        if (i < 3) {
            snprintf(text, sizeof(text), "[vm a]\nimage = a\nautostart = %s\n", yes[i]);
            parse(text);
            CHECK_MSG(valid == 1 && m.vms[0].autostart, "autostart = %s", yes[i]);
        }
    }
    parse("[vm a]\nimage = a\ncmdline = \"\"\nmodules =\n");
    CHECK_NO_ERRORS();
    CHECK_STR(m.vms[0].cmdline, "");
    CHECK_EQ(m.vms[0].module_count, 0);
    parse("[vm a]\nimage = a\ncmdline = a  b\t c # comment\nmodules = \"m1 m2\"\n");
    CHECK_STR(m.vms[0].cmdline, "a  b\t c");
    CHECK_EQ(m.vms[0].module_count, 2);
}

static void defaults(void)
{
    parse("[vm a]\nimage = img\n");
    CHECK_NO_ERRORS();
    CHECK_EQ(valid, 1);
    const struct manifest_vm *vm = &m.vms[0];
    CHECK_STR(vm->cmdline, "img");
    CHECK_EQ(vm->module_count, 0);
    CHECK_EQ(vm->memory, MANIFEST_DEFAULT_MEMORY);
    CHECK_EQ(vm->memory, 64ull << 20);
    CHECK_EQ(vm->cpus, 1);
    CHECK(vm->autostart);
    CHECK_EQ(vm->on_exit, MANIFEST_ON_EXIT_KEEP);
    CHECK_STR(vm->reason, "");
    /* Empty manifests: nothing to start, nothing wrong. */
    const char *empty[] = {"", "\n\n", "# only a comment", "  \t\r\n", "\xef\xbb\xbf\r\n"};
    for (unsigned i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        parse(empty[i]);
        CHECK_MSG(valid == 0 && m.vm_count == 0 && m.errors.count == 0, "\"%s\"", empty[i]);
    }
    CHECK_EQ(manifest_parse(NULL, 100, &m), 0);
    CHECK_EQ(m.vm_count, 0);
    CHECK_EQ(manifest_parse("[vm a]\nimage=a", 0, &m), 0); /* nothing may be read */
    CHECK_EQ(manifest_parse("x", 1, NULL), -1);
    parse("[vm a]\nimage = a"); /* no final newline */
    CHECK_EQ(valid, 1);
}

static void affinity(void)
{
    parse("[vm a]\nimage = a\ncpus = 4\n");
    CHECK(valid == 1 && m.vms[0].affinity_count == 0); /* default: the vCPUs float */
    parse("[vm a]\nimage = a\naffinity = 1\n");
    CHECK(valid == 1 && m.vms[0].affinity_count == 1 && m.vms[0].affinity[0] == 1);
    parse("[vm a]\nimage = a\naffinity = \"63,0\"\n");
    CHECK(valid == 1 && m.vms[0].affinity_count == 2 && m.vms[0].affinity[0] == 63);
    static const char *const bad[] = {"64", "1,,2", ",1", "1,", "one", "-1", "1 2", "0x1", ""};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[96];
        snprintf(text, sizeof(text), "[vm a]\nimage = a\naffinity = %s\n", bad[i]);
        one_error(text, 3, "expected CPU numbers from 0 to 63 separated by commas (at most 64)");
        CHECK_MSG(!m.vms[0].valid && m.vms[0].affinity_count == 0, "'%s' accepted", bad[i]);
    }
    one_error("[vm a]\nimage = a\naffinity = 1\naffinity = 2\n", 4, "duplicate key 'affinity'");
    char text[256] = "[vm a]\nimage = a\naffinity = 5";
    for (unsigned i = 1; i < 64; i++)
        strcat(text, ",7");
    parse(text);
    CHECK(valid == 1 && m.vms[0].affinity_count == 64 && m.vms[0].affinity[63] == 7);
    strcat(text, ",7\n"); /* 65 entries */
    one_error(text, 3, "affinity = 5,7,7");
}

static void errors_in_sections(void)
{
    one_error("[vm web]\nimage = w\n\n\n\n# x\nmemroy = 64M\n", 7,
              "manifest line 7: unknown key 'memroy' in [vm web] (known: image, cmdline, "
              "modules, memory, cpus, autostart, on_exit, affinity)");
    one_error("[vm a]\nimage = a\nmemory = 12Q\n", 3,
              "manifest line 3: memory = 12Q: expected a size like 64M (K, M, G)");
    one_error("[vm a]\nimage = a\nmemory = 512K\n", 3, "memory = 512K: must be between 1M and 64G");
    one_error("[vm a]\nimage = a\nmemory = 65G\n", 3, "must be between 1M and 64G");
    one_error("[vm a]\nimage = a\nmemory = 99999999999999999999G\n", 3, "expected a size");
    one_error("[vm a]\nimage = a\nmemory = 18014398509481984K\n", 3, "expected a size");
    one_error("[vm a]\nimage = a\nmemory = 1025K\n", 3, "memory = 1025K: must be a multiple of 4K");
    one_error("[vm a]\nimage = a\nmemory = 64 M\n", 3, "expected a size");
    one_error("[vm a]\nimage = a\nmemory = -1M\n", 3, "expected a size");
    one_error("[vm a]\nimage = a\ncpus = 0\n", 3, "cpus = 0: expected a number from 1 to 64");
    one_error("[vm a]\nimage = a\ncpus = 65\n", 3, "cpus = 65: expected a number from 1 to 64");
    one_error("[vm a]\nimage = a\ncpus = two\n", 3, "cpus = two");
    one_error("[vm a]\nimage = a\nautostart = maybe\n", 3, "autostart = maybe: expected yes or no");
    one_error("[vm a]\nimage = a\nautostart = YES\n", 3, "expected yes or no");
    one_error("[vm a]\nimage = a\non_exit = halt\n", 3,
              "on_exit = halt: expected keep or poweroff");
    one_error("[vm a]\nimage = a\nmodules = x,,y\n", 3, "modules: empty entry in the list");
    one_error("[vm a]\nimage = a\nmodules = x,\n", 3, "modules: empty entry");
    one_error("[vm a]\nimage = a\nmodules = ,x\n", 3, "modules: empty entry");
    one_error("[vm a]\nimage = a\nmodules = 1 2 3 4 5 6 7 8 9\n", 3, "more than 8 modules");
    one_error("[vm a]\nimage = a\nmodules = ok b*d\n", 3, "module name 'b*d': only letters");
    one_error("[vm a]\nimage = /boot/a\n", 2, "image name '/boot/a': only letters");
    one_error("[vm a]\nimage =\n", 2, "empty image name");
    one_error("[vm a]\nimage = 0123456789012345678901234567890123456789\n", 2,
              "image name '01234567890123456789012345678901...' is longer than 31 characters");
    one_error("[vm a]\n\nimage = a\ncmdline = \"abc\n", 4, "cmdline: unterminated quoted string");
    one_error("[vm a]\nimage = a\ncmdline = \"abc\\\"\n", 3, "unterminated quoted string");
    one_error("[vm a]\nimage = a\ncmdline = \"ab\\c\"\n", 3, "unknown escape");
    one_error("[vm a]\nimage = a\ncmdline = \"ab\" c\n", 3, "unexpected text after the closing");
    one_error("[vm a]\nimage = a\ncmdline = ab\"c\"\n", 3, "a quote inside an unquoted value");
    one_error("[vm a]\nimage = a\nthis line has no equals sign\n", 3,
              "expected 'key = value' or '[vm <name>]', not 'this line has no equals sign'");
    one_error("[vm a]\nimage = a\nx # = 1\n", 3, "expected 'key = value'");
    one_error("[vm a]\nimage = a\n = 1\n", 3, "missing key before '='");
    one_error("[vm a]\ncpus = 2\n", 1, "[vm a] has no image (image = <boot module name>)");
    CHECK_STR(m.vms[0].reason, "line 1: [vm a] has no image (image = <boot module name>)");
    one_error("[vm a]\nimage = a\nimage = b\n", 3,
              "duplicate key 'image' in [vm a] (first at line 2)");
    CHECK_STR(m.vms[0].image, "a");
    one_error("[vm a]\nimage = a\nmemory = 1M\n\nmemory=2M\n", 5, "first at line 3");
    parse("[vm a]\nimage = a\nmemory = 1Q\nmemory=2M\n"); /* a bad value still counts as set */
    CHECK_EQ(m.errors.count, 2);
    CHECK_ERROR(4, "duplicate key 'memory' in [vm a] (first at line 3)");
    CHECK_STR(m.vms[0].reason, "line 3: memory = 1Q: expected a size like 64M (K, M, G)");
}

static void errors_in_headers(void)
{
    one_error("image = a\n", 1, "manifest line 1: key outside a [vm name] section ('image')");
    one_error("\n# c\n  hello\n", 3, "expected 'key = value' or '[vm <name>]'");
    one_error("[vm a\nimage = a\n", 1, "missing ']' in the section header");
    CHECK_EQ(m.vm_count, 0); /* and its lines are skipped */
    one_error("[vm]\nimage = a\n", 1, "section header without a VM name");
    one_error("[ vm \t ]\n", 1, "section header without a VM name");
    one_error("[vms a]\n", 1, "unknown section '[vms a]' (expected [vm <name>])");
    one_error("[global]\nimage = a\n", 1, "unknown section '[global]'");
    one_error("[VM a]\n", 1, "unknown section '[VM a]'");
    one_error("[vm a b]\nimage = a\n", 1, "VM name 'a b': only letters, digits");
    one_error("[vm a/b]\n", 1, "VM name 'a/b'");
    one_error("[vm a] x\nimage = a\n", 1, "unexpected text after ']'");
    one_error("[vm 0123456789012345678901234567890123456789]\n", 1, "is longer than 31 characters");
    parse("[  vm \t a ] # comment\nimage = a\n[vm 0123456789012345678901234567890]\nimage=b\n");
    CHECK_NO_ERRORS();
    CHECK_STR(m.vms[0].name, "a");
    CHECK_STR(m.vms[1].name, "0123456789012345678901234567890");
    one_error("[vm web]\nimage = a\n\n\n\n\n\n\n[vm web]\nimage = b\n", 9,
              "line 9: duplicate VM name 'web' (first at line 1); neither starts");
    CHECK_EQ(m.vm_count, 1);
    CHECK_EQ(valid, 0);
    CHECK_STR(m.vms[0].image, "a");
}

static void mixed_vms(void)
{
    parse("[vm good1]\nimage = g1\n"
          "[vm bad1]\nimage = b1\ncpus = 100\nmemory = 7\n"
          "[vm noimage]\nmemory = 8M\n"
          "[vm good2]\nimage = g2\nmodules = m\n"
          "[bogus]\nimage = skipped\n"
          "[vm good3]\nimage = g3\n");
    CHECK_EQ(valid, 3);
    CHECK_EQ(m.vm_count, 5);
    CHECK_EQ(m.errors.count, 4);
    CHECK(m.vms[0].valid && m.vms[3].valid && m.vms[4].valid);
    CHECK(!m.vms[1].valid && !m.vms[2].valid);
    CHECK_STR(m.vms[1].reason, "line 5: cpus = 100: expected a number from 1 to 64");
    CHECK_ERROR(6, "memory = 7: must be between 1M and 64G");
    CHECK_STR(m.vms[2].reason, "line 7: [vm noimage] has no image (image = <boot module name>)");
    CHECK_ERROR(12, "unknown section '[bogus]'");
    CHECK_STR(m.vms[4].name, "good3");
    CHECK_EQ(m.vms[4].line, 14);
}

static void crlf_and_whitespace(void)
{
    parse("\xef\xbb\xbf# c\r\n[vm a]\r\nimage = a\r\ncmdline = \"x y\"\r\nmodules = p, q\r\n\r\n"
          "memory = 8M\t\r\n[vm b]   \r\n  image=b  # c\r\n");
    CHECK_NO_ERRORS();
    CHECK_EQ(valid, 2);
    CHECK_STR(m.vms[0].cmdline, "x y");
    CHECK_STR(m.vms[0].modules[1], "q");
    CHECK_EQ(m.vms[0].memory, 8 << 20);
    CHECK_STR(m.vms[1].image, "b");
    CHECK_EQ(m.vms[1].line, 8);
    one_error("[vm a]\nimage = a\ncmdline = x\ry\n", 3, "control character 0x0d in column 12");
}

static void nul_bytes(void)
{
    static const char text[] = "[vm a]\nimage = a\ncmd\0line = x\n[vm b]\nimage = b\n";
    parse_n(text, sizeof(text) - 1);
    CHECK_EQ(m.errors.count, 1);
    CHECK_ERROR(3, "control character 0x00 in column 4 (the manifest must be text)");
    CHECK(!m.vms[0].valid && m.vms[1].valid);
    static const char header[] = "[vm a]\nimage = a\n[vm\0 c]\ncpus = 2\n";
    parse_n(header, sizeof(header) - 1);
    CHECK_EQ(m.errors.count, 1); /* the unreadable header's lines are skipped */
    CHECK_EQ(m.vm_count, 1);
    CHECK_EQ(m.vms[0].cpus, 1);
    static const char padded[] = "[vm a]\nimage = a\n\0\0\0\0\0\0";
    parse_n(padded, sizeof(padded)); /* trailing NULs end the text */
    CHECK_NO_ERRORS();
    CHECK_EQ(valid, 1);
    parse_n("\0\0\0", 3);
    CHECK_EQ(m.errors.count + m.vm_count, 0);
}

/* Builds text of size bytes: `fill` repeated after prefix, then suffix. */
static char *repeat(const char *prefix, const char *fill, const char *suffix, size_t count)
{
    size_t fl = strlen(fill), n = strlen(prefix) + fl * count + strlen(suffix);
    char *s = malloc(n + 1), *at = s + strlen(prefix);
    strcpy(s, prefix);
    for (size_t i = 0; i < count; i++, at += fl)
        memcpy(at, fill, fl);
    strcpy(at, suffix);
    return s;
}

static void huge_input(void)
{
    char *s = repeat("", "# a comment line\n", "[vm late]\nimage = l\n", 100000);
    parse(s);
    free(s);
    CHECK_NO_ERRORS();
    CHECK_EQ(m.vms[0].line, 100001);
    s = repeat("[vm a]\nimage = a\ncmdline = ", "x", "\n", 1 << 20);
    parse(s);
    free(s);
    CHECK_ERROR(3, "cmdline: value longer than 255 characters");
    s = repeat("[vm a]\nimage = a\ncmdline = \"", "\\\\", "\"\n", 1 << 16);
    parse(s);
    free(s);
    CHECK_ERROR(3, "cmdline: value longer than 255 characters");
    s = repeat("[vm a]\nimage = a\ncmdline = ", "y", "\n", 255);
    parse(s);
    free(s);
    CHECK_NO_ERRORS();
    CHECK_EQ(strlen(m.vms[0].cmdline), 255);
    s = repeat("[vm a]\nimage = a\n", "cpus = 0\n", "", 1000);
    parse(s);
    free(s);
    CHECK_EQ(m.errors.count, 1000); /* one bad value, then 999 duplicates */
    CHECK_ERROR(3, "cpus = 0");
    CHECK_ERROR(18, "duplicate key 'cpus' in [vm a] (first at line 3)");
    CHECK_EQ(m.errors.list[MANIFEST_MAX_ERRORS - 1].line, 18);
    CHECK_STR(m.vms[0].reason, "line 3: cpus = 0: expected a number from 1 to 64");
}

static void too_many_vms(void)
{
    char text[4096] = "";
    for (unsigned i = 0; i <= MANIFEST_MAX_VMS; i++) {
        char vm[64];
        snprintf(vm, sizeof(vm), "[vm v%u]\nimage = i%u\n", i, i);
        strcat(text, vm);
    }
    one_error(text, 33, "too many VMs: [vm v16] is one more than 16; its lines are skipped");
    CHECK_EQ(valid, MANIFEST_MAX_VMS);
    CHECK_EQ(m.vm_count, MANIFEST_MAX_VMS);
    CHECK_STR(m.vms[15].name, "v15");
}

static void long_names_fit_messages(void)
{
    const char *name = "[vm 0123456789012345678901234567890]\nimage = a\n";
    char text[512];
    snprintf(text, sizeof(text), "%s%s", name,
             "0123456789012345678901234567890123456789012345678901234567890123456789 = 1\n");
    one_error(text, 3, "unknown key '01234567890123456789012345678901...' in [vm 0123456789");
    CHECK(strlen(m.vms[0].reason) < MANIFEST_MSG_MAX - 1);
}

static void numbers(void)
{
    uint64_t v;
    bool over;
    CHECK_EQ(parse_digits("123abc", 6, 10, &v, &over), 3);
    CHECK(v == 123 && !over);
    CHECK_EQ(parse_digits("fFz", 3, 16, &v, &over), 2);
    CHECK_EQ(v, 0xff);
    CHECK_EQ(parse_digits("x", 1, 10, &v, &over), 0);
    CHECK_EQ(parse_digits("12", 2, 1, &v, &over), 0);
    CHECK_EQ(parse_digits("18446744073709551616", 20, 10, &v, &over), 20);
    CHECK(over && v == UINT64_MAX);
    CHECK(parse_u64("18446744073709551615", 20, &v) && v == UINT64_MAX);
    CHECK(!parse_u64("18446744073709551616", 20, &v));
    CHECK(!parse_u64("", 0, &v) && !parse_u64("1 ", 2, &v) && !parse_u64("+1", 2, &v));
    CHECK(parse_u64("0042", 4, &v) && v == 42);
    CHECK(parse_u64("123", 2, &v) && v == 12); /* bounded by len */
    CHECK(parse_size("16T", 3, &v) && v == 16ull << 40);
    CHECK(parse_size("16777215T", 9, &v) && v == 16777215ull << 40);
    CHECK(!parse_size("16777216T", 9, &v));
    CHECK(!parse_size("1MB", 3, &v) && !parse_size("M", 1, &v) && !parse_size("1X", 2, &v));
}

int main(void)
{
    check_begin("manifest");
    RUN(issue_example);
    RUN(every_key);
    RUN(defaults);
    RUN(errors_in_sections);
    RUN(affinity);
    RUN(errors_in_headers);
    RUN(mixed_vms);
    RUN(crlf_and_whitespace);
    RUN(nul_bytes);
    RUN(huge_input);
    RUN(too_many_vms);
    RUN(long_names_fit_messages);
    RUN(numbers);
    return check_finish();
}
