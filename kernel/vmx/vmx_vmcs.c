/*
 * Where a VMCS lives (SDM Vol. 3C 25.11.1-25.11.3): VMCLEAR before first
 * use and before it moves to another CPU or is freed, VMPTRLD to make it
 * current, and the host-state area (25.5, checked by 27.2.2-27.2.4) written
 * for the CPU it is active on. A vCPU normally stays on one CPU; if it is
 * touched from another, its VMCS is cleared on the old CPU by cross call and
 * loaded on the new one, as KVM does.
 */
#include "cpu.h"
#include "gdt.h"
#include "percpu.h"
#include "printk.h"
#include "smp.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_internal.h"

#define MSR_SYSENTER_CS  0x174 /* SDM Vol. 4 table 2-2 */
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PAT          0x277
#define MSR_STAR         0xc0000081
#define MSR_LSTAR        0xc0000082
#define MSR_CSTAR        0xc0000083
#define MSR_SFMASK       0xc0000084

#define CLEAR_TIMEOUT_US 100000

/* KERNEL_GS_BASE first: it is the one whose host value changes at run time. */
const uint32_t vmx_switched_msrs[SWITCHED_MSR_COUNT] = {
    MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
};

uint64_t vmx_current_vmcs[MAX_CPUS];

static void clear_on_this_cpu(void *arg)
{
    struct vmx_vcpu *x = arg;
    unsigned cpu = this_cpu()->index;
    vmx_vmclear(x->vmcs_phys); /* writes the cached state back to memory */
    if (vmx_current_vmcs[cpu] == x->vmcs_phys)
        vmx_current_vmcs[cpu] = 0;
}

int vmx_vmcs_release(struct vmx_vcpu *x)
{
    if (x->cpu < 0)
        return 0;
    if ((unsigned)x->cpu == this_cpu()->index)
        clear_on_this_cpu(x);
    else if (!smp_cross_call((unsigned)x->cpu, clear_on_this_cpu, x, false, CLEAR_TIMEOUT_US))
        return -1;
    x->cpu = -1;
    x->launched = false; /* VMCLEAR sets the launch state to clear (25.11.3) */
    return 0;
}

int vmx_vmcs_load_slow(struct vmx_vcpu *x)
{
    unsigned cpu = this_cpu()->index;
    if (x->cpu == (int)cpu) {
        if (vmx_current_vmcs[cpu] != x->vmcs_phys) {
            if (vmx_vmptrld(x->vmcs_phys))
                return -1;
            vmx_current_vmcs[cpu] = x->vmcs_phys;
        }
        return 0;
    }
    if (vmx_vmcs_release(x)) {
        pr_warn("vmx: VMCS active on cpu%d could not be cleared from cpu%u", x->cpu, cpu);
        return -1;
    }
    if (vmx_vmptrld(x->vmcs_phys))
        return -1;
    vmx_current_vmcs[cpu] = x->vmcs_phys;
    x->cpu = (int)cpu;
    vmx_write_host_cpu_state(x);
    /* This CPU may hold translations tagged with our EPTP or VPID from an
     * earlier VM that used the same root frame or VPID (29.4.3). */
    x->flush_pending = true;
    return 0;
}

static uint64_t gdt_base(void)
{
    struct descriptor_table_pointer p;
    __asm__ volatile("sgdt %0" : "=m"(p));
    return p.base;
}

static uint64_t idt_base(void)
{
    struct descriptor_table_pointer p;
    __asm__ volatile("sidt %0" : "=m"(p));
    return p.base;
}

/* Host state that belongs to the CPU (25.5): written when the VMCS becomes
 * active on a CPU. Selectors need RPL 0 and TI 0 (27.2.3); FS and GS get
 * null selectors, their bases coming from the base fields. VM exit gives TR
 * the limit 0x67, which fits Keel's TSS (no I/O bitmap). */
void vmx_write_host_cpu_state(struct vmx_vcpu *x)
{
    struct percpu *p = this_cpu();
    vmcs_write(VMCS_HOST_CS_SEL, SEL_KERNEL_CODE);
    vmcs_write(VMCS_HOST_SS_SEL, SEL_KERNEL_DATA);
    vmcs_write(VMCS_HOST_DS_SEL, SEL_KERNEL_DATA);
    vmcs_write(VMCS_HOST_ES_SEL, SEL_KERNEL_DATA);
    vmcs_write(VMCS_HOST_FS_SEL, 0);
    vmcs_write(VMCS_HOST_GS_SEL, 0);
    vmcs_write(VMCS_HOST_TR_SEL, SEL_TSS);
    vmcs_write(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE)); /* the per-CPU block */
    vmcs_write(VMCS_HOST_TR_BASE, (uint64_t)&p->tss);
    vmcs_write(VMCS_HOST_GDTR_BASE, gdt_base());
    vmcs_write(VMCS_HOST_IDTR_BASE, idt_base());
    vmcs_write(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
    vmcs_write(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
    vmcs_write(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
    vmcs_write(VMCS_HOST_EFER, rdmsr(MSR_EFER));
    if (vmx_config.exit & EXIT_LOAD_PAT)
        vmcs_write(VMCS_HOST_PAT, rdmsr(MSR_PAT));
    vmcs_write(VMCS_HOST_RIP, (uint64_t)vmx_exit_stub);
    /* The SYSCALL MSRs are set once per CPU at boot; KERNEL_GS_BASE is
     * refreshed before every entry (vmx_refresh_host_state). */
    for (unsigned i = 1; i < SWITCHED_MSR_COUNT; i++)
        x->host_msrs[i].value = rdmsr(vmx_switched_msrs[i]);
    /* Force the per-entry fields to be written again. */
    x->host_rsp = 0;
    x->host_cr0 = x->host_cr3 = x->host_cr4 = x->host_fs_base = ~0ull;
}

/* Host state that can change between two entries on the same CPU: CR0 and
 * CR4, CR3 (each partition has its own PML4), the FS base and
 * KERNEL_GS_BASE of the thread that runs the vCPU. VM exit loads all of them
 * (28.5.1, 28.6). */
void vmx_refresh_host_state(struct vmx_vcpu *x)
{
    uint64_t cr0 = read_cr0(), cr3 = read_cr3(), cr4 = read_cr4(), fs_base = rdmsr(MSR_FS_BASE);
    if (cr0 != x->host_cr0) {
        vmcs_write(VMCS_HOST_CR0, cr0);
        x->host_cr0 = cr0;
    }
    if (cr3 != x->host_cr3) {
        vmcs_write(VMCS_HOST_CR3, cr3);
        x->host_cr3 = cr3;
    }
    if (cr4 != x->host_cr4) {
        vmcs_write(VMCS_HOST_CR4, cr4);
        x->host_cr4 = cr4;
    }
    if (fs_base != x->host_fs_base) {
        vmcs_write(VMCS_HOST_FS_BASE, fs_base);
        x->host_fs_base = fs_base;
    }
    x->host_msrs[0].value = rdmsr(MSR_KERNEL_GS_BASE);
}
