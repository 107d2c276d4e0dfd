/* Moving general-purpose registers between the backends' saved form (struct
 * guest_gprs) and the KVM-shaped struct keel_regs; RSP, RIP and RFLAGS live
 * in the VMCS/VMCB and are the backend's to fill. */
#ifndef KEEL_VCPU_REGS_H
#define KEEL_VCPU_REGS_H

#include "vcpu.h"

static inline void vcpu_regs_from_gprs(const struct guest_gprs *g, struct keel_regs *r)
{
    r->rax = g->rax;
    r->rbx = g->rbx;
    r->rcx = g->rcx;
    r->rdx = g->rdx;
    r->rsi = g->rsi;
    r->rdi = g->rdi;
    r->rbp = g->rbp;
    r->r8 = g->r8;
    r->r9 = g->r9;
    r->r10 = g->r10;
    r->r11 = g->r11;
    r->r12 = g->r12;
    r->r13 = g->r13;
    r->r14 = g->r14;
    r->r15 = g->r15;
}

static inline void gprs_from_vcpu_regs(const struct keel_regs *r, struct guest_gprs *g)
{
    *g = (struct guest_gprs){
        .rax = r->rax,
        .rbx = r->rbx,
        .rcx = r->rcx,
        .rdx = r->rdx,
        .rsi = r->rsi,
        .rdi = r->rdi,
        .rbp = r->rbp,
        .r8 = r->r8,
        .r9 = r->r9,
        .r10 = r->r10,
        .r11 = r->r11,
        .r12 = r->r12,
        .r13 = r->r13,
        .r14 = r->r14,
        .r15 = r->r15,
    };
}

#endif
