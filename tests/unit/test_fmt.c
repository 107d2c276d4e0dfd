/*
 * Host unit tests of kernel/fmt.c: its output and return value compared
 * with the C library's snprintf over the conversions fmt.h promises, plus
 * truncation and the precision bound on %s.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fmt.h"

#define SAME(...)                                                                                  \
    do {                                                                                           \
        char a[256], b[256];                                                                       \
        memset(a, 'Z', sizeof(a));                                                                 \
        int ra = fmt_snprintf(a, sizeof(a), __VA_ARGS__);                                          \
        int rb = snprintf(b, sizeof(b), __VA_ARGS__);                                              \
        CHECK_MSG(ra == rb && strcmp(a, b) == 0, "%s: \"%s\" (%d) != libc \"%s\" (%d)",            \
                  #__VA_ARGS__, a, ra, b, rb);                                                     \
    } while (0)

static void integers(void)
{
    SAME("%d %i %u", 0, -1, 4000000000u);
    SAME("%d", (int)0x80000000);
    SAME("%x %X %o", 0xdeadbeefu, 0xabcu, 8u);
    SAME("%ld %lu %lx", -1234567890123l, 18446744073709551615ul, 0xfffffffffffful);
    SAME("%lld %llu %llx", (long long)INT64_MIN, 0ull, 0x0123456789abcdefull);
    SAME("%hhd %hhu %hd %hu", (signed char)-5, (unsigned char)250, (short)-300,
         (unsigned short)65535);
    SAME("%zu %zx %td %jd", (size_t)12345, (size_t)0xfff, (ptrdiff_t)-7, (intmax_t)-9);
}

static void widths_and_flags(void)
{
    SAME("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
    SAME("[%08x] [%#x] [%#o] [%#X]", 0xabcu, 0xabcu, 8u, 0xffu);
    SAME("[%*d] [%-*d] [%.*d]", 6, 7, 6, 7, 4, 7);
    SAME("[%.3d] [%.0d] [%5.3d] [%-8.3x]", 5, 0, -5, 0xau);
    SAME("[%+05d] [%-+5d] [%016llx]", -42, 42, 0x1234ull);
    SAME("[%02x:%02x]", 0xau, 0xbcu);
}

static void strings_and_chars(void)
{
    SAME("%s|%10s|%-10s|%.2s|%c|%%", "abc", "abc", "abc", "abc", 'x');
    SAME("%.*s|%.0s|%s", 3, "abcdef", "gone", "");
    SAME("%5c|%-3c|", 'a', 'b');
}

static void pointers(void)
{
    char a[64], b[64];
    int x;
    fmt_snprintf(a, sizeof(a), "%p", (void *)&x);
    snprintf(b, sizeof(b), "%p", (void *)&x);
    CHECK_STR(a, b);
}

static void truncation(void)
{
    char buf[8];
    memset(buf, 'Z', sizeof(buf));
    CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%s", "hello, world"), 12);
    CHECK_STR(buf, "hello, ");
    memset(buf, 'Z', sizeof(buf));
    CHECK_EQ(fmt_snprintf(buf, 1, "%d", 12345), 5);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(buf[1], 'Z');
    CHECK_EQ(fmt_snprintf(NULL, 0, "%x", 0xffffu), 4);
    CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%llu", 18446744073709551615ull), 20);
    CHECK_STR(buf, "1844674");
}

/* C11 7.21.6.1p8: with a precision, %s reads no more than that many bytes,
 * so the argument need not be terminated. Run in a child: an over-read
 * aborts it under AddressSanitizer. */
static void precision_bounds_the_read(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *word = malloc(4);
        memcpy(word, "abcd", 4); /* no NUL */
        char buf[16];
        fmt_snprintf(buf, sizeof(buf), "%.*s|%.4s", 4, word, word);
        _exit(strcmp(buf, "abcd|abcd") == 0 ? 0 : 2);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "fmt reads %%.Ns past N bytes (child status 0x%x)", status);
}

int main(void)
{
    check_begin("fmt");
    RUN(integers);
    RUN(widths_and_flags);
    RUN(strings_and_chars);
    RUN(pointers);
    RUN(truncation);
    RUN(precision_bounds_the_read);
    return check_finish();
}
