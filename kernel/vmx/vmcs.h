/*
 * The VMX architecture in names: VMCS field encodings (Intel SDM Vol. 3C
 * appendix B), control bits (chapter 25, "Virtual Machine Control
 * Structures"), capability MSRs (appendix A), exit reasons (appendix C) and
 * exit-qualification layouts (chapter 28, "VM Exits"), and thin wrappers over
 * the VMX instructions (chapter 31, "VMX Instruction Reference"). Nothing
 * outside kernel/vmx/ includes this file: generic code never sees a field.
 */
#ifndef KEEL_VMX_VMCS_H
#define KEEL_VMX_VMCS_H

#include <stdbool.h>
#include <stdint.h>

/* ---- Architectural bits the backend checks (SDM Vol. 3A 2.5, 10.8.5;
 * Vol. 4 table 2-2 for EFER) ---- */
#define CR0_PE        (1ull << 0)
#define CR0_TS        (1ull << 3)
#define CR0_NW        (1ull << 29)
#define CR0_CD        (1ull << 30)
#define CR0_PG        (1ull << 31)
#define CR4_PAE       (1ull << 5)
#define CR4_LA57      (1ull << 12)
#define CR4_VMXE      (1ull << 13)
#define CR4_PCIDE     (1ull << 17)
#define EFER_SCE      (1ull << 0)
#define EFER_LME      (1ull << 8)
#define EFER_LMA      (1ull << 10)
#define RFLAGS_IF_BIT (1ull << 9)

/* ---- Capability MSRs (SDM Vol. 3C appendix A; Vol. 4 table 2-2) ---- */
#define MSR_FEATURE_CONTROL    0x3a
#define MSR_VMX_BASIC          0x480 /* A.1 */
#define MSR_VMX_PINBASED       0x481 /* A.3.1 */
#define MSR_VMX_PROCBASED      0x482 /* A.3.2 */
#define MSR_VMX_EXIT           0x483 /* A.4 */
#define MSR_VMX_ENTRY          0x484 /* A.5 */
#define MSR_VMX_MISC           0x485 /* A.6 */
#define MSR_VMX_CR0_FIXED0     0x486 /* A.7 */
#define MSR_VMX_CR0_FIXED1     0x487
#define MSR_VMX_CR4_FIXED0     0x488 /* A.8 */
#define MSR_VMX_CR4_FIXED1     0x489
#define MSR_VMX_PROCBASED2     0x48b /* A.3.3 */
#define MSR_VMX_EPT_VPID_CAP   0x48c /* A.10 */
#define MSR_VMX_TRUE_PINBASED  0x48d /* A.3.1, used when BASIC bit 55 is set */
#define MSR_VMX_TRUE_PROCBASED 0x48e /* A.3.2 */
#define MSR_VMX_TRUE_EXIT      0x48f /* A.4 */
#define MSR_VMX_TRUE_ENTRY     0x490 /* A.5 */

#define FEATURE_CONTROL_LOCK  (1ull << 0)
#define FEATURE_CONTROL_VMXON (1ull << 2) /* VMXON outside SMX */

#define BASIC_REVISION_MASK    0x7fffffffull /* A.1: bits 30:0 */
#define BASIC_TRUE_CONTROLS    (1ull << 55)  /* A.1: the TRUE_* MSRs exist */
#define MISC_PREEMPT_RATE_MASK 0x1full       /* A.6: bits 4:0 */
#define MISC_STORE_LMA         (1ull << 5)   /* A.6: exits store EFER.LMA in the entry control */

/* IA32_VMX_EPT_VPID_CAP (A.10). */
#define EPT_CAP_WALK4          (1ull << 6)
#define EPT_CAP_WB             (1ull << 14)
#define EPT_CAP_2M             (1ull << 16)
#define EPT_CAP_1G             (1ull << 17)
#define EPT_CAP_INVEPT         (1ull << 20)
#define EPT_CAP_AD             (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE  (1ull << 25)
#define EPT_CAP_INVEPT_ALL     (1ull << 26)
#define EPT_CAP_INVVPID        (1ull << 32)
#define EPT_CAP_INVVPID_SINGLE (1ull << 41)
#define EPT_CAP_INVVPID_ALL    (1ull << 42)

/* ---- Execution controls (SDM Vol. 3C 25.6) ---- */
/* Pin-based (25.6.1, table 25-5). */
#define PIN_EXT_INTR_EXITING (1u << 0)
#define PIN_NMI_EXITING      (1u << 3)
#define PIN_VIRTUAL_NMIS     (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)

/* Primary processor-based (25.6.2, table 25-6). */
#define PROC_INTR_WINDOW       (1u << 2)
#define PROC_TSC_OFFSETTING    (1u << 3)
#define PROC_HLT_EXITING       (1u << 7)
#define PROC_INVLPG_EXITING    (1u << 9)
#define PROC_MWAIT_EXITING     (1u << 10)
#define PROC_RDPMC_EXITING     (1u << 11)
#define PROC_RDTSC_EXITING     (1u << 12)
#define PROC_CR3_LOAD_EXITING  (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_CR8_LOAD_EXITING  (1u << 19)
#define PROC_CR8_STORE_EXITING (1u << 20)
#define PROC_TPR_SHADOW        (1u << 21)
#define PROC_NMI_WINDOW        (1u << 22)
#define PROC_MOV_DR_EXITING    (1u << 23)
#define PROC_UNCOND_IO_EXITING (1u << 24)
#define PROC_IO_BITMAPS        (1u << 25)
#define PROC_MONITOR_TRAP_FLAG (1u << 27)
#define PROC_MSR_BITMAPS       (1u << 28)
#define PROC_MONITOR_EXITING   (1u << 29)
#define PROC_PAUSE_EXITING     (1u << 30)
#define PROC_SECONDARY         (1u << 31)

/* Secondary processor-based (25.6.2, table 25-7). */
#define PROC2_VIRT_APIC_ACCESS   (1u << 0)
#define PROC2_EPT                (1u << 1)
#define PROC2_RDTSCP             (1u << 3)
#define PROC2_VPID               (1u << 5)
#define PROC2_WBINVD_EXITING     (1u << 6)
#define PROC2_UNRESTRICTED       (1u << 7)
#define PROC2_APIC_REG_VIRT      (1u << 8)
#define PROC2_VIRT_INTR_DELIVERY (1u << 9)
#define PROC2_INVPCID            (1u << 12)
#define PROC2_XSAVES             (1u << 20)

/* VM-exit controls (25.7.1, table 25-13). */
#define EXIT_SAVE_DEBUG (1u << 2)
#define EXIT_HOST_64BIT (1u << 9)  /* host address-space size */
#define EXIT_ACK_INTR   (1u << 15) /* acknowledge interrupt on exit */
#define EXIT_SAVE_PAT   (1u << 18)
#define EXIT_LOAD_PAT   (1u << 19)
#define EXIT_SAVE_EFER  (1u << 20)
#define EXIT_LOAD_EFER  (1u << 21)

/* VM-entry controls (25.8.1, table 25-15). */
#define ENTRY_LOAD_DEBUG  (1u << 2)
#define ENTRY_IA32E_GUEST (1u << 9)
#define ENTRY_LOAD_PAT    (1u << 14)
#define ENTRY_LOAD_EFER   (1u << 15)

/* ---- Field encodings (SDM Vol. 3C appendix B) ---- */
/* 16-bit control and guest/host selector fields (B.1.1-B.1.3). */
#define VMCS_VPID         0x0000
#define VMCS_GUEST_ES_SEL 0x0800 /* ES, CS, SS, DS, FS, GS, LDTR, TR: +2 each */
#define VMCS_HOST_ES_SEL  0x0c00
#define VMCS_HOST_CS_SEL  0x0c02
#define VMCS_HOST_SS_SEL  0x0c04
#define VMCS_HOST_DS_SEL  0x0c06
#define VMCS_HOST_FS_SEL  0x0c08
#define VMCS_HOST_GS_SEL  0x0c0a
#define VMCS_HOST_TR_SEL  0x0c0c

/* 64-bit fields (B.2.1-B.2.4); each the full-width encoding. */
#define VMCS_MSR_BITMAP      0x2004
#define VMCS_EXIT_MSR_STORE  0x2006
#define VMCS_EXIT_MSR_LOAD   0x2008
#define VMCS_ENTRY_MSR_LOAD  0x200a
#define VMCS_TSC_OFFSET      0x2010
#define VMCS_EPT_POINTER     0x201a
#define VMCS_XSS_EXIT_BITMAP 0x202c
#define VMCS_GUEST_PHYS_ADDR 0x2400 /* read-only */
#define VMCS_LINK_POINTER    0x2800
#define VMCS_GUEST_DEBUGCTL  0x2802
#define VMCS_GUEST_PAT       0x2804
#define VMCS_GUEST_EFER      0x2806
#define VMCS_GUEST_PDPTE0    0x280a /* PDPTE0-3: +2 each */
#define VMCS_HOST_PAT        0x2c00
#define VMCS_HOST_EFER       0x2c02

/* 32-bit fields (B.3.1-B.3.4). */
#define VMCS_PIN_CONTROLS           0x4000
#define VMCS_PROC_CONTROLS          0x4002
#define VMCS_EXCEPTION_BITMAP       0x4004
#define VMCS_PF_ERROR_MASK          0x4006
#define VMCS_PF_ERROR_MATCH         0x4008
#define VMCS_CR3_TARGET_COUNT       0x400a
#define VMCS_EXIT_CONTROLS          0x400c
#define VMCS_EXIT_MSR_STORE_COUNT   0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT    0x4010
#define VMCS_ENTRY_CONTROLS         0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT   0x4014
#define VMCS_ENTRY_INTR_INFO        0x4016
#define VMCS_ENTRY_ERROR_CODE       0x4018
#define VMCS_ENTRY_INSN_LEN         0x401a
#define VMCS_PROC2_CONTROLS         0x401e
#define VMCS_INSN_ERROR             0x4400 /* read-only from here to 0x440e */
#define VMCS_EXIT_REASON            0x4402
#define VMCS_EXIT_INTR_INFO         0x4404
#define VMCS_EXIT_INTR_ERROR        0x4406
#define VMCS_IDT_VECTORING_INFO     0x4408
#define VMCS_IDT_VECTORING_ERROR    0x440a
#define VMCS_EXIT_INSN_LEN          0x440c
#define VMCS_GUEST_ES_LIMIT         0x4800 /* segment order as the selectors */
#define VMCS_GUEST_GDTR_LIMIT       0x4810
#define VMCS_GUEST_IDTR_LIMIT       0x4812
#define VMCS_GUEST_ES_AR            0x4814 /* segment order as the selectors */
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824
#define VMCS_GUEST_ACTIVITY         0x4826
#define VMCS_GUEST_SYSENTER_CS      0x482a
#define VMCS_GUEST_PREEMPT_TIMER    0x482e
#define VMCS_HOST_SYSENTER_CS       0x4c00

/* Natural-width fields (B.4.1-B.4.4). */
#define VMCS_CR0_MASK           0x6000
#define VMCS_CR4_MASK           0x6002
#define VMCS_CR0_SHADOW         0x6004
#define VMCS_CR4_SHADOW         0x6006
#define VMCS_EXIT_QUALIFICATION 0x6400 /* read-only */
#define VMCS_GUEST_CR0          0x6800
#define VMCS_GUEST_CR3          0x6802
#define VMCS_GUEST_CR4          0x6804
#define VMCS_GUEST_ES_BASE      0x6806 /* segment order as the selectors */
#define VMCS_GUEST_GDTR_BASE    0x6816
#define VMCS_GUEST_IDTR_BASE    0x6818
#define VMCS_GUEST_DR7          0x681a
#define VMCS_GUEST_RSP          0x681c
#define VMCS_GUEST_RIP          0x681e
#define VMCS_GUEST_RFLAGS       0x6820
#define VMCS_GUEST_PENDING_DBG  0x6822
#define VMCS_GUEST_SYSENTER_ESP 0x6824
#define VMCS_GUEST_SYSENTER_EIP 0x6826
#define VMCS_HOST_CR0           0x6c00
#define VMCS_HOST_CR3           0x6c02
#define VMCS_HOST_CR4           0x6c04
#define VMCS_HOST_FS_BASE       0x6c06
#define VMCS_HOST_GS_BASE       0x6c08
#define VMCS_HOST_TR_BASE       0x6c0a
#define VMCS_HOST_GDTR_BASE     0x6c0c
#define VMCS_HOST_IDTR_BASE     0x6c0e
#define VMCS_HOST_SYSENTER_ESP  0x6c10
#define VMCS_HOST_SYSENTER_EIP  0x6c12
#define VMCS_HOST_RSP           0x6c14
#define VMCS_HOST_RIP           0x6c16

/* Guest segment registers in the encoding order of B.1.2/B.3.3/B.4.3. */
enum vmx_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };
#define VMCS_SEG_SEL(s)   (VMCS_GUEST_ES_SEL + 2 * (s))
#define VMCS_SEG_LIMIT(s) (VMCS_GUEST_ES_LIMIT + 2 * (s))
#define VMCS_SEG_AR(s)    (VMCS_GUEST_ES_AR + 2 * (s))
#define VMCS_SEG_BASE(s)  (VMCS_GUEST_ES_BASE + 2 * (s))

/* Segment access rights (25.4.1, table 25-2). */
#define AR_TYPE_MASK 0xfu
#define AR_S         (1u << 4)
#define AR_DPL_SHIFT 5
#define AR_P         (1u << 7)
#define AR_AVL       (1u << 12)
#define AR_L         (1u << 13)
#define AR_DB        (1u << 14)
#define AR_G         (1u << 15)
#define AR_UNUSABLE  (1u << 16)

/* Guest interruptibility state (25.4.2, table 25-3) and activity state. */
#define INTR_BLOCK_STI    (1u << 0)
#define INTR_BLOCK_MOV_SS (1u << 1)
#define INTR_BLOCK_NMI    (1u << 3)
#define ACTIVITY_ACTIVE   0

/* Interruption-information format shared by VM-entry injection (25.8.3),
 * exit interruption information (25.9.2) and IDT-vectoring information
 * (25.9.3). */
#define INTR_INFO_VECTOR_MASK    0xffu
#define INTR_INFO_TYPE_SHIFT     8
#define INTR_INFO_TYPE_MASK      (7u << 8)
#define INTR_TYPE_EXTERNAL       0u
#define INTR_TYPE_NMI            2u
#define INTR_TYPE_HW_EXCEPTION   3u
#define INTR_TYPE_SOFT_INTR      4u
#define INTR_TYPE_PRIV_SOFT      5u
#define INTR_TYPE_SOFT_EXCEPTION 6u
#define INTR_INFO_ERROR_VALID    (1u << 11)
#define INTR_INFO_NMI_UNBLOCK    (1u << 12) /* exits only: NMI unblocking due to IRET */
#define INTR_INFO_VALID          (1u << 31)

/* ---- Exit reasons (SDM Vol. 3C appendix C) ---- */
#define EXIT_REASON_BASIC_MASK 0xffffu
#define EXIT_REASON_ENTRY_FAIL (1u << 31) /* 28.1 / 27.8: VM-entry failure */
enum vmx_exit_reason {
    EXIT_EXCEPTION_NMI = 0,
    EXIT_EXTERNAL_INTERRUPT = 1,
    EXIT_TRIPLE_FAULT = 2,
    EXIT_INIT = 3,
    EXIT_SIPI = 4,
    EXIT_INTERRUPT_WINDOW = 7,
    EXIT_NMI_WINDOW = 8,
    EXIT_TASK_SWITCH = 9,
    EXIT_CPUID = 10,
    EXIT_GETSEC = 11,
    EXIT_HLT = 12,
    EXIT_INVD = 13,
    EXIT_INVLPG = 14,
    EXIT_RDPMC = 15,
    EXIT_RDTSC = 16,
    EXIT_RSM = 17,
    EXIT_VMCALL = 18,
    EXIT_VMCLEAR = 19,
    EXIT_VMLAUNCH = 20,
    EXIT_VMPTRLD = 21,
    EXIT_VMPTRST = 22,
    EXIT_VMREAD = 23,
    EXIT_VMRESUME = 24,
    EXIT_VMWRITE = 25,
    EXIT_VMXOFF = 26,
    EXIT_VMXON = 27,
    EXIT_CR_ACCESS = 28,
    EXIT_DR_ACCESS = 29,
    EXIT_IO = 30,
    EXIT_RDMSR = 31,
    EXIT_WRMSR = 32,
    EXIT_INVALID_GUEST_STATE = 33,
    EXIT_MSR_LOADING = 34,
    EXIT_MWAIT = 36,
    EXIT_MONITOR_TRAP = 37,
    EXIT_MONITOR = 39,
    EXIT_PAUSE = 40,
    EXIT_MACHINE_CHECK = 41,
    EXIT_EPT_VIOLATION = 48,
    EXIT_EPT_MISCONFIG = 49,
    EXIT_INVEPT = 50,
    EXIT_RDTSCP = 51,
    EXIT_PREEMPTION_TIMER = 52,
    EXIT_INVVPID = 53,
    EXIT_WBINVD = 54,
    EXIT_XSETBV = 55,
    EXIT_VMFUNC = 59,
};

/* Exit qualification for control-register accesses (28.2.1, table 28-3). */
#define CRQ_CR_MASK       0xfu
#define CRQ_TYPE_SHIFT    4
#define CRQ_TYPE_MASK     3u
#define CRQ_TYPE_MOV_TO   0u
#define CRQ_TYPE_MOV_FROM 1u
#define CRQ_TYPE_CLTS     2u
#define CRQ_TYPE_LMSW     3u
#define CRQ_GPR_SHIFT     8
#define CRQ_GPR_MASK      0xfu
#define CRQ_LMSW_SHIFT    16
#define CRQ_LMSW_MASK     0xffffu

/* Exit qualification for I/O instructions (28.2.1, table 28-5). */
#define IOQ_SIZE_MASK  7u /* size - 1 */
#define IOQ_IN         (1u << 3)
#define IOQ_STRING     (1u << 4)
#define IOQ_REP        (1u << 5)
#define IOQ_PORT_SHIFT 16
#define IOQ_PORT_MASK  0xffffu

/* Exit qualification for EPT violations (28.2.1, table 28-7). */
#define EPTQ_READ         (1u << 0)
#define EPTQ_WRITE        (1u << 1)
#define EPTQ_FETCH        (1u << 2)
#define EPTQ_LINEAR_VALID (1u << 7)
#define EPTQ_NMI_UNBLOCK  (1u << 12)

/* vendor_code of a VM entry that failed as an instruction (VMfailValid or
 * VMfailInvalid, 31.2) rather than with an exit: this bit, plus the
 * VM-instruction error number (0 for VMfailInvalid). */
#define VMX_VENDOR_VMFAIL (1ull << 32)

/* INVEPT / INVVPID types (31.3, "INVEPT", "INVVPID"). */
#define INVEPT_SINGLE  1
#define INVEPT_ALL     2
#define INVVPID_SINGLE 1
#define INVVPID_ALL    2

/* ---- VMX instructions (31.3). Each fails with CF (VMfailInvalid) or ZF
 * (VMfailValid) set; the wrappers that can fail return true on failure. ---- */
static inline uint64_t vmcs_read(uint32_t field)
{
    uint64_t value;
    __asm__ volatile("vmread %1, %0" : "=r"(value) : "r"((uint64_t)field) : "cc");
    return value;
}

static inline void vmcs_write(uint32_t field, uint64_t value)
{
    __asm__ volatile("vmwrite %1, %0" : : "r"((uint64_t)field), "rm"(value) : "cc");
}

static inline bool vmcs_write_checked(uint32_t field, uint64_t value)
{
    bool failed;
    __asm__ volatile("vmwrite %2, %1\n\tsetna %0"
                     : "=qm"(failed)
                     : "r"((uint64_t)field), "rm"(value)
                     : "cc");
    return failed;
}

static inline bool vmx_vmclear(uint64_t phys)
{
    bool failed;
    __asm__ volatile("vmclear %1\n\tsetna %0" : "=qm"(failed) : "m"(phys) : "cc", "memory");
    return failed;
}

static inline bool vmx_vmptrld(uint64_t phys)
{
    bool failed;
    __asm__ volatile("vmptrld %1\n\tsetna %0" : "=qm"(failed) : "m"(phys) : "cc", "memory");
    return failed;
}

/* Descriptors: INVEPT takes {EPTP, 0}, INVVPID {VPID, linear address}. */
struct vmx_inv_desc {
    uint64_t lo, hi;
};

static inline void vmx_invept(uint64_t type, uint64_t eptp)
{
    struct vmx_inv_desc d = {eptp, 0};
    __asm__ volatile("invept %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

static inline void vmx_invvpid(uint64_t type, uint16_t vpid)
{
    struct vmx_inv_desc d = {vpid, 0};
    __asm__ volatile("invvpid %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

#endif
