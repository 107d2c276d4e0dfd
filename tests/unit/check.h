/*
 * Minimal host test harness. Each case is a void function run by RUN(); it
 * prints "PASS <module>.<case>" or "FAIL <module>.<case>: <first failure>".
 * check_finish() returns the process exit status (1 if any case failed).
 * KEEL_TEST_VERBOSE=1 in the environment also prints diagnostics (diag_print).
 */
#ifndef KEEL_TEST_CHECK_H
#define KEEL_TEST_CHECK_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static struct {
    const char *module;
    unsigned passed, failed, checks;
    bool case_failed;
    char why[512];
} check_state;

static inline void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void check_fail(const char *file, int line, const char *fmt, ...)
{
    if (check_state.case_failed)
        return; /* report the first failure of a case */
    check_state.case_failed = true;
    int n = snprintf(check_state.why, sizeof(check_state.why), "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(check_state.why + n, sizeof(check_state.why) - (size_t)n, fmt, ap);
    va_end(ap);
}

static inline bool check_true(bool ok, const char *file, int line, const char *expr)
{
    check_state.checks++;
    if (!ok)
        check_fail(file, line, "%s", expr);
    return ok;
}

static inline bool check_eq(uint64_t a, uint64_t b, const char *file, int line, const char *ea,
                            const char *eb)
{
    check_state.checks++;
    if (a != b)
        check_fail(file, line, "%s == %s: 0x%" PRIx64 " != 0x%" PRIx64, ea, eb, a, b);
    return a == b;
}

static inline bool check_str(const char *a, const char *b, const char *file, int line,
                             const char *ea)
{
    check_state.checks++;
    bool ok = a != NULL && b != NULL && strcmp(a, b) == 0;
    if (!ok)
        check_fail(file, line, "%s: \"%s\" != \"%s\"", ea, a ? a : "(null)", b ? b : "(null)");
    return ok;
}

/* True when one stored diagnostic contains needle. */
static inline bool diag_has(const struct diag *d, const char *needle)
{
    for (unsigned i = 0; i < d->count && i < DIAG_MAX; i++) {
        if (strstr(d->msg[i], needle) != NULL)
            return true;
    }
    return false;
}

/* A stored message that fills DIAG_LEN was probably cut short. */
static inline bool diag_truncated(const struct diag *d, const char *file, int line)
{
    for (unsigned i = 0; i < d->count && i < DIAG_MAX; i++) {
        if (strlen(d->msg[i]) >= DIAG_LEN - 1) {
            check_fail(file, line, "diagnostic cut at %d bytes: \"%s\"", DIAG_LEN - 1, d->msg[i]);
            return true;
        }
    }
    return false;
}

static inline bool check_diag(const struct diag *d, const char *needle, const char *file, int line)
{
    check_state.checks++;
    if (diag_truncated(d, file, line))
        return false;
    if (diag_has(d, needle))
        return true;
    check_fail(file, line, "no diagnostic contains \"%s\" (%u given; first: \"%s\")", needle,
               d->count, d->count ? d->msg[0] : "");
    return false;
}

static inline bool check_no_diag(const struct diag *d, const char *file, int line)
{
    check_state.checks++;
    if (d->count == 0)
        return true;
    check_fail(file, line, "unexpected diagnostic (%u given): \"%s\"", d->count, d->msg[0]);
    return false;
}

/* why == NULL means the property held; else why says what was wrong. */
static inline bool check_ok(const char *why, const char *file, int line, const char *expr)
{
    check_state.checks++;
    if (why != NULL)
        check_fail(file, line, "%s: %s", expr, why);
    return why == NULL;
}

static inline void diag_print(const char *what, const struct diag *d)
{
    const char *v = getenv("KEEL_TEST_VERBOSE");
    if (v == NULL || *v == '0')
        return;
    for (unsigned i = 0; i < d->count && i < DIAG_MAX; i++)
        fprintf(stderr, "  [%s] %s\n", what, d->msg[i]);
}

#define CHECK(cond)          check_true((cond), __FILE__, __LINE__, #cond)
#define CHECK_EQ(a, b)       check_eq((uint64_t)(a), (uint64_t)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_STR(a, b)      check_str((a), (b), __FILE__, __LINE__, #a)
#define CHECK_DIAG(d, s)     check_diag((d), (s), __FILE__, __LINE__)
#define CHECK_NO_DIAG(d)     check_no_diag((d), __FILE__, __LINE__)
#define CHECK_OK(why)        check_ok((why), __FILE__, __LINE__, #why)
#define CHECK_MSG(cond, ...) ((cond) ? (check_state.checks++, true) : (FAILF(__VA_ARGS__), false))
#define FAILF(...)           check_fail(__FILE__, __LINE__, __VA_ARGS__)

static inline void check_run(const char *name, void (*fn)(void))
{
    check_state.case_failed = false;
    unsigned before = check_state.checks;
    fn();
    if (!check_state.case_failed && check_state.checks == before)
        check_fail(__FILE__, __LINE__, "the case checked nothing");
    if (check_state.case_failed) {
        check_state.failed++;
        printf("FAIL %s.%s: %s\n", check_state.module, name, check_state.why);
    } else {
        check_state.passed++;
        printf("PASS %s.%s\n", check_state.module, name);
    }
    fflush(stdout);
}

#define RUN(fn) check_run(#fn, fn)

static inline void check_begin(const char *module)
{
    check_state.module = module;
}

static inline int check_finish(void)
{
    fprintf(stderr, "%s: %u passed, %u failed\n", check_state.module, check_state.passed,
            check_state.failed);
    return check_state.failed ? 1 : 0;
}

#endif
