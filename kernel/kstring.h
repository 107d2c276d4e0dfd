/*
 * Memory and string primitives used by the core and by the pure-logic modules
 * that are also built for the host (where the C library provides them).
 * The prototypes match ISO C so both builds agree.
 */
#ifndef KEEL_KSTRING_H
#define KEEL_KSTRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* Copies at most size-1 bytes and always terminates (when size > 0). */
size_t kstrlcpy(char *dst, const char *src, size_t size);

#endif
