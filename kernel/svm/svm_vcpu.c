/*
 * SVM vCPUs: VMCB set-up (AMD APM Vol. 2 15.5, 15.9-15.13 intercepts,
 * 15.25 nested paging), architectural reset state (APM Vol. 2 14.1.3,
 * table 14-1), register access, event injection (15.20) and the run step.
 */
#include "cpu.h"
#include "ept/slat.h"
#include "heap.h"
#include "kstring.h"
#include "layout.h"
#include "pmm.h"
#include "svm/svm_internal.h"
#include "svm/vmcb.h"
#include "vcpu_regs.h"

#define IOPM_ORDER    2 /* 12 KiB used (APM 15.10.1) */
#define MSRPM_ORDER   1 /* 8 KiB (APM 15.11) */
#define RESET_RFLAGS  0x2ull
#define RESET_CR0     0x60000010ull /* CD, NW, ET */
#define CR8_TPR_SHIFT 4             /* CR8 is TPR bits 7:4 (SDM Vol. 3A 10.8.6.1) */
#define RESET_DR7     0x400ull
#define RESET_DR6     0xffff0ff0ull
#define EFER_SVME     (1ull << 12)
#define EFER_LME      (1ull << 8)
#define EFER_LMA      (1ull << 10)
#define CR0_PE        (1ull << 0)
#define CR0_PG        (1ull << 31)
#define CR4_PAE       (1ull << 5)
#define DEFAULT_PAT   0x0007040600070406ull

static uint64_t shared_iopm, shared_msrpm;
static const struct vcpu *last_run_on[MAX_CPUS];

/* I/O and MSR permission maps with every bit set: every port and every MSR
 * access exits. Shared by all vCPUs; never written after set-up. */
static int ensure_permission_maps(void)
{
    if (shared_iopm && shared_msrpm)
        return 0;
    uint64_t iopm = pmm_alloc_pages(IOPM_ORDER), msrpm = pmm_alloc_pages(MSRPM_ORDER);
    if (!iopm || !msrpm) {
        if (iopm)
            pmm_free_pages(iopm, IOPM_ORDER);
        if (msrpm)
            pmm_free_pages(msrpm, MSRPM_ORDER);
        return -1;
    }
    memset(phys_to_virt(iopm), 0xff, PAGE_SIZE << IOPM_ORDER);
    memset(phys_to_virt(msrpm), 0xff, PAGE_SIZE << MSRPM_ORDER);
    shared_iopm = iopm;
    shared_msrpm = msrpm;
    return 0;
}

static uint16_t to_attrib(const struct keel_segment *s)
{
    return (uint16_t)((s->type & 0xf) | (s->s & 1) << 4 | (s->dpl & 3) << 5 |
                      (s->present & 1) << 7 | (s->avl & 1) << 8 | (s->l & 1) << 9 |
                      (s->db & 1) << 10 | (s->g & 1) << 11);
}

static void from_vmcb_segment(const struct vmcb_segment *in, struct keel_segment *out)
{
    uint16_t a = in->attrib;
    *out = (struct keel_segment){
        .base = in->base,
        .limit = in->limit,
        .selector = in->selector,
        .type = a & 0xf,
        .s = (a >> 4) & 1,
        .dpl = (a >> 5) & 3,
        .present = (a >> 7) & 1,
        .avl = (a >> 8) & 1,
        .l = (a >> 9) & 1,
        .db = (a >> 10) & 1,
        .g = (a >> 11) & 1,
    };
    out->unusable = !out->present;
}

static void to_vmcb_segment(const struct keel_segment *in, struct vmcb_segment *out)
{
    out->selector = in->selector;
    out->attrib = in->unusable ? 0 : to_attrib(in);
    out->limit = in->limit;
    out->base = in->base;
}

static void set_segment(struct vmcb_segment *s, uint16_t sel, uint64_t base, uint16_t attrib)
{
    *s = (struct vmcb_segment){.selector = sel, .attrib = attrib, .limit = 0xffff, .base = base};
}

/* Processor state after RESET/INIT (APM Vol. 2 14.1.3, table 14-1). */
static void set_reset_state(struct vmcb_save *s)
{
    set_segment(&s->cs, 0xf000, 0xffff0000ull, 0x09b);
    set_segment(&s->ds, 0, 0, 0x093);
    set_segment(&s->es, 0, 0, 0x093);
    set_segment(&s->ss, 0, 0, 0x093);
    set_segment(&s->fs, 0, 0, 0x093);
    set_segment(&s->gs, 0, 0, 0x093);
    set_segment(&s->ldtr, 0, 0, 0x082);
    set_segment(&s->tr, 0, 0, 0x08b);
    s->gdtr.limit = 0xffff;
    s->idtr.limit = 0xffff;
    s->rip = 0xfff0;
    s->rflags = RESET_RFLAGS;
    s->cr0 = RESET_CR0;
    s->dr6 = RESET_DR6;
    s->dr7 = RESET_DR7;
    s->efer = EFER_SVME; /* required by VMRUN; hidden from the guest (svm_get_sregs) */
    s->g_pat = DEFAULT_PAT;
}

static void set_intercepts(struct vmcb_control *c)
{
    c->intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_INIT |
                         SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD | SVM_INTERCEPT_HLT |
                         SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR | SVM_INTERCEPT_SHUTDOWN;
    c->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
                         SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
                         SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_MONITOR | SVM_INTERCEPT_MWAIT |
                         SVM_INTERCEPT_XSETBV;
    c->iopm_base_pa = shared_iopm;
    c->msrpm_base_pa = shared_msrpm;
    c->vintr = SVM_VINTR_MASKING; /* the host's RFLAGS.IF masks physical interrupts */
}

int svm_vcpu_create(struct vcpu *v)
{
    if (ensure_permission_maps() < 0)
        return -1;
    struct svm_vcpu *sv = kzalloc(sizeof(*sv));
    uint64_t pa = sv ? pmm_alloc_frame() : 0;
    if (!pa) {
        kfree(sv);
        return -1;
    }
    sv->vmcb = phys_to_virt(pa);
    sv->vmcb_pa = pa;
    sv->last_cpu = -1;
    sv->flush_pending = true;
    v->backend = sv;

    struct vmcb *vmcb = sv->vmcb;
    set_intercepts(&vmcb->control);
    vmcb->control.guest_asid = v->vm->asid ? v->vm->asid : 1; /* ASID 0 is the host's */
    vmcb->control.np_control = SVM_NP_ENABLE;
    vmcb->control.nested_cr3 = slat_hardware_root(&v->vm->slat);
    set_reset_state(&vmcb->save);
    v->gprs.rdx = cpuid(1, 0).eax; /* the CPU signature, as after RESET */
    return 0;
}

void svm_vcpu_destroy(struct vcpu *v)
{
    struct svm_vcpu *sv = svm_of(v);
    if (!sv)
        return;
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        if (last_run_on[i] == v)
            last_run_on[i] = 0;
    }
    pmm_free_pages(sv->vmcb_pa, 0);
    kfree(sv);
    v->backend = 0;
}

static uint64_t event_to_eventinj(const struct vcpu_event *e)
{
    uint64_t inj = SVM_EVENT_VALID | e->vector | ((uint64_t)e->type << SVM_EVENT_TYPE_SHIFT);
    if (e->has_error)
        inj |= SVM_EVENT_ERROR | ((uint64_t)e->error_code << 32);
    return inj;
}

/* After an exit: an IRET intercepted earlier has run once the guest is
 * past it; an IRET exit now means it is about to (APM 15.9: intercepts of
 * instructions exit before they execute). */
static void track_nmi_blocking(struct svm_vcpu *sv)
{
    struct vmcb *vmcb = sv->vmcb;
    if (sv->iret_seen && vmcb->save.rip != sv->iret_rip) {
        sv->iret_seen = false;
        sv->nmi_blocked = false;
    }
    if ((uint32_t)vmcb->control.exit_code == SVM_EXIT_IRET) {
        vmcb->control.intercept_misc1 &= ~SVM_INTERCEPT_IRET;
        sv->iret_seen = true;
        sv->iret_rip = vmcb->save.rip;
    }
}

static void prepare_entry(struct vcpu *v, struct svm_vcpu *sv)
{
    struct vmcb_control *c = &sv->vmcb->control;
    c->event_inject = 0;
    if (sv->reinject) {
        c->event_inject = sv->reinject_event;
        sv->reinject = false;
    } else if (v->has_pending_event && v->pending_event.type == EVENT_NMI && sv->nmi_blocked) {
        /* It waits for the handler's IRET. Once the IRET exit came, an
         * interrupt-window exit right after the IRET (which restores IF)
         * shows it done; not before, or an STI in the handler would make
         * every entry exit at once. */
        if (sv->iret_seen) {
            c->vintr |= SVM_VINTR_IRQ | SVM_VINTR_PRIO_MAX | SVM_VINTR_IGN_TPR;
            c->intercept_misc1 |= SVM_INTERCEPT_VINTR;
        }
    } else if (v->has_pending_event) {
        c->event_inject = event_to_eventinj(&v->pending_event);
        if (v->pending_event.type == EVENT_NMI) {
            sv->nmi_blocked = true;
            c->intercept_misc1 |= SVM_INTERCEPT_IRET;
        }
        v->has_pending_event = false;
    }
    int cpu = (int)this_cpu()->index;
    if (sv->last_cpu != cpu || last_run_on[cpu] != v)
        sv->flush_pending = true; /* ASIDs may be shared between VMs (see vm.c) */
    c->tlb_control = 0;
    if (sv->flush_pending) {
        c->tlb_control =
            (svm_features & SVM_FEATURE_FLUSH_BY_ASID) ? SVM_TLB_FLUSH_ASID : SVM_TLB_FLUSH_ALL;
        sv->flush_pending = false;
    }
    sv->last_cpu = cpu;
    last_run_on[cpu] = v;
    /* With V_INTR_MASKING the guest's CR8 is V_TPR (APM 15.21.1): it
     * carries the virtual LAPIC's TPR[7:4] in and out. */
    c->vintr = (c->vintr & ~SVM_VINTR_TPR_MASK) | (vlapic_tpr(&v->lapic) >> CR8_TPR_SHIFT);
}

void svm_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
    struct svm_vcpu *sv = svm_of(v);
    prepare_entry(v, sv);
    sv->vmcb->save.rax = v->gprs.rax;
    uint64_t host_state = svm_host_state_vmcb[this_cpu()->index];
    /* GIF=0 holds interrupts off around the switch; IF=1 lets a physical
     * interrupt end guest mode (APM 15.17, 15.21.1). */
    __asm__ volatile("clgi; sti" ::: "memory");
    svm_enter(sv->vmcb_pa, &v->gprs, host_state);
    __asm__ volatile("cli; stgi" ::: "memory");
    v->gprs.rax = sv->vmcb->save.rax;

    uint64_t intinfo = sv->vmcb->control.exit_int_info;
    if (intinfo & SVM_EVENT_VALID) {
        sv->reinject = true;
        sv->reinject_event = intinfo;
    }
    uint8_t cr8 = (uint8_t)(sv->vmcb->control.vintr & SVM_VINTR_TPR_MASK);
    if (cr8 != vlapic_tpr(&v->lapic) >> CR8_TPR_SHIFT)
        vlapic_set_tpr(&v->lapic, (uint8_t)(cr8 << CR8_TPR_SHIFT));
    track_nmi_blocking(sv);
    svm_decode_exit(v, exit);
    if (exit->reason == VM_EXIT_EXTERNAL_INTERRUPT)
        __asm__ volatile("sti; nop; cli" ::: "memory"); /* the host takes it now */
}

void svm_get_regs(struct vcpu *v, struct keel_regs *r)
{
    const struct vmcb_save *s = &svm_of(v)->vmcb->save;
    vcpu_regs_from_gprs(&v->gprs, r);
    r->rsp = s->rsp;
    r->rip = s->rip;
    r->rflags = s->rflags;
}

void svm_set_regs(struct vcpu *v, const struct keel_regs *r)
{
    struct vmcb_save *s = &svm_of(v)->vmcb->save;
    gprs_from_vcpu_regs(r, &v->gprs);
    s->rsp = r->rsp;
    s->rip = r->rip;
    s->rflags = r->rflags | RESET_RFLAGS; /* bit 1 is always set */
}

void svm_get_sregs(struct vcpu *v, struct keel_sregs *out)
{
    const struct vmcb_save *s = &svm_of(v)->vmcb->save;
    memset(out, 0, sizeof(*out));
    from_vmcb_segment(&s->cs, &out->cs);
    from_vmcb_segment(&s->ds, &out->ds);
    from_vmcb_segment(&s->es, &out->es);
    from_vmcb_segment(&s->fs, &out->fs);
    from_vmcb_segment(&s->gs, &out->gs);
    from_vmcb_segment(&s->ss, &out->ss);
    from_vmcb_segment(&s->tr, &out->tr);
    from_vmcb_segment(&s->ldtr, &out->ldt);
    out->gdt = (struct keel_dtable){.base = s->gdtr.base, .limit = (uint16_t)s->gdtr.limit};
    out->idt = (struct keel_dtable){.base = s->idtr.base, .limit = (uint16_t)s->idtr.limit};
    out->cr0 = s->cr0;
    out->cr2 = s->cr2;
    out->cr3 = s->cr3;
    out->cr4 = s->cr4;
    out->efer = s->efer & ~EFER_SVME;
}

/* Rejects combinations VMRUN would refuse (APM 15.5.1 "canonicalization and
 * consistency checks"), so a bad request fails here with an error code. */
static bool sregs_consistent(const struct keel_sregs *s)
{
    if ((s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE))
        return false;
    if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG) && !(s->cr4 & CR4_PAE))
        return false;
    if (s->cr0 >> 32 || s->cr4 >> 32 || s->cr3 >> 52)
        return false;
    return true;
}

int svm_set_sregs(struct vcpu *v, const struct keel_sregs *in)
{
    if (!sregs_consistent(in))
        return -1;
    struct vmcb_save *s = &svm_of(v)->vmcb->save;
    to_vmcb_segment(&in->cs, &s->cs);
    to_vmcb_segment(&in->ds, &s->ds);
    to_vmcb_segment(&in->es, &s->es);
    to_vmcb_segment(&in->fs, &s->fs);
    to_vmcb_segment(&in->gs, &s->gs);
    to_vmcb_segment(&in->ss, &s->ss);
    to_vmcb_segment(&in->tr, &s->tr);
    to_vmcb_segment(&in->ldt, &s->ldtr);
    s->gdtr = (struct vmcb_segment){.limit = in->gdt.limit, .base = in->gdt.base};
    s->idtr = (struct vmcb_segment){.limit = in->idt.limit, .base = in->idt.base};
    s->cpl = in->cs.dpl;
    s->cr0 = in->cr0;
    s->cr2 = in->cr2;
    s->cr3 = in->cr3;
    s->cr4 = in->cr4;
    uint64_t efer = in->efer | EFER_SVME;
    if ((efer & EFER_LME) && (in->cr0 & CR0_PG))
        efer |= EFER_LMA;
    else
        efer &= ~EFER_LMA;
    s->efer = efer;
    svm_of(v)->flush_pending = true;
    return 0;
}

void svm_skip_instruction(struct vcpu *v, uint32_t len)
{
    struct vmcb *vmcb = svm_of(v)->vmcb;
    vmcb->save.rip += len;
    vmcb->control.interrupt_shadow = 0;
}

void svm_clear_events(struct vcpu *v)
{
    struct svm_vcpu *sv = svm_of(v);
    sv->reinject = false;
    sv->nmi_blocked = false;
    sv->iret_seen = false;
    sv->vmcb->control.intercept_misc1 &= ~SVM_INTERCEPT_IRET;
    sv->vmcb->control.interrupt_shadow = 0;
}

bool svm_interrupt_allowed(struct vcpu *v)
{
    const struct vmcb *vmcb = svm_of(v)->vmcb;
    return (vmcb->save.rflags & RFLAGS_IF) && !(vmcb->control.interrupt_shadow & 1) &&
           !svm_of(v)->reinject;
}

/* A virtual interrupt request with V_IRQ makes the CPU exit with VINTR as
 * soon as the guest could take it (APM 15.21.4). */
void svm_request_interrupt_window(struct vcpu *v, bool on)
{
    struct vmcb_control *c = &svm_of(v)->vmcb->control;
    if (on) {
        c->vintr |= SVM_VINTR_IRQ | SVM_VINTR_PRIO_MAX | SVM_VINTR_IGN_TPR;
        c->intercept_misc1 |= SVM_INTERCEPT_VINTR;
    } else {
        c->vintr &= ~(SVM_VINTR_IRQ | SVM_VINTR_PRIO_MAX | SVM_VINTR_IGN_TPR);
        c->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
    }
}

void svm_flush_guest_tlb(struct vcpu *v)
{
    svm_of(v)->flush_pending = true;
}
