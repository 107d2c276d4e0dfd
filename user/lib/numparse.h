/*
 * Number parsing for ring-3 code, strtoul-like but strict and bounded: the
 * input is (pointer, length), never read past length, need not be
 * NUL-terminated. Pure: built into libkeel and into host tests.
 */
#ifndef KEEL_USER_NUMPARSE_H
#define KEEL_USER_NUMPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads the digits of base (2..36, letters either case) at the start of
 * s[0..len) into *value, as strtoull would without sign, blanks or "0x".
 * Returns how many characters it used (0: none, *value = 0); *overflow says
 * whether the number exceeded 64 bits (then *value is UINT64_MAX). */
size_t parse_digits(const char *s, size_t len, unsigned base, uint64_t *value, bool *overflow);

/* All of s[0..len) is one decimal number that fits 64 bits. */
bool parse_u64(const char *s, size_t len, uint64_t *value);

/* All of s[0..len) is a size: a decimal number with an optional binary
 * suffix K, M, G or T (either case; x1024, x1024^2, ...), e.g. "64M";
 * false when malformed or beyond 64 bits. */
bool parse_size(const char *s, size_t len, uint64_t *bytes);

#endif
