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

/* A CPU list, the manifest's and the VMM's affinity (docs/manifest.md):
 * decimal CPU numbers below CPU_LIST_MAX separated by commas, blanks
 * allowed around each, e.g. "1" or "0, 2"; at most CPU_LIST_MAX entries
 * (a number may repeat). All of s[0..len) must be such a list, with no
 * empty entry; the numbers go to cpus[0 ..] and their count to *count
 * (0 and false when malformed). CPU_LIST_MAX is the width of a
 * KEEL_HC_THREAD_AFFINITY mask. */
#define CPU_LIST_MAX 64
bool parse_cpu_list(const char *s, size_t len, uint8_t cpus[CPU_LIST_MAX], unsigned *count);

#endif
