/* Bringing up the application processors, and calls from one CPU to others. */
#ifndef KEEL_SMP_H
#define KEEL_SMP_H

#include <stdbool.h>
#include <stdint.h>

/* Parameter block at the end of the AP trampoline (boot/ap_trampoline.asm). */
struct ap_trampoline_params {
    uint64_t kernel_cr3;
    uint64_t stack;
    uint64_t entry;
    uint64_t cpu; /* struct percpu * handed to ap_entry */
    uint32_t boot_cr3;
    uint32_t apic_id;
    uint32_t flags; /* bit 0: enable NX */
    volatile uint32_t started;
};

/* Starts every CPU the MADT lists (INIT-SIPI-SIPI, SDM Vol. 3A 9.4.4.1),
 * each with its own page of the low-memory area [low_phys, +pages). A CPU
 * that does not answer is reported and left out. */
void smp_boot_aps(uint64_t low_phys, unsigned low_pages);

/* Asks each online CPU, by cross call, to report in; returns how many CPUs
 * (the calling one included) are online, ticking and answering. */
unsigned smp_verify_all_cpus(void);

/* Runs fn(arg) on CPU index cpu by IPI (or NMI when nmi is set, which reaches
 * a CPU with interrupts off) and waits for it up to timeout_us. Returns true
 * when it ran. */
bool smp_cross_call(unsigned cpu, void (*fn)(void *), void *arg, bool nmi, uint64_t timeout_us);

/* Hands fn(arg) to CPU cpu's idle loop, where it runs with interrupts on
 * (long work such as running a guest, unlike a cross call's handler).
 * Returns false when the CPU is offline or still busy with earlier work. */
bool smp_post_work(unsigned cpu, void (*fn)(void *), void *arg);

/* The loop every CPU ends in: runs posted work, else halts until an
 * interrupt. Never returns. */
__attribute__((noreturn)) void cpu_idle_loop(void);

/* Registers the cross-call vector and NMI handlers; before smp_boot_aps. */
void crosscall_init(void);

/* Runs fn(arg) on every online CPU, this one included (others by cross
 * call, each waited for up to timeout_us); returns how many did not answer. */
unsigned smp_run_everywhere(void (*fn)(void *), void *arg, uint64_t timeout_us);

/* Spins until *flag is set or the uptime passes deadline_ns. */
bool wait_for_flag(volatile const uint32_t *flag, uint64_t deadline_ns);

/* Stops every other online CPU by NMI (the panic path). */
void smp_stop_others(void);

#endif
