/*
 * Per-CPU data, reached through GS (the GS base of each CPU points at its own
 * struct percpu, whose first field points at itself).
 */
#ifndef KEEL_PERCPU_H
#define KEEL_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "gdt.h"
#include "idt.h"

#define MAX_CPUS          64 /* equals ACPI_MAX_CPUS */
#define KERNEL_STACK_SIZE (16 * 1024)
#define IST_STACK_SIZE    (8 * 1024)
#define BOOT_STACK_SIZE   (16 * 1024)

struct cross_call {
    void (*volatile fn)(void *arg);
    void *volatile arg;
    volatile uint32_t done;
};

/* Work posted to a CPU's idle loop (smp_post_work). */
struct cpu_work {
    void (*volatile fn)(void *arg);
    void *volatile arg;
};

struct thread;

/* Offsets the SYSCALL entry uses (kernel/syscall_entry.asm). */
#define PERCPU_KERNEL_RSP 8
#define PERCPU_USER_RSP   16

struct percpu {
    struct percpu *self;    /* must stay first: this_cpu() reads %gs:0 */
    uint64_t kernel_rsp;    /* top of the running thread's kernel stack (also TSS.RSP0) */
    uint64_t user_rsp;      /* scratch for the SYSCALL entry */
    struct thread *current; /* the running thread */
    struct thread *idle;    /* this CPU's idle thread (its boot context) */
    uint32_t index;         /* 0 .. cpu_count-1, 0 is the boot CPU */
    uint32_t apic_id;
    uint64_t stack_top;
    volatile uint64_t ticks;       /* local APIC timer interrupts taken */
    volatile uint32_t online_word; /* 1 once started and its timer ticks */
    struct cross_call call;
    struct cpu_work work;
    struct thread *sched_prev; /* the thread switched away from, until sched_finish_switch */
    struct gdt gdt;
    struct tss tss;
    struct idt idt;
};

extern struct percpu *cpu_table[MAX_CPUS];

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

/* Sets up the boot CPU's static per-CPU block and its GS base. First thing
 * kernel_main does, so printk can name the CPU from the first line on. */
void percpu_init_boot_cpu(void);

/* Points GS at p on the calling CPU. */
void percpu_install(struct percpu *p);

_Static_assert(__builtin_offsetof(struct percpu, kernel_rsp) == PERCPU_KERNEL_RSP, "asm offset");
_Static_assert(__builtin_offsetof(struct percpu, user_rsp) == PERCPU_USER_RSP, "asm offset");

#endif
