/*
 * AMD-V (SVM) discovery and per-CPU enable (AMD APM Vol. 2, 15.4 "Enabling
 * SVM", 15.30.1 VM_CR, 15.30.4 VM_HSAVE_PA; CPUID Fn8000_000A in APM Vol. 3
 * appendix E.4.9). Features are read from CPUID, never assumed: QEMU's TCG
 * lacks NRIP save, decode assists, clean bits and more (DESIGN.md section 8).
 */
#include <stdbool.h>

#include "cpu.h"
#include "cpufeatures.h"
#include "fmt.h"
#include "percpu.h"
#include "pmm.h"
#include "svm/svm_internal.h"
#include "virt.h"

#define CPUID_EXT_SVM   (1u << 2) /* Fn8000_0001 ECX */
#define MSR_VM_CR       0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define VM_CR_LOCK      (1ull << 3)
#define VM_CR_SVMDIS    (1ull << 4)
#define EFER_SVME       (1ull << 12)

/* CPUID Fn8000_000A EDX feature bits. */
#define SVM_NP             (1u << 0)
#define SVM_LBR_VIRT       (1u << 1)
#define SVM_NRIP_SAVE      (1u << 3)
#define SVM_TSC_RATE       (1u << 4)
#define SVM_VMCB_CLEAN     (1u << 5)
#define SVM_FLUSH_BY_ASID  (1u << 6)
#define SVM_DECODE_ASSISTS (1u << 7)
#define SVM_PAUSE_FILTER   (1u << 10)
#define SVM_AVIC           (1u << 13)
#define SVM_VGIF           (1u << 16)

static uint64_t host_save_area[MAX_CPUS];
uint64_t svm_host_state_vmcb[MAX_CPUS];
uint32_t svm_features;

static bool svm_present(void)
{
    return cpu_features.max_ext_leaf >= 0x80000001 && (cpuid(0x80000001, 0).ecx & CPUID_EXT_SVM);
}

static const char *yes_no(uint32_t edx, uint32_t bit)
{
    return (edx & bit) ? "yes" : "no";
}

static void svm_probe(struct virt_caps *caps)
{
    *caps = (struct virt_caps){0};
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
        fmt_snprintf(caps->reason, sizeof(caps->reason),
                     "SVM disabled by firmware (VM_CR.SVMDIS set%s): enable SVM / AMD-V in the "
                     "BIOS setup",
                     (rdmsr(MSR_VM_CR) & VM_CR_LOCK) ? ", locked" : "");
        return;
    }
    if (cpu_features.max_ext_leaf < 0x8000000a) {
        fmt_snprintf(caps->reason, sizeof(caps->reason),
                     "SVM present but CPUID leaf 0x8000000a missing; cannot read its features");
        return;
    }
    struct cpuid_regs r = cpuid(0x8000000a, 0);
    svm_features = r.edx;
    if (!(r.edx & SVM_NP)) {
        fmt_snprintf(caps->reason, sizeof(caps->reason),
                     "SVM without nested paging (NPT): Keel needs NPT; use a CPU with AMD-V "
                     "RVI (in QEMU: -cpu max or EPYC)");
        return;
    }
    caps->usable = true;
    caps->slat_2m_pages = true;
    caps->slat_1g_pages = cpu_features.page1g; /* NPT uses the host's page formats */
    caps->address_space_ids = r.ebx;
    fmt_snprintf(caps->features, sizeof(caps->features),
                 "revision %u, npt 4-level 4k/2m%s, %u asids, nrip-save %s, decode-assists %s, "
                 "vmcb-clean %s, flush-by-asid %s, tsc-scaling %s, pause-filter %s, avic %s, "
                 "vgif %s",
                 r.eax & 0xff, caps->slat_1g_pages ? "/1g" : "", r.ebx,
                 yes_no(r.edx, SVM_NRIP_SAVE), yes_no(r.edx, SVM_DECODE_ASSISTS),
                 yes_no(r.edx, SVM_VMCB_CLEAN), yes_no(r.edx, SVM_FLUSH_BY_ASID),
                 yes_no(r.edx, SVM_TSC_RATE), yes_no(r.edx, SVM_PAUSE_FILTER),
                 yes_no(r.edx, SVM_AVIC), yes_no(r.edx, SVM_VGIF));
}

static int svm_cpu_enable(char *reason)
{
    unsigned cpu = this_cpu()->index;
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
        fmt_snprintf(reason, VIRT_REASON_MAX,
                     "SVM disabled by firmware on this CPU (VM_CR.SVMDIS set): enable SVM / "
                     "AMD-V in the BIOS setup");
        return -1;
    }
    if (!host_save_area[cpu]) {
        host_save_area[cpu] = pmm_alloc_frame();
        if (!host_save_area[cpu]) {
            fmt_snprintf(reason, VIRT_REASON_MAX, "no memory for the host save area");
            return -1;
        }
    }
    if (!svm_host_state_vmcb[cpu]) {
        svm_host_state_vmcb[cpu] = pmm_alloc_frame();
        if (!svm_host_state_vmcb[cpu]) {
            fmt_snprintf(reason, VIRT_REASON_MAX, "no memory for the host state VMCB");
            return -1;
        }
    }
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, host_save_area[cpu]);
    return 0;
}

static void svm_cpu_disable(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SVME);
}

const struct virt_ops svm_ops = {
    .name = "svm",
    .present = svm_present,
    .probe = svm_probe,
    .cpu_enable = svm_cpu_enable,
    .cpu_disable = svm_cpu_disable,
    .slat_format = SLAT_NPT,
    .vcpu_create = svm_vcpu_create,
    .vcpu_destroy = svm_vcpu_destroy,
    .vcpu_run = svm_vcpu_run,
    .get_regs = svm_get_regs,
    .set_regs = svm_set_regs,
    .get_sregs = svm_get_sregs,
    .set_sregs = svm_set_sregs,
    .skip_instruction = svm_skip_instruction,
    .interrupt_allowed = svm_interrupt_allowed,
    .request_interrupt_window = svm_request_interrupt_window,
    .flush_guest_tlb = svm_flush_guest_tlb,
    .clear_events = svm_clear_events,
};
