/*
 * The VMCS control words of this machine, chosen once at probe time from the
 * VMX capability MSRs (SDM Vol. 3C appendix A). For each control MSR the low
 * dword lists the bits that must be 1 and the high dword the bits that may be
 * 1 (A.3-A.5); when IA32_VMX_BASIC bit 55 is set the TRUE_* MSRs say which
 * default-1 controls may be cleared (A.2), which Keel needs for CR3 exiting.
 */
#include "cpu.h"
#include "fmt.h"
#include "kstring.h"
#include "layout.h"
#include "pmm.h"
#include "time.h"
#include "virt.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_internal.h"

#define CPUID_EXT_MAX       0x80000000u
#define CPUID_EXT_ADDR_SIZE 0x80000008u   /* EAX bits 7:0: MAXPHYADDR */
#define DEFAULT_MAXPHYADDR  36            /* SDM Vol. 3A 4.1.4, without leaf 0x80000008 */
#define FALLBACK_TSC_HZ     1000000000ull /* if the TSC was never calibrated */

struct vmx_config vmx_config;

struct control_choice {
    const char *name;
    uint32_t msr, true_msr; /* true_msr 0: no TRUE variant (secondary controls) */
    uint32_t required, optional, forbidden;
};

/* One control word: the required bits (all must be allowed), the optional
 * ones the CPU allows, and whatever the CPU insists on; none forbidden. */
static int choose(const struct control_choice *c, bool true_ctls, uint32_t *out, char *reason)
{
    uint64_t cap = rdmsr(true_ctls && c->true_msr ? c->true_msr : c->msr);
    uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);
    uint32_t value = c->required | (c->optional & may1) | must1;
    if (c->required & ~may1) {
        fmt_snprintf(reason, VIRT_REASON_MAX,
                     "VMX %s controls lack bits 0x%x that Keel needs (allowed-1 0x%x)", c->name,
                     c->required & ~may1, may1);
        return -1;
    }
    if (value & c->forbidden) {
        fmt_snprintf(reason, VIRT_REASON_MAX,
                     "VMX %s controls force bits 0x%x on that Keel needs off (no TRUE controls?)",
                     c->name, value & c->forbidden);
        return -1;
    }
    *out = value;
    return 0;
}

static bool vpid_usable(uint64_t proc2_may1, uint64_t cap)
{
    return (proc2_may1 & PROC2_VPID) && (cap & EPT_CAP_INVVPID) &&
           (cap & (EPT_CAP_INVVPID_SINGLE | EPT_CAP_INVVPID_ALL));
}

static int choose_all(bool true_ctls, char *reason)
{
    struct vmx_config *k = &vmx_config;
    uint64_t proc2_may1 = rdmsr(MSR_VMX_PROCBASED2) >> 32;
    k->vpid = vpid_usable(proc2_may1, k->ept_vpid_cap);
    const struct control_choice choices[] = {
        /* 25.6.1: host interrupts and NMIs always exit; the preemption timer
         * bounds a guest slice (VMX_GUEST_SLICE_HZ). */
        {"pin-based", MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED,
         PIN_EXT_INTR_EXITING | PIN_NMI_EXITING, PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER, 0},
        /* 25.6.2: HLT, all I/O, all MSRs (bitmap of ones), CR8 (else the guest
         * would write the host's TPR); MWAIT, MONITOR and RDPMC when they can. */
        {"primary processor-based", MSR_VMX_PROCBASED, MSR_VMX_TRUE_PROCBASED,
         PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING | PROC_MSR_BITMAPS | PROC_SECONDARY |
             PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING,
         PROC_MWAIT_EXITING | PROC_MONITOR_EXITING | PROC_RDPMC_EXITING,
         PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_INTR_WINDOW | PROC_NMI_WINDOW |
             PROC_TPR_SHADOW | PROC_IO_BITMAPS | PROC_MOV_DR_EXITING | PROC_INVLPG_EXITING |
             PROC_RDTSC_EXITING | PROC_MONITOR_TRAP_FLAG | PROC_PAUSE_EXITING},
        /* 25.6.2: EPT and unrestricted guest; what keeps guests from #UD. */
        {"secondary processor-based", MSR_VMX_PROCBASED2, 0, PROC2_EPT | PROC2_UNRESTRICTED,
         (k->vpid ? PROC2_VPID : 0) | PROC2_RDTSCP | PROC2_INVPCID | PROC2_XSAVES |
             PROC2_WBINVD_EXITING,
         PROC2_VIRT_APIC_ACCESS | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY},
        /* 25.7.1: 64-bit host, EFER switched, interrupts left in the LAPIC. */
        {"VM-exit", MSR_VMX_EXIT, MSR_VMX_TRUE_EXIT,
         EXIT_HOST_64BIT | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
         EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG, EXIT_ACK_INTR},
        /* 25.8.1: EFER loaded; IA-32e mode guest is set per vCPU. */
        {"VM-entry", MSR_VMX_ENTRY, MSR_VMX_TRUE_ENTRY, ENTRY_LOAD_EFER,
         ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG, ENTRY_IA32E_GUEST},
    };
    uint32_t *out[] = {&k->pin, &k->proc, &k->proc2, &k->exit, &k->entry};
    for (unsigned i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
        if (choose(&choices[i], true_ctls, out[i], reason))
            return -1;
    }
    /* PAT is switched only when both directions can be. */
    if ((k->exit & (EXIT_SAVE_PAT | EXIT_LOAD_PAT)) != (EXIT_SAVE_PAT | EXIT_LOAD_PAT) ||
        !(k->entry & ENTRY_LOAD_PAT)) {
        k->exit &= ~(EXIT_SAVE_PAT | EXIT_LOAD_PAT);
        k->entry &= ~ENTRY_LOAD_PAT;
    }
    k->virtual_nmis = k->pin & PIN_VIRTUAL_NMIS;
    return 0;
}

/* The VMX-preemption timer counts down at the TSC rate divided by 2^N,
 * N from IA32_VMX_MISC bits 4:0 (26.5.1, A.6); one guest slice in its
 * units. */
static uint32_t preemption_timer_slice(void)
{
    uint64_t hz = tsc_hz ? tsc_hz : FALLBACK_TSC_HZ;
    uint64_t ticks = (hz / VMX_GUEST_SLICE_HZ) >> (rdmsr(MSR_VMX_MISC) & MISC_PREEMPT_RATE_MASK);
    if (ticks == 0)
        return 1;
    return ticks > 0xffffffffu ? 0xffffffffu : (uint32_t)ticks;
}

/* CR0/CR4 bits VMX fixes (A.7, A.8) are owned by the host: set in the
 * guest/host mask so the guest reads its own value from the read shadow and
 * a write that changes one exits (25.6.6). Unrestricted guest frees PE and
 * PG (27.3.1.1). VMXE is fixed to 1 and owned, so the guest never sees it. */
static void choose_cr_masks(void)
{
    struct vmx_config *k = &vmx_config;
    k->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0) & ~(CR0_PE | CR0_PG);
    k->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
    k->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
    k->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
    k->cr0_host_owned = k->cr0_fixed0 | ~k->cr0_fixed1;
    k->cr4_host_owned = k->cr4_fixed0 | ~k->cr4_fixed1 | CR4_VMXE;
}

static unsigned host_maxphyaddr(void)
{
    if (cpuid(CPUID_EXT_MAX, 0).eax < CPUID_EXT_ADDR_SIZE)
        return DEFAULT_MAXPHYADDR;
    return cpuid(CPUID_EXT_ADDR_SIZE, 0).eax & 0xff;
}

/* Called once by the probe on the boot CPU (every CPU reports the same
 * capabilities). Returns 0, or -1 with a reason. */
int vmx_config_init(char *reason)
{
    struct vmx_config *k = &vmx_config;
    uint64_t basic = rdmsr(MSR_VMX_BASIC);
    k->revision = (uint32_t)(basic & BASIC_REVISION_MASK);
    k->ept_vpid_cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
    if (choose_all(basic & BASIC_TRUE_CONTROLS, reason))
        return -1;
    if (!(rdmsr(MSR_VMX_MISC) & MISC_STORE_LMA)) {
        fmt_snprintf(reason, VIRT_REASON_MAX,
                     "VMX exits do not store EFER.LMA (IA32_VMX_MISC bit 5): Keel needs it");
        return -1;
    }
    choose_cr_masks();
    k->maxphyaddr = host_maxphyaddr();
    k->preemption_timer = (k->pin & PIN_PREEMPTION_TIMER) ? preemption_timer_slice() : 0;
    if (!k->msr_bitmap) {
        /* All ones: every RDMSR and WRMSR exits (25.6.9). Shared, read-only. */
        k->msr_bitmap = pmm_alloc_frame();
        if (!k->msr_bitmap) {
            fmt_snprintf(reason, VIRT_REASON_MAX, "no memory for the VMX MSR bitmap");
            return -1;
        }
        memset(phys_to_virt(k->msr_bitmap), 0xff, PAGE_SIZE);
    }
    return 0;
}
