/* Threads: the unit the scheduler runs (DESIGN.md section 7). A thread has
 * its own guarded kernel stack; a partition's threads also run in ring 3. */
#ifndef KEEL_SCHED_THREAD_H
#define KEEL_SCHED_THREAD_H

#include <stdbool.h>
#include <stdint.h>

enum thread_state { THREAD_RUNNABLE, THREAD_RUNNING, THREAD_BLOCKED, THREAD_DEAD };

struct partition;

struct thread {
    uint64_t saved_rsp; /* kernel context while switched out (switch_context) */
    uint64_t kstack_top;
    enum thread_state state;
    unsigned cpu; /* the CPU whose run queue holds it */
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
