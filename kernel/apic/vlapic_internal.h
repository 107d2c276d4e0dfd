/*
 * Shared between the virtual LAPIC's files (vlapic.c: state, priorities,
 * acceptance, IA32_APIC_BASE; vlapic_timer.c; vlapic_regs.c: register access
 * through MMIO and MSRs). Not for the rest of the core: use vlapic.h.
 */
#ifndef KEEL_APIC_VLAPIC_INTERNAL_H
#define KEEL_APIC_VLAPIC_INTERNAL_H

#include "apic/vlapic.h"

#define VEC_REG_STRIDE     0x10u /* register n of a group is at base + n * 16 (SDM 11.4.1) */
#define FIRST_VALID_VECTOR 16u   /* vectors 0-15 are illegal (SDM 11.5.2) */

enum reg_status { REG_OK, REG_READ_ONLY, REG_RESERVED };

/* Registers are read and written with relaxed atomics: vlapic_route reads
 * some of them from other CPUs (vlapic.h). off is a register offset. */
static inline uint32_t reg_get(const struct vlapic *a, uint32_t off)
{
    return __atomic_load_n(&a->regs[off >> 2], __ATOMIC_RELAXED);
}

static inline void reg_set(struct vlapic *a, uint32_t off, uint32_t v)
{
    __atomic_store_n(&a->regs[off >> 2], v, __ATOMIC_RELAXED);
}

static inline uint64_t base_get(const struct vlapic *a)
{
    return __atomic_load_n(&a->base_msr, __ATOMIC_RELAXED);
}

static inline bool xapic_mode(const struct vlapic *a)
{
    return (base_get(a) & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) == VLAPIC_BASE_EN;
}

static inline void vlapic_count(uint64_t *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static inline bool is_lvt(uint32_t off)
{
    return off >= VLAPIC_REG_LVT_TIMER && off <= VLAPIC_REG_LVT_ERROR;
}

/* vlapic.c */
uint8_t vlapic_ppr(const struct vlapic *a);
bool vlapic_accept_fixed(struct vlapic *a, uint8_t vector, bool level);
bool vlapic_esr_error(struct vlapic *a, uint32_t bits);
void vlapic_eoi(struct vlapic *a);
void vlapic_lint_level_update(struct vlapic *a);

/* vlapic_timer.c */
void vlapic_timer_reset(struct vlapic *a);
void vlapic_timer_sync(struct vlapic *a);
uint32_t vlapic_timer_current(struct vlapic *a);
void vlapic_timer_set_initial(struct vlapic *a, uint32_t initial);
void vlapic_timer_set_divide(struct vlapic *a, uint32_t value);
void vlapic_timer_lvt_write(struct vlapic *a, uint32_t value);
uint64_t vlapic_tsc_deadline_read(struct vlapic *a);
void vlapic_tsc_deadline_write(struct vlapic *a, uint64_t value);

#endif
