/*
 * Invariant checks shared by the libFuzzer targets: a violated one prints
 * what failed and aborts, which libFuzzer reports as a crash with the input.
 */
#ifndef KEEL_FUZZ_CHECK_H
#define KEEL_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define REQUIRE_OK(why)                                                                            \
    do {                                                                                           \
        const char *why_ = (why);                                                                  \
        if (why_ != NULL) {                                                                        \
            fprintf(stderr, "invariant failed: %s: %s (%s:%d)\n", #why, why_, __FILE__, __LINE__); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Every stored message is terminated within its slot. */
static inline void require_diag_sound(const struct diag *d)
{
    for (unsigned i = 0; i < d->count && i < DIAG_MAX; i++)
        REQUIRE(memchr(d->msg[i], '\0', DIAG_LEN) != NULL);
}

static inline void require_terminated(const char *s, size_t size)
{
    REQUIRE(memchr(s, '\0', size) != NULL);
}

#endif
