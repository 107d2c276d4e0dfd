/*
 * Host unit tests of the scheduler's run-queue lists (kernel/sched/
 * run_queue.c): the highest priority first, FIFO (round robin) within a
 * priority, a thread running a vCPU ranking below device-model threads,
 * requeueing at the head, and stealing that respects affinity.
 */
#include "check.h"
#include "sched/sched.h"
#include "sched/sched_internal.h"

static struct thread make(enum sched_priority p, bool runs_vcpu, uint64_t affinity)
{
    return (struct thread){.base_priority = p, .runs_vcpu = runs_vcpu, .affinity = affinity};
}

static void highest_priority_first(void)
{
    struct run_queue q = {0};
    struct thread vcpu = make(SCHED_PRIO_DEVICE, true, ~0ull);
    struct thread dev = make(SCHED_PRIO_DEVICE, false, ~0ull);
    struct thread kern = make(SCHED_PRIO_KERNEL, false, ~0ull);
    rq_enqueue(&q, &vcpu, false);
    rq_enqueue(&q, &dev, false);
    rq_enqueue(&q, &kern, false);
    CHECK_EQ(q.queued, 3);
    CHECK_EQ(rq_best_priority(&q), SCHED_PRIO_KERNEL);
    CHECK(rq_dequeue_highest(&q) == &kern);
    CHECK(rq_dequeue_highest(&q) == &dev); /* device models before guests */
    CHECK_EQ(rq_best_priority(&q), SCHED_PRIO_VCPU);
    CHECK(rq_dequeue_highest(&q) == &vcpu);
    CHECK(rq_dequeue_highest(&q) == NULL);
    CHECK_EQ(rq_best_priority(&q), -1);
    CHECK_EQ(q.queued, 0);
}

static void round_robin_within_a_priority(void)
{
    struct run_queue q = {0};
    struct thread t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = make(SCHED_PRIO_DEVICE, true, ~0ull);
        rq_enqueue(&q, &t[i], false);
    }
    /* Each runs, then goes to the tail: the order repeats. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++) {
            struct thread *next = rq_dequeue_highest(&q);
            CHECK(next == &t[i]);
            rq_enqueue(&q, next, false);
        }
    }
    CHECK_EQ(q.queued, 4);
}

static void head_requeue(void)
{
    struct run_queue q = {0};
    struct thread a = make(SCHED_PRIO_VCPU, true, ~0ull), b = make(SCHED_PRIO_VCPU, true, ~0ull);
    rq_enqueue(&q, &a, false);
    struct thread *x = rq_dequeue_highest(&q);
    rq_enqueue(&q, &b, false);
    rq_enqueue(&q, x, true); /* outranked: back at the head */
    CHECK(rq_dequeue_highest(&q) == &a);
    CHECK(rq_dequeue_highest(&q) == &b);
    CHECK(rq_dequeue_highest(&q) == NULL);
}

static void steal_respects_affinity(void)
{
    struct run_queue q = {0};
    struct thread pinned0 = make(SCHED_PRIO_DEVICE, true, 1ull << 0);
    struct thread pinned2 = make(SCHED_PRIO_DEVICE, true, 1ull << 2);
    struct thread any = make(SCHED_PRIO_DEVICE, true, ~0ull);
    rq_enqueue(&q, &pinned0, false);
    rq_enqueue(&q, &pinned2, false);
    rq_enqueue(&q, &any, false);
    CHECK(rq_steal_for(&q, 1) == &any); /* the pinned ones stay */
    CHECK(rq_steal_for(&q, 1) == NULL);
    CHECK(rq_steal_for(&q, 2) == &pinned2);
    CHECK_EQ(q.queued, 1);
    CHECK(rq_dequeue_highest(&q) == &pinned0);
    CHECK(q.head[SCHED_PRIO_VCPU] == NULL && q.tail[SCHED_PRIO_VCPU] == NULL);
}

static void steal_keeps_the_list_sound(void)
{
    struct run_queue q = {0};
    struct thread t[5];
    for (int i = 0; i < 5; i++) {
        t[i] = make(SCHED_PRIO_VCPU, true, i == 4 ? 1ull << 3 : 1ull << 0);
        rq_enqueue(&q, &t[i], false);
    }
    CHECK(rq_steal_for(&q, 3) == &t[4]); /* the tail */
    struct thread extra = make(SCHED_PRIO_VCPU, true, ~0ull);
    rq_enqueue(&q, &extra, false); /* appends after the new tail */
    for (int i = 0; i < 4; i++)
        CHECK(rq_dequeue_highest(&q) == &t[i]);
    CHECK(rq_dequeue_highest(&q) == &extra);
    CHECK_EQ(q.queued, 0);
}

int main(void)
{
    check_begin("run_queue");
    RUN(highest_priority_first);
    RUN(round_robin_within_a_priority);
    RUN(head_requeue);
    RUN(steal_respects_affinity);
    RUN(steal_keeps_the_list_sound);
    return check_finish();
}
