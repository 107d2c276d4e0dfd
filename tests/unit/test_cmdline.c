/* Host unit tests of kernel/cmdline.c. */
#include "check.h"
#include "cmdline.h"

static struct cmdline_options o;

/* Parses s from an exact-size heap copy without a NUL, so ASan catches a
 * read past max_len. */
static void parse(const char *s)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    cmdline_parse(copy, n, &o);
    diag_print("cmdline", &o.warnings);
    free(copy);
}

static void defaults(void)
{
    cmdline_parse(NULL, 100, &o);
    CHECK_EQ(o.console, CONSOLE_COM1);
    CHECK_EQ(o.loglevel, LOGLEVEL_DEFAULT);
    CHECK_EQ(o.test_flags, 0);
    CHECK_NO_DIAG(&o.warnings);
    parse("");
    CHECK_EQ(o.console, CONSOLE_COM1);
    CHECK_NO_DIAG(&o.warnings);
    parse(" \t\r\n ");
    CHECK_EQ(o.loglevel, 6);
    CHECK_NO_DIAG(&o.warnings);
    cmdline_parse("console=com2", 0, &o); /* nothing may be read */
    CHECK_EQ(o.console, CONSOLE_COM1);
}

static void console_values(void)
{
    parse("console=com2");
    CHECK_EQ(o.console, CONSOLE_COM2);
    CHECK_NO_DIAG(&o.warnings);
    parse("console=none");
    CHECK_EQ(o.console, CONSOLE_NONE);
    parse("console=com2 console=com1");
    CHECK_EQ(o.console, CONSOLE_COM1); /* last wins */
    CHECK_NO_DIAG(&o.warnings);
    parse("console=ttyS0");
    CHECK_EQ(o.console, CONSOLE_COM1);
    CHECK_DIAG(&o.warnings, "console=ttyS0 is not com1, com2 or none; kept com1");
    parse("console=com2 console=COM1");
    CHECK_EQ(o.console, CONSOLE_COM2);
    CHECK_DIAG(&o.warnings, "kept com2");
    parse("console=");
    CHECK_EQ(o.warnings.count, 1);
}

static void loglevel_values(void)
{
    for (int i = 0; i <= 7; i++) {
        char buf[32];
        snprintf(buf, sizeof(buf), "loglevel=%d", i);
        parse(buf);
        CHECK_EQ(o.loglevel, i);
        CHECK_NO_DIAG(&o.warnings);
    }
    parse("loglevel=007");
    CHECK_EQ(o.loglevel, 7);
    const char *bad[] = {"loglevel=8",  "loglevel=",     "loglevel=-1",
                         "loglevel=1x", "loglevel=0007", "loglevel=99999999999999999999",
                         "loglevel=+3", "loglevel= 3"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse(bad[i]);
        CHECK_EQ(o.loglevel, LOGLEVEL_DEFAULT);
        CHECK_MSG(o.warnings.count >= 1, "no warning for %s", bad[i]);
    }
    parse("loglevel=8");
    CHECK_DIAG(&o.warnings, "loglevel=8 is not 0..7; kept 6");
    parse("loglevel=2 loglevel=9");
    CHECK_EQ(o.loglevel, 2);
}

static void test_switches(void)
{
    parse("keel.test=fault");
    CHECK_EQ(o.test_flags, KEEL_TEST_FAULT);
    parse("keel.test=fault,acpi-bad-checksum,acpi-truncated,madt-extra-cpus,bad-memmap");
    CHECK_EQ(o.test_flags, KEEL_TEST_FAULT | KEEL_TEST_ACPI_BAD_CHECKSUM |
                               KEEL_TEST_ACPI_TRUNCATED | KEEL_TEST_MADT_EXTRA_CPUS |
                               KEEL_TEST_BAD_MEMMAP);
    CHECK_NO_DIAG(&o.warnings);
    parse("keel.test=,bad-memmap,,");
    CHECK_EQ(o.test_flags, KEEL_TEST_BAD_MEMMAP);
    CHECK_NO_DIAG(&o.warnings);
    parse("keel.test=fault keel.test=acpi-truncated");
    CHECK_EQ(o.test_flags, KEEL_TEST_ACPI_TRUNCATED); /* last wins */
    parse("keel.test=fault,nonsense,Fault,faultx");
    CHECK_EQ(o.test_flags, KEEL_TEST_FAULT);
    CHECK_EQ(o.warnings.count, 3);
    CHECK_DIAG(&o.warnings, "keel.test switch 'nonsense' unknown; ignored");
    parse("keel.test=");
    CHECK_EQ(o.test_flags, 0);
}

static void image_path_skipped(void)
{
    parse("/boot/keel.elf console=com2");
    CHECK_EQ(o.console, CONSOLE_COM2);
    CHECK_NO_DIAG(&o.warnings);
    parse("keel.elf loglevel=3");
    CHECK_EQ(o.loglevel, 3);
    CHECK_NO_DIAG(&o.warnings);
    parse("build/keel console=none");
    CHECK_NO_DIAG(&o.warnings);
    parse("keel console=none"); /* not a path */
    CHECK_DIAG(&o.warnings, "unknown option 'keel' ignored");
    parse("console=none /boot/keel.elf"); /* not first */
    CHECK_DIAG(&o.warnings, "unknown option '/boot/keel.elf' ignored");
    parse("/a /b");
    CHECK_EQ(o.warnings.count, 1);
}

static void unknown_and_malformed(void)
{
    parse("quiet foo=bar =x console=com2 ==");
    CHECK_EQ(o.console, CONSOLE_COM2);
    CHECK_EQ(o.warnings.count, 4);
    CHECK_DIAG(&o.warnings, "unknown option 'quiet' ignored");
    CHECK_DIAG(&o.warnings, "unknown option 'foo=bar' ignored");
    CHECK_DIAG(&o.warnings, "option '=x' has no name; ignored");
    parse("console=com2=com1");
    CHECK_EQ(o.console, CONSOLE_COM1);
    CHECK_EQ(o.warnings.count, 1);
}

static void control_bytes(void)
{
    parse("console=com2\x01loglevel=3\x7f\xff keel.test=fault\x1b");
    CHECK_EQ(o.console, CONSOLE_COM2);
    CHECK_EQ(o.loglevel, 3);
    CHECK_EQ(o.test_flags, KEEL_TEST_FAULT);
    CHECK_EQ(o.warnings.count, 1);
    CHECK_DIAG(&o.warnings, "control or non-ASCII bytes; taken as spaces");
}

static void stops_at_nul_and_max_len(void)
{
    cmdline_parse("console=com2\0console=none", 26, &o);
    CHECK_EQ(o.console, CONSOLE_COM2);
    cmdline_parse("loglevel=3", 9, &o); /* "loglevel=" */
    CHECK_EQ(o.loglevel, 6);
    CHECK_EQ(o.warnings.count, 1);
}

static void long_lines(void)
{
    char *line = malloc(3000);
    memset(line, ' ', 3000);
    memcpy(line, "console=none", 12);
    /* A word straddling byte 1024 is dropped whole. */
    memcpy(line + CMDLINE_MAX - 5, "loglevel=1", 10);
    memcpy(line + 2000, "keel.test=fault", 15);
    cmdline_parse(line, 3000, &o);
    CHECK_EQ(o.console, CONSOLE_NONE);
    CHECK_EQ(o.loglevel, 6);
    CHECK_EQ(o.test_flags, 0);
    CHECK_EQ(o.warnings.count, 1);
    CHECK_DIAG(&o.warnings, "longer than 1024 bytes; the rest was ignored");
    /* A word ending exactly at 1024 is whole. */
    memset(line, ' ', 3000);
    memcpy(line + CMDLINE_MAX - 10, "loglevel=1", 10);
    cmdline_parse(line, 3000, &o);
    CHECK_EQ(o.loglevel, 1);
    /* Exactly 1024 bytes and no more: no warning. */
    cmdline_parse(line, CMDLINE_MAX, &o);
    CHECK_EQ(o.loglevel, 1);
    CHECK_NO_DIAG(&o.warnings);
    /* One huge word: quoted in part, never overflowing the message. */
    memset(line, 'x', 3000);
    cmdline_parse(line, 1000, &o);
    CHECK_EQ(o.warnings.count, 1);
    CHECK(strlen(o.warnings.msg[0]) < DIAG_LEN);
    CHECK(strstr(o.warnings.msg[0], "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'") != NULL);
    free(line);
}

static void many_warnings(void)
{
    char line[1024] = "";
    for (int i = 0; i < 100; i++)
        strcat(line, "a ");
    parse(line);
    CHECK_EQ(o.warnings.count, 100);
    CHECK_DIAG(&o.warnings, "unknown option 'a' ignored");
}

int main(void)
{
    check_begin("cmdline");
    RUN(defaults);
    RUN(console_values);
    RUN(loglevel_values);
    RUN(test_switches);
    RUN(image_path_skipped);
    RUN(unknown_and_malformed);
    RUN(control_bytes);
    RUN(stops_at_nul_and_max_len);
    RUN(long_lines);
    RUN(many_warnings);
    return check_finish();
}
