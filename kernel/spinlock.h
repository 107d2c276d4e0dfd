/* Ticket spinlocks (fair across CPUs). The _irqsave forms also keep local
 * interrupts off while held, for locks an interrupt handler may take. */
#ifndef KEEL_SPINLOCK_H
#define KEEL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"

struct spinlock {
    volatile uint16_t next;
    volatile uint16_t owner;
};

#define SPINLOCK_INIT                                                                              \
    {                                                                                              \
        0, 0                                                                                       \
    }

static inline void spin_lock(struct spinlock *l)
{
    uint16_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
        cpu_relax();
}

static inline bool spin_trylock(struct spinlock *l)
{
    uint16_t serving = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
    uint16_t expected = serving;
    return __atomic_compare_exchange_n(&l->next, &expected, (uint16_t)(serving + 1), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
    uint64_t flags = irq_save();
    spin_lock(l);
    return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
    spin_unlock(l);
    irq_restore(flags);
}

#endif
