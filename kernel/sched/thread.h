/* Threads: the unit the scheduler runs (DESIGN.md section 7). A thread has
 * its own guarded kernel stack; a partition's threads also run in ring 3,
 * and a thread inside KEEL_HC_RUN is a vCPU (it runs guest code). */
#ifndef KEEL_SCHED_THREAD_H
#define KEEL_SCHED_THREAD_H

#include <stdbool.h>
#include <stdint.h>

enum thread_state { THREAD_RUNNABLE, THREAD_RUNNING, THREAD_BLOCKED, THREAD_DEAD };

/* Fixed priorities, higher runs first (DESIGN.md section 7): a partition's
 * thread runs at SCHED_PRIO_DEVICE until it first runs a vCPU
 * (KEEL_HC_RUN); from then on it is a vCPU thread, at SCHED_PRIO_VCPU, also
 * while it emulates its guest's devices in ring 3. So device-model threads
 * (a VMM's I/O or timer threads, the root partition) run above the guests,
 * and vCPU threads share the CPUs round-robin whatever their exits do. A
 * partition thread that runs a whole slice at a higher priority without
 * blocking is not behaving as a device model: it drops to SCHED_PRIO_VCPU
 * until it next blocks, so a spinning partition cannot starve other VMs. */
enum sched_priority { SCHED_PRIO_VCPU = 0, SCHED_PRIO_DEVICE = 1, SCHED_PRIO_KERNEL = 2 };
#define SCHED_PRIORITIES 3

struct partition;

struct thread {
    uint64_t saved_rsp; /* kernel context while switched out (switch_context) */
    uint64_t kstack_top;
    enum thread_state state;
    unsigned cpu;      /* the CPU whose run queue holds it (or runs it) */
    bool on_cpu;       /* a CPU runs on its stack (until the switch away is done) */
    bool woken_on_cpu; /* woken while still on_cpu: requeued as a wake-up */
    bool runs_vcpu;    /* has run a vCPU: SCHED_PRIO_VCPU */
    bool demoted;      /* used a whole slice above SCHED_PRIO_VCPU: there until it blocks */
    enum sched_priority base_priority;
    uint64_t affinity; /* CPUs it may run on, a bit each; never 0 */
    struct thread *next_in_queue;
    struct partition *partition; /* NULL for a kernel thread */
    void (*entry)(void *arg);
    void *arg;
    int exit_status;
    char name[32];
};

/* A kernel thread that will run entry(arg) on cpu once started. */
struct thread *thread_create(const char *name, void (*entry)(void *), void *arg, unsigned cpu);

/* Marks the calling thread dead and switches away for good. */
__attribute__((noreturn)) void thread_exit(int status);

/* Returns a dead thread's stack and memory (the scheduler calls it once the
 * CPU has left the thread's stack for good). */
void thread_free(struct thread *t);

/* The thread running on this CPU. */
struct thread *thread_current(void);

/* The calling CPU's boot context becomes its idle thread. */
void thread_adopt_idle(void);

/* Saves callee-saved registers and RSP in *save_rsp, loads new_rsp and
 * returns into the thread saved there (kernel/sched/switch.asm). */
void switch_context(uint64_t *save_rsp, uint64_t new_rsp);

#endif
