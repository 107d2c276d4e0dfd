/*
 * Each vCPU's local APIC in the core (DESIGN.md section 1, "split
 * irqchip"): the environment kernel/apic/vlapic.c runs in (time, host
 * timers, IPIs, EOIs of level-triggered vectors), the routing of IPIs and
 * MSIs among a VM's vCPUs, and kicks: a vCPU that got something to deliver
 * is woken if it waits in HLT, or made to leave guest mode if it runs on
 * another CPU.
 */
#include "cpu.h"
#include "percpu.h"
#include "sched/sched.h"
#include "time.h"
#include "vm.h"
#include "vm_lapic.h"

#define NS_PER_S 1000000000ull

static struct vcpu *vcpu_of_lapic(struct vlapic *a)
{
    return (struct vcpu *)((char *)a - __builtin_offsetof(struct vcpu, lapic));
}

/* TSC value at ns nanoseconds of uptime (uptime_ns's inverse). */
static uint64_t tsc_at_ns(uint64_t ns)
{
    return tsc_at_boot + ns / NS_PER_S * tsc_hz + ns % NS_PER_S * tsc_hz / NS_PER_S;
}

void vcpu_kick(struct vcpu *v)
{
    /* Under thread_lock: the thread cannot leave KEEL_HC_RUN, end and be
     * freed while it is being woken (vcpu_set_thread clears it under it). */
    uint64_t flags = spin_lock_irqsave(&v->thread_lock);
    struct thread *t = v->thread;
    if (t) { /* else not in KEEL_HC_RUN: its next run sees what is pending */
        sched_wake(t);
        if (t->on_cpu && t->cpu != this_cpu()->index)
            sched_kick_cpu(t->cpu); /* leaves guest mode there (external-interrupt exit) */
    }
    spin_unlock_irqrestore(&v->thread_lock, flags);
}

void vcpu_set_thread(struct vcpu *v, struct thread *t)
{
    uint64_t flags = spin_lock_irqsave(&v->thread_lock);
    v->thread = t;
    spin_unlock_irqrestore(&v->thread_lock, flags);
}

static void lapic_timer_fired(struct ktimer *k)
{
    vcpu_kick((struct vcpu *)((char *)k - __builtin_offsetof(struct vcpu, lapic_timer)));
}

static void exit_timer_fired(struct ktimer *k)
{
    vcpu_kick((struct vcpu *)((char *)k - __builtin_offsetof(struct vcpu, exit_timer)));
}

static uint64_t env_now_ns(void *ctx)
{
    (void)ctx;
    return uptime_ns();
}

static uint64_t env_read_tsc(void *ctx)
{
    (void)ctx;
    return rdtsc(); /* the guest's TSC is the host's: no offset is set */
}

static void env_timer_arm(void *ctx, uint64_t deadline_ns)
{
    struct vcpu *v = ctx;
    v->lapic_deadline_tsc = tsc_at_ns(deadline_ns);
    ktimer_arm(&v->lapic_timer, v->lapic_deadline_tsc);
}

static void env_timer_cancel(void *ctx)
{
    struct vcpu *v = ctx;
    v->lapic_deadline_tsc = UINT64_MAX;
    ktimer_cancel(&v->lapic_timer);
}

/* Delivers irq to the LAPICs it names and kicks each that took it. The
 * VM's lock keeps its vCPUs from going meanwhile. */
static unsigned route(struct vm *vm, const struct vlapic_irq *irq)
{
    struct vlapic *targets[VM_MAX_VCPUS];
    uint64_t flags = spin_lock_irqsave(&vm->vcpus_lock);
    unsigned n = vlapic_route(vm->apics, vm->vcpu_count, irq, targets);
    for (unsigned i = 0; i < n; i++)
        vcpu_kick(vcpu_of_lapic(targets[i]));
    spin_unlock_irqrestore(&vm->vcpus_lock, flags);
    return n;
}

static void env_send_ipi(void *ctx, const struct vlapic_irq *irq)
{
    struct vcpu *v = ctx;
    route(v->vm, irq);
}

static void env_eoi_level(void *ctx, uint8_t vector)
{
    struct vcpu *v = ctx;
    v->eoi_exits[vector / 64] |= 1ull << (vector % 64);
    v->eoi_exit_pending = true;
}

void vm_lapic_init(struct vcpu *v)
{
    v->lapic_env = (struct vlapic_env){.ctx = v,
                                       .now_ns = env_now_ns,
                                       .read_tsc = env_read_tsc,
                                       .tsc_khz = tsc_hz / 1000,
                                       .timer_arm = env_timer_arm,
                                       .timer_cancel = env_timer_cancel,
                                       .send_ipi = env_send_ipi,
                                       .eoi_level = env_eoi_level};
    ktimer_init(&v->lapic_timer, lapic_timer_fired);
    ktimer_init(&v->exit_timer, exit_timer_fired);
    v->lapic_deadline_tsc = UINT64_MAX;
    vlapic_init(&v->lapic, v->id, v->id == 0, &v->lapic_env);
    /* As KVM does in the BIOS's place: the BSP's LINT0 takes the PIC's
     * ExtINT and LINT1 is the NMI pin (virtual-wire mode, MP spec 3.6.2.2). */
    if (v->id == 0)
        vlapic_set_virtual_wire(&v->lapic);
    v->mp_state = v->id == 0 ? VCPU_MP_RUNNABLE : VCPU_MP_WAIT_SIPI;
}

void vm_lapic_destroy(struct vcpu *v)
{
    ktimer_cancel(&v->lapic_timer);
    ktimer_cancel(&v->exit_timer);
}

int vm_add_vcpu(struct vm *vm, struct vcpu *v)
{
    uint64_t flags = spin_lock_irqsave(&vm->vcpus_lock);
    int ok = vm->vcpu_count < VM_MAX_VCPUS ? 0 : -1;
    if (ok == 0) {
        vm->vcpus[vm->vcpu_count] = v;
        vm->apics[vm->vcpu_count] = &v->lapic;
        vm->vcpu_count++;
    }
    spin_unlock_irqrestore(&vm->vcpus_lock, flags);
    return ok;
}

void vm_remove_vcpu(struct vm *vm, const struct vcpu *v)
{
    uint64_t flags = spin_lock_irqsave(&vm->vcpus_lock);
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        if (vm->vcpus[i] == v) {
            vm->vcpu_count--;
            vm->vcpus[i] = vm->vcpus[vm->vcpu_count];
            vm->apics[i] = vm->apics[vm->vcpu_count];
            break;
        }
    }
    spin_unlock_irqrestore(&vm->vcpus_lock, flags);
}

bool vm_signal_msi(struct vm *vm, uint64_t address, uint32_t data)
{
    struct vlapic_irq irq;
    if (!vlapic_msi_to_irq(address, data, &irq))
        return false;
    return route(vm, &irq) != 0;
}

/* The pin's level goes to each LAPIC's own thread, which applies its LVT
 * entry (vlapic_lint: edges, level-triggered LINT0 with Remote IRR, NMI,
 * INIT, and LINT1 as the NMI pin while the APIC is disabled). */
void vm_irq_line(struct vm *vm, unsigned pin, bool level)
{
    uint64_t flags = spin_lock_irqsave(&vm->vcpus_lock);
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        vlapic_request_lint(vm->apics[i], pin, level);
        vcpu_kick(vm->vcpus[i]);
    }
    spin_unlock_irqrestore(&vm->vcpus_lock, flags);
}

void vcpu_set_exit_deadline(struct vcpu *v, uint64_t tsc)
{
    v->exit_deadline_tsc = tsc;
    if (tsc)
        ktimer_arm(&v->exit_timer, tsc);
    else
        ktimer_cancel(&v->exit_timer);
}

bool vcpu_take_eoi_exit(struct vcpu *v, uint8_t *vector)
{
    for (unsigned w = 0; w < 4; w++) {
        if (v->eoi_exits[w]) {
            unsigned bit = (unsigned)__builtin_ctzll(v->eoi_exits[w]);
            v->eoi_exits[w] &= ~(1ull << bit);
            *vector = (uint8_t)(w * 64 + bit);
            return true;
        }
    }
    v->eoi_exit_pending = false;
    return false;
}
