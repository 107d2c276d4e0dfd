/*
 * Event injection for VT-x (SDM Vol. 3C 27.6, "Event Injection"; format
 * 25.8.3) and the re-delivery of an event whose delivery a VM exit
 * interrupted (IDT-vectoring information, 28.2.4: the VMM injects it again
 * on the next entry). The backend's own event (a re-delivery, or a fault the backend
 * raised while emulating a CR access) goes first; the generic layer's
 * v->pending_event then waits for the next entry, which an interrupt- or
 * NMI-window exit brings about.
 */
#include "cpu.h"
#include "traps.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_internal.h"

/* Exceptions that push an error code (SDM Vol. 3A table 6-1); VM entry
 * wants the deliver-error-code bit exactly for these, and only in
 * protected mode (27.2.1.3). */
static bool pushes_error_code(uint8_t vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

static uint32_t intr_info(uint8_t vector, uint32_t type)
{
    return vector | (type << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;
}

static uint32_t hw_exception_info(uint8_t vector)
{
    uint32_t info = intr_info(vector, INTR_TYPE_HW_EXCEPTION);
    if (pushes_error_code(vector) && (vmcs_read(VMCS_GUEST_CR0) & CR0_PE))
        info |= INTR_INFO_ERROR_VALID;
    return info;
}

/* A fault raised by the backend itself; delivered on the next entry. The
 * VMCS must be current. */
void vmx_queue_exception(struct vmx_vcpu *x, uint8_t vector, uint32_t error_code)
{
    x->event = (struct vmx_event){
        .valid = true, .info = hw_exception_info(vector), .error_code = error_code};
}

static void write_injection(const struct vmx_event *e)
{
    uint32_t type = (e->info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
    vmcs_write(VMCS_ENTRY_INTR_INFO, e->info);
    if (e->info & INTR_INFO_ERROR_VALID)
        vmcs_write(VMCS_ENTRY_ERROR_CODE, e->error_code);
    /* Software interrupts and exceptions need the instruction length. */
    if (type >= INTR_TYPE_SOFT_INTR && type <= INTR_TYPE_SOFT_EXCEPTION)
        vmcs_write(VMCS_ENTRY_INSN_LEN, e->insn_len);
}

/* Injects v->pending_event unless the guest cannot take it now, in which
 * case it stays pending and a window exit is asked for (an external
 * interrupt needs RFLAGS.IF and no STI/MOV SS shadow, an NMI no shadow and
 * no NMI blocking: VM entry would fail otherwise, 27.3.1.5). */
static void inject_pending(struct vcpu *v, bool *defer_intr, bool *defer_nmi)
{
    const struct vcpu_event *e = &v->pending_event;
    uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
    bool shadow = intr & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
    struct vmx_event inj = {.valid = true, .error_code = e->error_code};
    if (e->type == EVENT_EXTERNAL) {
        if (shadow || !(vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF_BIT)) {
            *defer_intr = true;
            return;
        }
        inj.info = intr_info(e->vector, INTR_TYPE_EXTERNAL);
    } else if (e->type == EVENT_NMI) {
        if (vmx_config.virtual_nmis && (shadow || (intr & INTR_BLOCK_NMI))) {
            *defer_nmi = true;
            return;
        }
        inj.info = intr_info(VEC_NMI, INTR_TYPE_NMI);
    } else {
        inj.info = hw_exception_info(e->vector);
    }
    write_injection(&inj);
    v->has_pending_event = false;
}

/* Before each entry: at most one event goes in (27.6), and the window exits
 * are set to what the generic layer asked for plus what a deferred event
 * needs. */
void vmx_inject_events(struct vcpu *v, struct vmx_vcpu *x)
{
    bool defer_intr = false, defer_nmi = false;
    if (x->event.valid) {
        write_injection(&x->event);
        x->event.valid = false;
        if (v->has_pending_event) {
            defer_intr = v->pending_event.type == EVENT_EXTERNAL;
            defer_nmi = v->pending_event.type == EVENT_NMI && vmx_config.virtual_nmis;
        }
    } else if (v->has_pending_event) {
        inject_pending(v, &defer_intr, &defer_nmi);
    }
    uint32_t proc = x->proc & ~(PROC_INTR_WINDOW | PROC_NMI_WINDOW);
    if (x->want_window || defer_intr)
        proc |= PROC_INTR_WINDOW;
    if (defer_nmi)
        proc |= PROC_NMI_WINDOW;
    vmx_set_proc_controls(x, proc);
}

/* After each exit: an event whose delivery the exit interrupted (28.2.4) is
 * kept to be delivered again, with its error code and, for software
 * interrupts and exceptions, the instruction length (28.2.5). */
void vmx_save_idt_vectoring(struct vmx_vcpu *x)
{
    uint32_t info = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO);
    if (!(info & INTR_INFO_VALID))
        return;
    uint32_t type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
    x->event = (struct vmx_event){
        .valid = true,
        .info = info & (INTR_INFO_VECTOR_MASK | INTR_INFO_TYPE_MASK | INTR_INFO_ERROR_VALID |
                        INTR_INFO_VALID),
    };
    if (info & INTR_INFO_ERROR_VALID)
        x->event.error_code = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_ERROR);
    if (type >= INTR_TYPE_SOFT_INTR && type <= INTR_TYPE_SOFT_EXCEPTION)
        x->event.insn_len = (uint32_t)vmcs_read(VMCS_EXIT_INSN_LEN);
}
