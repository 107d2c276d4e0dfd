/*
 * The VMM's argument string, written by the root partition (user/init) from
 * the VM's manifest section (docs/vmm.md, "Arguments"):
 *
 *   memory=<size> cpus=<n> affinity=<cpu list> cmdline=<guest command line, to the end>
 *
 * Keys are separated by blanks and may come in any order, each at most
 * once; cmdline= comes last and takes the rest of the string verbatim. The
 * size takes K, M, G suffixes; the CPU list is CPU numbers (below 64)
 * separated by commas, e.g. "1" or "0,1": vCPU i runs on CPU list[i % n]. The VM's name is the
 * partition's name; its image is module handle 1 and its further modules handles 2.. in order.
 * Pure: built for ring 3 and for host tests.
 */
#ifndef KEEL_VMM_ARGS_H
#define KEEL_VMM_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../include/keel/start.h" /* relative: also built by the host tests */

#define VMM_DEFAULT_MEMORY (64ull << 20)
#define VMM_MIN_MEMORY     (1ull << 20)
#define VMM_MAX_MEMORY     (3ull << 30) /* below the 32-bit MMIO hole */
#define VMM_MAX_CPUS       64
#define VMM_MAX_AFFINITY   64 /* entries of affinity=, as numparse.h's CPU_LIST_MAX */
#define VMM_ARGS_ERROR_MAX 128

struct vmm_args {
    uint64_t memory; /* bytes, a multiple of 4 KiB */
    unsigned cpus;
    uint8_t affinity[VMM_MAX_AFFINITY]; /* physical CPU numbers (< 64) */
    unsigned affinity_count;            /* 0: the vCPUs float */
    char cmdline[KEEL_START_ARGS_MAX];  /* "" when not given */
};

/* Parses args (NUL-terminated, at most KEEL_START_ARGS_MAX - 1 characters
 * are looked at) into *out; false with a message in why
 * (VMM_ARGS_ERROR_MAX bytes) when something is wrong. */
bool vmm_parse_args(const char *args, struct vmm_args *out, char *why);

#endif
