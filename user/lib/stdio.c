/* Console output of ring-3 partitions: printf and friends (libc.h). */
#include "keel.h"
#include "libc.h"

#define PRINTF_BUF 512

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    return fmt_vsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* Output longer than the stack buffer is formatted again into a heap buffer
 * of the right size; without memory, it is written cut short. */
int vprintf(const char *fmt, va_list ap)
{
    char small[PRINTF_BUF];
    va_list again;
    va_copy(again, ap);
    int n = fmt_vsnprintf(small, sizeof(small), fmt, ap);
    char *buf = small;
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len >= sizeof(small)) {
        char *big = malloc(len + 1);
        if (big != NULL) {
            fmt_vsnprintf(big, len + 1, fmt, again);
            buf = big;
        } else {
            len = sizeof(small) - 1;
        }
    }
    va_end(again);
    long ret = keel_console_write_all(buf, len);
    if (buf != small)
        free(buf);
    return ret < 0 ? (int)ret : (int)len;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    long ret = keel_console_write_all(s, strlen(s));
    if (ret == 0)
        ret = keel_console_write_all("\n", 1);
    return ret < 0 ? (int)ret : 0;
}

/* Formats on the stack only: it may be called with the heap locked or
 * broken. */
_Noreturn void keel_fatal(const char *fmt, ...)
{
    char buf[PRINTF_BUF];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n;
    keel_console_write_all(buf, len < sizeof(buf) ? len : sizeof(buf) - 1);
    keel_exit(KEEL_ABORT_STATUS);
}

_Noreturn void abort(void)
{
    keel_fatal("abort\n");
}
