/* Bounded collection of parser diagnostics (see diag.h). */
#include "diag.h"
#include "fmt.h"

void diag_add(struct diag *d, const char *fmt, ...)
{
    if (d->count < DIAG_MAX) {
        va_list ap;
        va_start(ap, fmt);
        fmt_vsnprintf(d->msg[d->count], DIAG_LEN, fmt, ap);
        va_end(ap);
    }
    d->count++;
}
