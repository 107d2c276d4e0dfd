/*
 * printf-style formatting into a bounded buffer, for printk and for the
 * diagnostics of the boot-input parsers. Supports %d %i %u %x %X %o %c %s %p %%,
 * the length modifiers hh h l ll z t j, width, precision ('*' too), and the
 * flags '-', '0', '+', ' ', '#'. Always terminates when size > 0; returns the
 * length the full output would have had (as C99 snprintf).
 */
#ifndef KEEL_FMT_H
#define KEEL_FMT_H

#include <stdarg.h>
#include <stddef.h>

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
