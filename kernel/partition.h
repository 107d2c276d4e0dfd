/*
 * Partitions (DESIGN.md sections 1 and 5): a ring-3 address space (a PML4
 * whose upper half is the core's), threads, and a table of handles that
 * carry rights. A handle of another partition means nothing here.
 */
#ifndef KEEL_PARTITION_H
#define KEEL_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "bootinfo.h"
#include "sched/thread.h"
#include "spinlock.h"

#define PARTITION_HANDLES 64

enum handle_kind {
    HANDLE_NONE,
    HANDLE_MODULE,
    HANDLE_PARTITION,
    HANDLE_THREAD,
    HANDLE_VM,
    HANDLE_VCPU
};

#define RIGHT_READ  (1u << 0)
#define RIGHT_WRITE (1u << 1)
#define RIGHT_KILL  (1u << 2)
#define RIGHT_WAIT  (1u << 3)
#define RIGHT_RUN   (1u << 4)

struct handle {
    enum handle_kind kind;
    uint32_t rights;
    const void *object;
};

enum partition_state { PARTITION_RUNNING, PARTITION_DEAD };

struct partition {
    unsigned id;
    char name[32];
    uint64_t root; /* physical address of its PML4 */
    bool is_root;  /* the root partition (init): may power off, create partitions */
    struct spinlock lock;
    struct handle handles[PARTITION_HANDLES];
    unsigned live_threads;
    volatile enum partition_state state;
    int exit_status;
    struct thread *waiter; /* a thread blocked in PARTITION_WAIT on it */
    volatile bool kicking; /* partition_kill is waking its vCPUs: keep them until done */
    uint64_t next_map;     /* where KEEL_HC_MEM_MAP places the next mapping */
};

/* Creates a partition from the ELF image in boot module image, grants it
 * read-only handles to the given modules (handles 1..n), and starts its first
 * thread on cpu. Returns NULL with a message in why (size 128) on failure. */
struct partition *partition_create(const struct boot_module *image, const char *name,
                                   const char *args, const struct boot_module *const *grants,
                                   unsigned grant_count, bool is_root, unsigned cpu, char *why);

/* Ends p: its threads stop at their next entry to the core, its memory,
 * handles and tables are returned once the last one is gone. */
void partition_kill(struct partition *p, int status, const char *reason);

/* The partition of the running thread, or NULL in a kernel thread. */
struct partition *partition_current(void);

/* Called when a thread of p has ended for good (on another thread's stack). */
void partition_thread_gone(struct partition *p);

/* Starts another ring-3 thread of p at entry with stack and arg in RDI.
 * Returns 0 or a negative KEEL_E* code. */
int partition_add_thread(struct partition *p, uint64_t entry, uint64_t stack, uint64_t arg);

/* Handle helpers for the hypercalls (kernel/hypercall*.c). */
const struct handle *handle_lookup(struct partition *p, int64_t h, enum handle_kind kind,
                                   uint32_t rights);
int64_t handle_new(struct partition *p, enum handle_kind kind, uint32_t rights, const void *object);

/* Destroys the VMs and vCPUs p's handles hold (its VMM is ending). */
void partition_release_vms(struct partition *p);
/* Wakes p's vCPUs that wait in HLT, so that their threads see p's end. */
void partition_kick_vcpus(struct partition *p);

#endif
