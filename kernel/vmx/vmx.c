/*
 * Intel VT-x (VMX) discovery and per-CPU enable (SDM Vol. 3C: 24.7 "Enabling
 * and Entering VMX Operation", 24.8 "Restrictions on VMX Operation",
 * appendix A "VMX Capability Reporting Facility"). The CPU must have EPT with
 * 4-level walks and write-back tables, and unrestricted guest; anything less is
 * a graceful failure with a message naming what is missing.
 */
#include <stdbool.h>

#include "cpu.h"
#include "cpufeatures.h"
#include "fmt.h"
#include "layout.h"
#include "percpu.h"
#include "pmm.h"
#include "virt.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_internal.h"

#define CPUID1_ECX_VMX (1u << 5)

#define VPID_COUNT 65535 /* 16-bit VPIDs, 0 reserved for the host */

static uint64_t vmxon_region[MAX_CPUS];

static bool vmx_present(void)
{
    return cpuid(1, 0).ecx & CPUID1_ECX_VMX;
}

/* Allowed-1 settings of a control MSR are its high 32 bits (SDM A.3). */
static uint64_t allowed1(uint32_t msr)
{
    return rdmsr(msr) >> 32;
}

static bool firmware_disabled(void)
{
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    return (fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMXON);
}

static const char *missing_requirement(uint64_t proc2, uint64_t ept)
{
    if (!(allowed1(MSR_VMX_PROCBASED) & PROC_SECONDARY))
        return "VMX without secondary processor-based controls (so without EPT): Keel needs "
               "EPT and unrestricted guest; use a newer CPU (Nehalem or later)";
    if (!(proc2 & PROC2_EPT))
        return "VMX without EPT: Keel needs extended page tables; use a CPU with EPT "
               "(Nehalem or later)";
    if (!(proc2 & PROC2_UNRESTRICTED))
        return "VMX without unrestricted guest: Keel needs it to run guests from the reset "
               "vector; use a CPU with it (Westmere or later)";
    if (!(ept & EPT_CAP_WALK4) || !(ept & EPT_CAP_WB))
        return "EPT without 4-level walks or write-back tables: Keel needs both";
    if (!(ept & EPT_CAP_INVEPT) || !(ept & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
        return "EPT without INVEPT: Keel cannot invalidate guest translations";
    return 0;
}

static void vmx_probe(struct virt_caps *caps)
{
    *caps = (struct virt_caps){0};
    if (firmware_disabled()) {
        fmt_snprintf(caps->reason, sizeof(caps->reason),
                     "VMX disabled by firmware (IA32_FEATURE_CONTROL locked with VMX off): "
                     "enable VT-x in the BIOS setup");
        return;
    }
    uint64_t basic = rdmsr(MSR_VMX_BASIC);
    bool true_ctls = basic & BASIC_TRUE_CONTROLS;
    uint64_t proc2 =
        (allowed1(MSR_VMX_PROCBASED) & PROC_SECONDARY) ? allowed1(MSR_VMX_PROCBASED2) : 0;
    uint64_t ept = (proc2 & (PROC2_EPT | PROC2_VPID)) ? rdmsr(MSR_VMX_EPT_VPID_CAP) : 0;
    const char *missing = missing_requirement(proc2, ept);
    if (missing) {
        fmt_snprintf(caps->reason, sizeof(caps->reason), "%s", missing);
        return;
    }
    if (vmx_config_init(caps->reason))
        return;
    uint64_t pin = allowed1(true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED);
    bool vpid = vmx_config.vpid; /* VPID control, INVVPID and a usable type */
    caps->usable = true;
    caps->slat_2m_pages = ept & EPT_CAP_2M;
    caps->slat_1g_pages = ept & EPT_CAP_1G;
    caps->address_space_ids = vpid ? VPID_COUNT : 0;
    char preempt[32] = "no";
    if (pin & PIN_PREEMPTION_TIMER)
        fmt_snprintf(preempt, sizeof(preempt), "yes (TSC/2^%llu)",
                     (unsigned long long)(rdmsr(MSR_VMX_MISC) & MISC_PREEMPT_RATE_MASK));
    fmt_snprintf(
        caps->features, sizeof(caps->features),
        "revision 0x%llx, ept 4-level 4k%s%s, vpid %s, unrestricted-guest yes, "
        "preemption-timer %s, invept%s%s, ept-ad-bits %s, apic-access %s, "
        "apic-register-virt %s, virtual-interrupt-delivery %s",
        (unsigned long long)(basic & BASIC_REVISION_MASK), caps->slat_2m_pages ? "/2m" : "",
        caps->slat_1g_pages ? "/1g" : "", vpid ? "yes (65535)" : "no", preempt,
        (ept & EPT_CAP_INVEPT_SINGLE) ? " single" : "", (ept & EPT_CAP_INVEPT_ALL) ? " all" : "",
        (ept & EPT_CAP_AD) ? "yes" : "no", (proc2 & PROC2_VIRT_APIC_ACCESS) ? "yes" : "no",
        (proc2 & PROC2_APIC_REG_VIRT) ? "yes" : "no",
        (proc2 & PROC2_VIRT_INTR_DELIVERY) ? "yes" : "no");
}

/* Makes IA32_FEATURE_CONTROL allow VMXON, locking it if firmware left it
 * unlocked (SDM 24.7). */
static int unlock_feature_control(char *reason)
{
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK)) {
        wrmsr(MSR_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON);
        return 0;
    }
    if (fc & FEATURE_CONTROL_VMXON)
        return 0;
    fmt_snprintf(reason, VIRT_REASON_MAX,
                 "VMX disabled by firmware (IA32_FEATURE_CONTROL locked with VMX off): enable "
                 "VT-x in the BIOS setup");
    return -1;
}

/* CR0 and CR4 must hold the bits VMX fixes (SDM A.7, A.8). */
static int apply_fixed_bits(char *reason)
{
    uint64_t cr0 = (read_cr0() | rdmsr(MSR_VMX_CR0_FIXED0)) & rdmsr(MSR_VMX_CR0_FIXED1);
    uint64_t cr4 = (read_cr4() | rdmsr(MSR_VMX_CR4_FIXED0) | CR4_VMXE) & rdmsr(MSR_VMX_CR4_FIXED1);
    if (!(cr4 & CR4_VMXE)) {
        fmt_snprintf(reason, VIRT_REASON_MAX, "CR4.VMXE may not be set on this CPU");
        return -1;
    }
    write_cr0(cr0);
    write_cr4(cr4);
    return 0;
}

static int vmx_cpu_enable(char *reason)
{
    unsigned cpu = this_cpu()->index;
    if (unlock_feature_control(reason) || apply_fixed_bits(reason))
        return -1;
    if (!vmxon_region[cpu]) {
        vmxon_region[cpu] = pmm_alloc_frame();
        if (!vmxon_region[cpu]) {
            fmt_snprintf(reason, VIRT_REASON_MAX, "no memory for the VMXON region");
            return -1;
        }
    }
    *(volatile uint32_t *)phys_to_virt(vmxon_region[cpu]) =
        (uint32_t)(rdmsr(MSR_VMX_BASIC) & BASIC_REVISION_MASK);
    uint8_t failed;
    __asm__ volatile("vmxon %1\n\tsetna %0" /* CF or ZF set: VMfail (SDM 31.2) */
                     : "=qm"(failed)
                     : "m"(vmxon_region[cpu])
                     : "cc", "memory");
    if (failed) {
        write_cr4(read_cr4() & ~CR4_VMXE);
        fmt_snprintf(reason, VIRT_REASON_MAX,
                     "VMXON failed (VMX already in use, or the VMXON region was refused)");
        return -1;
    }
    return 0;
}

static void vmx_cpu_disable(void)
{
    __asm__ volatile("vmxoff" ::: "cc", "memory");
    write_cr4(read_cr4() & ~CR4_VMXE);
}

const struct virt_ops vmx_ops = {
    .name = "vmx",
    .present = vmx_present,
    .probe = vmx_probe,
    .cpu_enable = vmx_cpu_enable,
    .cpu_disable = vmx_cpu_disable,
    .slat_format = SLAT_EPT,
    .vcpu_create = vmx_vcpu_create,
    .vcpu_destroy = vmx_vcpu_destroy,
    .vcpu_run = vmx_vcpu_run,
    .get_regs = vmx_get_regs,
    .set_regs = vmx_set_regs,
    .get_sregs = vmx_get_sregs,
    .set_sregs = vmx_set_sregs,
    .skip_instruction = vmx_skip_instruction,
    .interrupt_allowed = vmx_interrupt_allowed,
    .request_interrupt_window = vmx_request_interrupt_window,
    .flush_guest_tlb = vmx_flush_guest_tlb,
    .clear_events = vmx_clear_events,
};
