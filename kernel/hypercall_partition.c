/* Thread and partition management hypercalls (the latter for the root
 * partition only). */
#include <keel/hypercall.h>
#include <keel/start.h>

#include "bootinfo.h"
#include "fmt.h"
#include "printk.h"
#include "hypercall_internal.h"
#include "kstring.h"
#include "sched/sched.h"
#include "user_memory.h"

#define WHY_MAX 128

static int64_t hc_thread_exit(struct partition *p, int64_t status)
{
    uint64_t flags = spin_lock_irqsave(&p->lock);
    bool last = p->live_threads == 1;
    spin_unlock_irqrestore(&p->lock, flags);
    if (last)
        partition_kill(p, (int)status, 0); /* its last thread: the partition ends */
    partition_thread_gone(p);
    thread_exit((int)status);
}

/* Copies a partition spec's strings and module handles in, checked. */
static int64_t read_spec(struct partition *p, uint64_t uspec, struct keel_partition_spec *spec,
                         char *name, char *args, const struct boot_module **grants)
{
    if (!copy_from_user(p->root, spec, uspec, sizeof(*spec)))
        return -KEEL_EFAULT;
    if (!spec->name_len || spec->name_len >= KEEL_NAME_MAX ||
        spec->args_len >= KEEL_START_ARGS_MAX || spec->grant_count >= PARTITION_HANDLES - 1)
        return -KEEL_EINVAL;
    if (!copy_from_user(p->root, name, spec->name, spec->name_len) ||
        !copy_from_user(p->root, args, spec->args, spec->args_len))
        return -KEEL_EFAULT;
    name[spec->name_len] = '\0';
    args[spec->args_len] = '\0';
    for (uint64_t i = 0; i < spec->grant_count; i++) {
        int64_t h;
        if (!copy_from_user(p->root, &h, spec->grants + i * sizeof(h), sizeof(h)))
            return -KEEL_EFAULT;
        const struct handle *e = handle_lookup(p, h, HANDLE_MODULE, RIGHT_READ);
        if (!e)
            return -KEEL_EBADF;
        grants[i] = e->object;
    }
    return 0;
}

static int64_t hc_partition_create(struct partition *p, uint64_t uspec)
{
    if (!p->is_root)
        return -KEEL_EPERM;
    struct keel_partition_spec spec;
    char name[KEEL_NAME_MAX], args[KEEL_START_ARGS_MAX], why[WHY_MAX];
    const struct boot_module *grants[PARTITION_HANDLES];
    int64_t err = read_spec(p, uspec, &spec, name, args, grants);
    if (err)
        return err;
    const struct handle *image = handle_lookup(p, spec.image, HANDLE_MODULE, RIGHT_READ);
    if (!image)
        return -KEEL_EBADF;
    struct partition *child =
        partition_create(image->object, name, args, grants, (unsigned)spec.grant_count, false,
                         sched_pick_cpu(0), why);
    if (!child) {
        pr_warn("partition %s: cannot create partition %s: %s", p->name, name, why);
        return -KEEL_EINVAL;
    }
    return handle_new(p, HANDLE_PARTITION, RIGHT_KILL | RIGHT_WAIT, child);
}

static int64_t hc_partition_kill(struct partition *p, int64_t h)
{
    const struct handle *e = handle_lookup(p, h, HANDLE_PARTITION, RIGHT_KILL);
    if (!e)
        return -KEEL_EBADF;
    char why[64];
    fmt_snprintf(why, sizeof(why), "killed by partition %s", p->name);
    partition_kill((struct partition *)e->object, -9, why);
    return 0;
}

/* Blocks until the partition's last thread is gone; stores its exit status
 * through status (so a status is never mistaken for an error code). */
static int64_t hc_partition_wait(struct partition *p, int64_t h, uint64_t status)
{
    const struct handle *e = handle_lookup(p, h, HANDLE_PARTITION, RIGHT_WAIT);
    if (!e)
        return -KEEL_EBADF;
    struct partition *child = (struct partition *)e->object;
    struct thread *me = thread_current();
    for (;;) {
        uint64_t flags = spin_lock_irqsave(&child->lock);
        bool done = child->live_threads == 0;
        if (!done) {
            child->waiter = me;
            me->state = THREAD_BLOCKED;
            me->demoted = false; /* waiting: a device model again */
        }
        spin_unlock_irqrestore(&child->lock, flags);
        if (done) {
            int64_t s = child->exit_status;
            return copy_to_user(p->root, status, &s, sizeof(s)) ? 0 : -KEEL_EFAULT;
        }
        schedule();
        flags = spin_lock_irqsave(&child->lock);
        if (child->waiter == me)
            child->waiter = 0; /* this thread may end before the child does */
        spin_unlock_irqrestore(&child->lock, flags);
        if (p->state == PARTITION_DEAD)
            return -KEEL_ESRCH; /* the waiter itself was killed */
    }
}

/* THREAD_AFFINITY: the calling thread's CPUs; bits of CPUs that are not
 * online are dropped, and a mask with none left is refused. */
static int64_t hc_thread_affinity(uint64_t mask)
{
    return sched_set_affinity(mask) == 0 ? 0 : -KEEL_EINVAL;
}

static int64_t hc_cpu_count(void)
{
    int64_t count = 0;
    for (uint64_t mask = sched_online_mask(); mask; mask &= mask - 1)
        count++; /* no POPCNT assumed: the core is built for any x86-64 */
    return count;
}

int64_t hypercall_partition(struct partition *p, const struct trap_frame *f)
{
    switch (f->rax) {
    case KEEL_HC_THREAD_AFFINITY:
        return hc_thread_affinity(f->rdi);
    case KEEL_HC_CPU_COUNT:
        return hc_cpu_count();
    case KEEL_HC_THREAD_CREATE:
        return partition_add_thread(p, f->rdi, f->rsi, f->rdx);
    case KEEL_HC_THREAD_EXIT:
        return hc_thread_exit(p, (int64_t)f->rdi);
    case KEEL_HC_PARTITION_CREATE:
        return hc_partition_create(p, f->rdi);
    case KEEL_HC_PARTITION_KILL:
        return hc_partition_kill(p, (int64_t)f->rdi);
    case KEEL_HC_PARTITION_WAIT:
        return hc_partition_wait(p, (int64_t)f->rdi, f->rsi);
    default:
        return -KEEL_ENOSYS;
    }
}
