/*
 * State shared by the files of the VT-x backend: the control words chosen
 * once from the capability MSRs (vmx_config.c), the per-vCPU backend object
 * (struct vmx_vcpu, behind vcpu->backend) and the functions the files call
 * on each other. Private to kernel/vmx/.
 */
#ifndef KEEL_VMX_INTERNAL_H
#define KEEL_VMX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "percpu.h"
#include "vcpu.h"
#include "vmx/vmcs.h"

/* What every VMCS of this machine gets, computed at probe time from the
 * capability MSRs (SDM Vol. 3C A.3-A.5, A.6-A.8, A.10). */
struct vmx_config {
    uint32_t revision;
    uint32_t pin, proc, proc2, exit, entry; /* entry without ENTRY_IA32E_GUEST */
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    uint64_t cr0_host_owned, cr4_host_owned; /* the guest/host masks */
    uint64_t ept_vpid_cap;
    bool vpid;         /* VPIDs usable (the control and INVVPID) */
    bool virtual_nmis; /* PIN_VIRTUAL_NMIS set */
    unsigned maxphyaddr;
    uint32_t preemption_timer; /* VMX-preemption timer value per entry, 0: off */
    uint64_t msr_bitmap;       /* physical address of the shared all-ones bitmap */
};

extern struct vmx_config vmx_config;

/* The longest a guest runs before the core sees an exit, however it masks
 * interrupts: the VMX-preemption timer ends a slice (26.5.1). Host
 * interrupts exit sooner; the timer is the backstop (and what makes a guest
 * spinning with RFLAGS.IF = 0 exit under Bochs 2.7, which holds external
 * interrupts back in that case until the guest touches IF). */
#define VMX_GUEST_SLICE_HZ 100

/* MSRs VM entry and exit switch through the MSR-load/store areas (SDM
 * 25.7.2, 25.8.2): the state SYSCALL, SYSRET and SWAPGS use, which VMX does
 * not keep in the VMCS (SVM's VMLOAD/VMSAVE swaps the same set). */
enum { SWITCHED_MSR_COUNT = 5 };

/* An entry of an MSR-load/store area (25.7.2, table 25-15). */
struct vmx_msr_entry {
    uint32_t index;
    uint32_t reserved;
    uint64_t value;
};

/* An event the backend delivers on the next entry, before any of the
 * generic layer's: one whose delivery a VM exit interrupted (IDT-vectoring
 * information, SDM 28.2.4), or a fault the backend raised while emulating.
 * info is in the VM-entry interruption-information format (25.8.3). */
struct vmx_event {
    bool valid;
    uint32_t info, error_code, insn_len;
};

struct vmx_vcpu {
    uint64_t vmcs_phys;
    int cpu;            /* CPU index the VMCS is active on, -1 when clear */
    bool launched;      /* VMLAUNCH done since the last VMCLEAR: VMRESUME next */
    bool flush_pending; /* INVEPT/INVVPID before the next entry */
    bool want_window;   /* the generic layer asked for interrupt-window exits */
    uint16_t vpid;      /* 0: VPIDs off for this vCPU */
    uint32_t proc;      /* primary controls as in the VMCS (window bits vary) */
    uint64_t host_rsp;  /* last value written to VMCS_HOST_RSP (vmx_entry.asm) */
    /* Last values written to the host-state fields refreshed per entry. */
    uint64_t host_cr0, host_cr3, host_cr4, host_fs_base;
    uint64_t cr2;       /* the guest's CR2 (not in the VMCS) */
    uint64_t apic_base; /* kept for get_sregs; the generic layer owns it */
    struct vmx_event event;
    uint64_t msr_page; /* frame: guest MSR area at 0, host MSR area at 2 KiB */
    struct vmx_msr_entry *guest_msrs, *host_msrs;
};

/* vmx_config.c */
int vmx_config_init(char *reason);

/* vmx_vmcs.c. vmx_vmcs_load makes the vCPU's VMCS current on the calling
 * CPU (clearing it on another CPU first if need be); vmx_vmcs_release
 * clears it wherever it is active. Both return 0, or -1 when the other CPU
 * did not answer. vmx_current_vmcs: the current VMCS of each CPU (0: none),
 * so that VMPTRLD is issued only when another VMCS was made current. */
extern const uint32_t vmx_switched_msrs[SWITCHED_MSR_COUNT];
extern uint64_t vmx_current_vmcs[MAX_CPUS];
int vmx_vmcs_load_slow(struct vmx_vcpu *x);

static inline int vmx_vmcs_load(struct vmx_vcpu *x)
{
    unsigned cpu = this_cpu()->index;
    if (x->cpu == (int)cpu && vmx_current_vmcs[cpu] == x->vmcs_phys)
        return 0;
    return vmx_vmcs_load_slow(x);
}

int vmx_vmcs_release(struct vmx_vcpu *x);
void vmx_write_host_cpu_state(struct vmx_vcpu *x);
void vmx_refresh_host_state(struct vmx_vcpu *x);

/* vmx_setup.c: the controls and the reset state of a new VMCS. */
bool vmx_write_controls(struct vcpu *v, struct vmx_vcpu *x);
bool vmx_write_reset_state(struct vcpu *v, struct vmx_vcpu *x);

/* Helpers on the current VMCS (vmx_vcpu.c, vmx_state.c). */
bool vmx_guest_64bit_code(void);
void vmx_advance_rip(uint32_t len);
void vmx_set_proc_controls(struct vmx_vcpu *x, uint32_t proc);
void vmx_set_ia32e_mode(bool on);
void vmx_flush_now(struct vcpu *v, struct vmx_vcpu *x);
uint64_t vmx_guest_cr0(void);
uint64_t vmx_guest_cr4(void);
void vmx_write_segment(enum vmx_seg s, const struct keel_segment *seg);
int vmx_load_pdptes(struct vcpu *v, uint64_t cr3);

/* vmx_event.c */
void vmx_inject_events(struct vcpu *v, struct vmx_vcpu *x);
void vmx_save_idt_vectoring(struct vmx_vcpu *x);
void vmx_queue_exception(struct vmx_vcpu *x, uint8_t vector, uint32_t error_code);

/* vmx_cr.c: handles a control-register access exit; returns false when the
 * access is none the backend emulates (then reported as unhandled). */
bool vmx_handle_cr_access(struct vcpu *v, struct vmx_vcpu *x, uint64_t qualification,
                          uint32_t insn_len);

/* vmx_entry.asm: enters the guest with the GPRs of gprs (VMLAUNCH when
 * launched is 0, else VMRESUME); returns 0 after a VM exit (the guest's GPRs
 * saved back), 1 on VMfailValid, 2 on VMfailInvalid (31.2). host_rsp caches
 * the VMCS host-RSP field. */
int vmx_enter(struct guest_gprs *gprs, int launched, uint64_t *host_rsp);
void vmx_exit_stub(void);

/* Operations of struct virt_ops (kernel/virt.h). */
int vmx_vcpu_create(struct vcpu *v);
void vmx_vcpu_destroy(struct vcpu *v);
void vmx_vcpu_run(struct vcpu *v, struct vm_exit *exit);
void vmx_get_regs(struct vcpu *v, struct keel_regs *r);
void vmx_set_regs(struct vcpu *v, const struct keel_regs *r);
void vmx_get_sregs(struct vcpu *v, struct keel_sregs *s);
int vmx_set_sregs(struct vcpu *v, const struct keel_sregs *s);
void vmx_skip_instruction(struct vcpu *v, uint32_t len);
bool vmx_interrupt_allowed(struct vcpu *v);
void vmx_request_interrupt_window(struct vcpu *v, bool on);
void vmx_flush_guest_tlb(struct vcpu *v);
void vmx_clear_events(struct vcpu *v);

#endif
