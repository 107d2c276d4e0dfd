/*
 * The boot manifest: which VMs the root partition starts (docs/manifest.md).
 * An INI-like text from the boot module named "manifest":
 *
 *   [vm web]              one section per VM
 *   image   = web-kernel  boot module holding the guest image (required)
 *   cmdline = "web -v"    guest command line (default: the image name)
 *   modules = env, data   further boot modules for the guest, in order
 *   memory  = 64M         cpus = 1   autostart = yes   on_exit = keep
 *   affinity = 0, 1       vCPU i runs on physical CPU list[i % n] (default: any)
 *
 * The parser is pure (no hypercalls, no heap, no global state) and built
 * both for ring 3 and for host tests and fuzzing. It never fails as a whole:
 * every problem is reported with its line number, a VM whose section has a
 * problem (or no image) is marked invalid with the reason, and the others
 * can still start.
 */
#ifndef KEEL_USER_MANIFEST_H
#define KEEL_USER_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAX_VMS     16
#define MANIFEST_MAX_MODULES 8
#define MANIFEST_NAME_MAX    32  /* VM and module names: 1..31 characters + NUL */
#define MANIFEST_CMDLINE_MAX 256 /* command line: 0..255 characters + NUL */
#define MANIFEST_MAX_ERRORS  16  /* messages kept; the count goes on */
#define MANIFEST_MSG_MAX     256 /* one message or reason, NUL included */

#define MANIFEST_DEFAULT_MEMORY (64ull << 20)
#define MANIFEST_MIN_MEMORY     (1ull << 20)
#define MANIFEST_MAX_MEMORY     (64ull << 30)
#define MANIFEST_MEMORY_ALIGN   4096ull
#define MANIFEST_MAX_CPUS       64
#define MANIFEST_MAX_AFFINITY   64 /* CPU list entries (numparse.h's CPU_LIST_MAX) */

enum manifest_on_exit {
    MANIFEST_ON_EXIT_KEEP,     /* the VM ends alone; the others go on */
    MANIFEST_ON_EXIT_POWEROFF, /* the machine powers off when the VM ends */
};

struct manifest_vm {
    char name[MANIFEST_NAME_MAX];  /* [A-Za-z0-9_.-]+ */
    char image[MANIFEST_NAME_MAX]; /* boot module with the guest image */
    char cmdline[MANIFEST_CMDLINE_MAX];
    char modules[MANIFEST_MAX_MODULES][MANIFEST_NAME_MAX];
    unsigned module_count;
    uint64_t memory; /* bytes: MANIFEST_MIN_MEMORY..MAX, a multiple of 4 KiB */
    unsigned cpus;   /* 1..MANIFEST_MAX_CPUS */
    uint8_t affinity[MANIFEST_MAX_AFFINITY]; /* physical CPU numbers (< 64) */
    unsigned affinity_count;                 /* 0: the vCPUs float */
    bool autostart;
    enum manifest_on_exit on_exit;
    unsigned line; /* of the [vm name] header */
    /* false: do not start it; reason says why, e.g. "line 7: unknown key
     * 'memroy' ...", to be printed as "vm <name>: not started: <reason>". */
    bool valid;
    char reason[MANIFEST_MSG_MAX];
};

struct manifest_error {
    unsigned line;
    char text[MANIFEST_MSG_MAX]; /* "manifest line <n>: <problem>" */
};

struct manifest_errors {
    unsigned count; /* every problem found, also those not stored */
    struct manifest_error list[MANIFEST_MAX_ERRORS];
};

struct manifest {
    unsigned vm_count; /* valid or not, in the order of the text */
    struct manifest_vm vms[MANIFEST_MAX_VMS];
    struct manifest_errors errors;
};

/*
 * Parses text[0..len) (not NUL-terminated; never read past len; NUL bytes
 * are errors, except trailing ones, which end the text; text may be NULL
 * when len is 0) into *out, which is overwritten whole. Returns the number
 * of valid VMs (those that may start), or -1 when out is NULL.
 */
int manifest_parse(const char *text, size_t len, struct manifest *out);

/* "keep" or "poweroff". */
const char *manifest_on_exit_name(enum manifest_on_exit on_exit);

#endif
