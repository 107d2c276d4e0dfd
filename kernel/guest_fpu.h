/*
 * Guest x87/SSE/AVX state. It stays in the registers while its vCPU runs on
 * a CPU and is saved only when another vCPU needs them there (the core itself
 * never touches these registers: -mgeneral-regs-only). With XSAVE the guest's
 * XCR0 is what the CPU holds while the guest's state is loaded, so the
 * guest's XSETBV (always intercepted) only ever changes its own view;
 * without XSAVE the legacy FXSAVE image is used.
 */
#ifndef KEEL_GUEST_FPU_H
#define KEEL_GUEST_FPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu.h"

/* XCR0 state components (SDM Vol. 1 13.1). */
#define XCR0_X87       (1ull << 0)
#define XCR0_SSE       (1ull << 1)
#define XCR0_AVX       (1ull << 2)
#define XCR0_OPMASK    (1ull << 5)
#define XCR0_ZMM_HI256 (1ull << 6)
#define XCR0_HI16_ZMM  (1ull << 7)
#define XCR0_AVX512    (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)

/* Reads the XSAVE layout from CPUID (boot CPU, once). */
void guest_fpu_init(void);

/* Lets this CPU use FXSAVE/XSAVE (CR4.OSFXSR, OSXMMEXCPT, OSXSAVE; CR0.MP). */
void guest_fpu_enable_on_this_cpu(void);

/* The state components guests may enable (0 without XSAVE). */
uint64_t guest_fpu_xcr0_allowed(void);

/* Allocates and initialises v's state area (the architectural reset state,
 * XCR0 = x87). Returns 0 or -1. */
int guest_fpu_create(struct vcpu *v);
void guest_fpu_destroy(struct vcpu *v);

/* Makes v's state the one in this CPU's registers. Interrupts off. */
void guest_fpu_load(struct vcpu *v);

/* Brings v's state area up to date and leaves no CPU holding v's state in
 * its registers (the next run restores from the area). v must not be running.
 * For KEEL_HC_GET/SET_FPU. */
void guest_fpu_sync(struct vcpu *v);

/* The x87/SSE part of v's state in KVM's struct kvm_fpu form, and back. */
void guest_fpu_get(const struct vcpu *v, struct keel_fpu *out);
void guest_fpu_set(struct vcpu *v, const struct keel_fpu *in);

/* The guest's XSETBV (SDM Vol. 2C XSETBV): returns 0, or the vector of the
 * exception the instruction raises (6 #UD, 13 #GP(0)). v's state is the one
 * loaded on this CPU (it just exited). */
int guest_fpu_xsetbv(struct vcpu *v, uint32_t index, uint64_t value, bool osxsave, bool cpl0);

#endif
