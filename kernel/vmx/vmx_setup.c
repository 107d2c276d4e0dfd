/*
 * A new vCPU's VMCS: the execution, exit and entry controls (SDM Vol. 3C
 * 25.6-25.8) and the guest-state area (25.4) in the architectural reset
 * state (SDM Vol. 3A 10.1.1, table 10-1). Every write is checked: a field
 * this CPU does not have fails the vCPU's creation, never the core.
 */
#include "cpu.h"
#include "layout.h"
#include "printk.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_internal.h"

#define RESET_CR0         0x60000010ull /* CD, NW, ET (table 10-1) */
#define RESET_RIP         0xfff0ull
#define RESET_RFLAGS      0x2ull
#define RESET_CS_SEL      0xf000ull
#define RESET_CS_BASE     0xffff0000ull
#define RESET_LIMIT       0xffffull
#define RESET_DR7         0x400ull
#define RESET_PAT         0x0007040600070406ull /* SDM Vol. 3A 13.12.4 */
#define AR_CODE_RESET     0x9bull               /* present, S, code execute/read, accessed */
#define AR_DATA_RESET     0x93ull               /* present, S, data read/write, accessed */
#define AR_LDT_RESET      0x82ull               /* present, LDT */
#define AR_TSS_BUSY       0x8bull               /* present, 32-bit busy TSS (27.3.1.2 wants busy) */
#define LINK_POINTER_NONE (~0ull)               /* no shadow VMCS (27.3.1.5) */
#define APIC_BASE_DEFAULT 0xfee00000ull
#define APIC_BASE_ENABLE  (1ull << 11)
#define APIC_BASE_BSP     (1ull << 8)

struct field_value {
    uint32_t field;
    uint64_t value;
};

static bool write_all(const struct field_value *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (vmcs_write_checked(f[i].field, f[i].value)) {
            pr_err("vmx: VMWRITE of field 0x%x failed (error %llu)", f[i].field,
                   (unsigned long long)vmcs_read(VMCS_INSN_ERROR));
            return false;
        }
    }
    return true;
}

bool vmx_write_controls(struct vcpu *v, struct vmx_vcpu *x)
{
    const struct vmx_config *k = &vmx_config;
    uint32_t proc2 = x->vpid ? k->proc2 : k->proc2 & ~PROC2_VPID;
    uint64_t guest_area = x->msr_page, host_area = x->msr_page + PAGE_SIZE / 2;
    const struct field_value f[] = {
        {VMCS_PIN_CONTROLS, k->pin},
        {VMCS_PROC_CONTROLS, x->proc},
        {VMCS_PROC2_CONTROLS, proc2},
        {VMCS_EXIT_CONTROLS, k->exit},
        {VMCS_ENTRY_CONTROLS, k->entry},
        {VMCS_EXCEPTION_BITMAP, 0}, /* #MC included: hardware delivers it */
        {VMCS_PF_ERROR_MASK, 0},
        {VMCS_PF_ERROR_MATCH, 0},
        {VMCS_CR3_TARGET_COUNT, 0},
        {VMCS_MSR_BITMAP, k->msr_bitmap},
        /* One guest area serves both exit-store and entry-load (25.7.2,
         * 25.8.2); the host area is loaded on exit. */
        {VMCS_EXIT_MSR_STORE, guest_area},
        {VMCS_EXIT_MSR_STORE_COUNT, SWITCHED_MSR_COUNT},
        {VMCS_ENTRY_MSR_LOAD, guest_area},
        {VMCS_ENTRY_MSR_LOAD_COUNT, SWITCHED_MSR_COUNT},
        {VMCS_EXIT_MSR_LOAD, host_area},
        {VMCS_EXIT_MSR_LOAD_COUNT, SWITCHED_MSR_COUNT},
        {VMCS_ENTRY_INTR_INFO, 0},
        {VMCS_EPT_POINTER, slat_hardware_root(&v->vm->slat)},
        {VMCS_CR0_MASK, k->cr0_host_owned},
        {VMCS_CR4_MASK, k->cr4_host_owned},
        {VMCS_LINK_POINTER, LINK_POINTER_NONE},
    };
    if (!write_all(f, sizeof(f) / sizeof(f[0])))
        return false;
    if (x->vpid && vmcs_write_checked(VMCS_VPID, x->vpid))
        return false;
    /* Counted down from this value after every entry (26.5.1). */
    if (k->preemption_timer && vmcs_write_checked(VMCS_GUEST_PREEMPT_TIMER, k->preemption_timer))
        return false;
    /* With XSAVES enabled, a zero XSS-exiting bitmap lets it run (25.6.20). */
    if ((proc2 & PROC2_XSAVES) && vmcs_write_checked(VMCS_XSS_EXIT_BITMAP, 0))
        return false;
    return true;
}

/* Table 10-1: the data segments and LDTR/TR share selector 0, base 0 and
 * limit 0xffff; CS is 0xf000 with base 0xffff0000. */
static bool write_reset_segments(void)
{
    for (unsigned s = SEG_ES; s <= SEG_TR; s++) {
        uint64_t ar = s == SEG_CS     ? AR_CODE_RESET
                      : s == SEG_LDTR ? AR_LDT_RESET
                      : s == SEG_TR   ? AR_TSS_BUSY
                                      : AR_DATA_RESET;
        const struct field_value f[] = {
            {VMCS_SEG_SEL(s), s == SEG_CS ? RESET_CS_SEL : 0},
            {VMCS_SEG_BASE(s), s == SEG_CS ? RESET_CS_BASE : 0},
            {VMCS_SEG_LIMIT(s), RESET_LIMIT},
            {VMCS_SEG_AR(s), ar},
        };
        if (!write_all(f, sizeof(f) / sizeof(f[0])))
            return false;
    }
    return true;
}

bool vmx_write_reset_state(struct vcpu *v, struct vmx_vcpu *x)
{
    const struct vmx_config *k = &vmx_config;
    const struct field_value f[] = {
        /* The guest sees CR0 = 0x60000010 and CR4 = 0 through the shadows;
         * the real registers carry the bits VMX fixes (NE, VMXE). */
        {VMCS_GUEST_CR0, RESET_CR0 | k->cr0_fixed0},
        {VMCS_CR0_SHADOW, RESET_CR0},
        {VMCS_GUEST_CR4, k->cr4_fixed0},
        {VMCS_CR4_SHADOW, 0},
        {VMCS_GUEST_CR3, 0},
        {VMCS_GUEST_GDTR_BASE, 0},
        {VMCS_GUEST_GDTR_LIMIT, RESET_LIMIT},
        {VMCS_GUEST_IDTR_BASE, 0},
        {VMCS_GUEST_IDTR_LIMIT, RESET_LIMIT},
        {VMCS_GUEST_DR7, RESET_DR7},
        {VMCS_GUEST_RSP, 0},
        {VMCS_GUEST_RIP, RESET_RIP},
        {VMCS_GUEST_RFLAGS, RESET_RFLAGS},
        {VMCS_GUEST_PENDING_DBG, 0},
        {VMCS_GUEST_SYSENTER_CS, 0},
        {VMCS_GUEST_SYSENTER_ESP, 0},
        {VMCS_GUEST_SYSENTER_EIP, 0},
        {VMCS_GUEST_DEBUGCTL, 0},
        {VMCS_GUEST_EFER, 0},
        {VMCS_GUEST_INTERRUPTIBILITY, 0},
        {VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE},
    };
    if (!write_all(f, sizeof(f) / sizeof(f[0])) || !write_reset_segments())
        return false;
    for (unsigned i = 0; i < 4; i++) {
        if (vmcs_write_checked(VMCS_GUEST_PDPTE0 + 2 * i, 0))
            return false;
    }
    if ((k->entry & ENTRY_LOAD_PAT) && vmcs_write_checked(VMCS_GUEST_PAT, RESET_PAT))
        return false;
    v->gprs = (struct guest_gprs){0};
    v->gprs.rdx = cpuid(1, 0).eax; /* table 10-1: EDX holds the CPU signature */
    for (unsigned i = 0; i < SWITCHED_MSR_COUNT; i++)
        x->guest_msrs[i].value = 0;
    x->cr2 = 0;
    x->apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (v->id == 0 ? APIC_BASE_BSP : 0);
    x->event.valid = false;
    return true;
}
