/* What the core hands a new partition's first thread (DESIGN.md section 5):
 * RDI points at this structure, at the top of its stack page; RSP is 16-byte
 * aligned just below it. */
#ifndef KEEL_ABI_START_H
#define KEEL_ABI_START_H

#include <stdint.h>

#define KEEL_START_MAGIC    0x5452534bu /* "KSRT" */
#define KEEL_NAME_MAX       32
#define KEEL_START_ARGS_MAX 256

/* User address space layout of a partition. */
#define KEEL_USER_IMAGE_BASE 0x400000ull       /* ELF images are linked here or above */
#define KEEL_USER_STACK_TOP  0x7ffffff00000ull /* first thread's stack grows down from here */
#define KEEL_USER_STACK_SIZE (64 * 1024ull)
#define KEEL_USER_LIMIT      0x0000800000000000ull /* canonical lower half */

struct keel_start_info {
    uint32_t magic;
    uint32_t module_count;          /* modules granted read-only: handles 1 .. module_count */
    char name[KEEL_NAME_MAX];       /* the partition's name, NUL-terminated */
    char args[KEEL_START_ARGS_MAX]; /* its argument string, NUL-terminated */
    /* Time (the TSC runs at the same rate on every CPU; RDTSC works in ring 3). */
    uint64_t tsc_khz;   /* TSC ticks per millisecond */
    uint64_t boot_tsc;  /* the TSC when wallclock was read */
    uint64_t wallclock; /* Unix seconds at boot_tsc, from the host's CMOS clock; 0: unknown */
};

#endif
