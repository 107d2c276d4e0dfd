/*
 * The small C library of ring-3 partitions: formatted console output and a
 * heap. The memory and string functions are the core's (kstring.h, built
 * from kernel/string.c and kernel/strutil.c); numparse.h parses numbers.
 */
#ifndef KEEL_USER_LIBC_H
#define KEEL_USER_LIBC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "kstring.h"

/* The exit status of a partition that called abort(). */
#define KEEL_ABORT_STATUS 134

/* Formatted output to the partition's console (fmt.h's conversions). Output
 * of any length is written whole; returns the number of bytes written or a
 * negative KEEL_E* code. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int puts(const char *s); /* s and a newline */

/* As C99, over fmt_vsnprintf. */
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* abort() prints "abort", keel_fatal() its message (cut to 511 bytes, no
 * heap used); both end the partition with KEEL_ABORT_STATUS. */
_Noreturn void abort(void);
_Noreturn void keel_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The heap (malloc.c): 16-byte aligned blocks; thread-safe. free() of a
 * pointer that is not a live block (a double free, a stray pointer) is
 * fatal. */
void *malloc(size_t size);
void free(void *ptr);
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);

#endif
