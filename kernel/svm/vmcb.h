/*
 * The VMCB layout Keel uses (AMD APM Vol. 2 appendix B, "Layout of VMCB":
 * table B-1 control area, table B-2 state-save area). Only kernel/svm/
 * includes this file.
 */
#ifndef KEEL_SVM_VMCB_H
#define KEEL_SVM_VMCB_H

#include <stdint.h>

struct vmcb_segment {
    uint16_t selector;
    uint16_t attrib; /* type, S, DPL, P in bits 0-7; AVL, L, D/B, G in bits 8-11 */
    uint32_t limit;
    uint64_t base;
} __attribute__((packed));

struct vmcb_control {
    uint32_t intercept_cr;         /* 0x000: bits 0-15 reads, 16-31 writes */
    uint32_t intercept_dr;         /* 0x004 */
    uint32_t intercept_exceptions; /* 0x008 */
    uint32_t intercept_misc1;      /* 0x00c: INTR, NMI, ..., CPUID, HLT, IOIO, MSR, shutdown */
    uint32_t intercept_misc2;      /* 0x010: VMRUN, VMMCALL, ..., XSETBV */
    uint32_t intercept_misc3;      /* 0x014 */
    uint8_t reserved1[0x03c - 0x018];
    uint16_t pause_filter_threshold; /* 0x03c */
    uint16_t pause_filter_count;     /* 0x03e */
    uint64_t iopm_base_pa;           /* 0x040 */
    uint64_t msrpm_base_pa;          /* 0x048 */
    uint64_t tsc_offset;             /* 0x050 */
    uint32_t guest_asid;             /* 0x058 */
    uint8_t tlb_control;             /* 0x05c */
    uint8_t reserved2[3];
    uint64_t vintr;            /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING (bit 24), vector 32-39 */
    uint64_t interrupt_shadow; /* 0x068: bit 0 shadow, bit 1 GIF mask */
    uint64_t exit_code;        /* 0x070 */
    uint64_t exit_info1;       /* 0x078 */
    uint64_t exit_info2;       /* 0x080 */
    uint64_t exit_int_info;    /* 0x088 */
    uint64_t np_control;       /* 0x090: bit 0 nested paging */
    uint8_t reserved3[0x0a8 - 0x098];
    uint64_t event_inject; /* 0x0a8 */
    uint64_t nested_cr3;   /* 0x0b0 */
    uint64_t virt_ext;     /* 0x0b8 */
    uint32_t clean_bits;   /* 0x0c0 */
    uint32_t reserved4;
    uint64_t next_rip;          /* 0x0c8 */
    uint8_t insn_bytes_fetched; /* 0x0d0 */
    uint8_t insn_bytes[15];     /* 0x0d1 */
    uint8_t reserved5[0x400 - 0x0e0];
} __attribute__((packed));

struct vmcb_save {
    struct vmcb_segment es, cs, ss, ds, fs, gs; /* 0x400 - 0x45f */
    struct vmcb_segment gdtr, ldtr, idtr, tr;   /* 0x460 - 0x49f */
    uint8_t reserved1[0x4cb - 0x4a0];
    uint8_t cpl; /* 0x4cb */
    uint32_t reserved2;
    uint64_t efer; /* 0x4d0 */
    uint8_t reserved3[0x548 - 0x4d8];
    uint64_t cr4;    /* 0x548 */
    uint64_t cr3;    /* 0x550 */
    uint64_t cr0;    /* 0x558 */
    uint64_t dr7;    /* 0x560 */
    uint64_t dr6;    /* 0x568 */
    uint64_t rflags; /* 0x570 */
    uint64_t rip;    /* 0x578 */
    uint8_t reserved4[0x5d8 - 0x580];
    uint64_t rsp; /* 0x5d8 */
    uint8_t reserved5[0x5f8 - 0x5e0];
    uint64_t rax;            /* 0x5f8 */
    uint64_t star;           /* 0x600 */
    uint64_t lstar;          /* 0x608 */
    uint64_t cstar;          /* 0x610 */
    uint64_t sfmask;         /* 0x618 */
    uint64_t kernel_gs_base; /* 0x620 */
    uint64_t sysenter_cs;    /* 0x628 */
    uint64_t sysenter_esp;   /* 0x630 */
    uint64_t sysenter_eip;   /* 0x638 */
    uint64_t cr2;            /* 0x640 */
    uint8_t reserved6[0x668 - 0x648];
    uint64_t g_pat; /* 0x668 */
} __attribute__((packed));

struct vmcb {
    struct vmcb_control control;
    struct vmcb_save save;
} __attribute__((packed));

_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area is 1 KiB");
_Static_assert(__builtin_offsetof(struct vmcb, save.rax) == 0x5f8, "VMCB RAX offset");
_Static_assert(__builtin_offsetof(struct vmcb, save.g_pat) == 0x668, "VMCB G_PAT offset");

/* Intercept bits (table B-1). */
#define SVM_INTERCEPT_INTR     (1u << 0)
#define SVM_INTERCEPT_NMI      (1u << 1)
#define SVM_INTERCEPT_INIT     (1u << 3)
#define SVM_INTERCEPT_VINTR    (1u << 4)
#define SVM_INTERCEPT_CPUID    (1u << 18)
#define SVM_INTERCEPT_IRET     (1u << 20)
#define SVM_INTERCEPT_INVD     (1u << 22)
#define SVM_INTERCEPT_HLT      (1u << 24)
#define SVM_INTERCEPT_IOIO     (1u << 27)
#define SVM_INTERCEPT_MSR      (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN (1u << 31)
#define SVM_INTERCEPT_VMRUN    (1u << 0) /* misc2 */
#define SVM_INTERCEPT_VMMCALL  (1u << 1)
#define SVM_INTERCEPT_VMLOAD   (1u << 2)
#define SVM_INTERCEPT_VMSAVE   (1u << 3)
#define SVM_INTERCEPT_STGI     (1u << 4)
#define SVM_INTERCEPT_CLGI     (1u << 5)
#define SVM_INTERCEPT_SKINIT   (1u << 6)
#define SVM_INTERCEPT_MONITOR  (1u << 10)
#define SVM_INTERCEPT_MWAIT    (1u << 11)
#define SVM_INTERCEPT_XSETBV   (1u << 13)

/* Exit codes (appendix C). */
#define SVM_EXIT_EXCEPTION_BASE    0x40
#define SVM_EXIT_INTR              0x60
#define SVM_EXIT_NMI               0x61
#define SVM_EXIT_VINTR             0x64
#define SVM_EXIT_CPUID             0x72
#define SVM_EXIT_IRET              0x74
#define SVM_EXIT_INVD              0x76
#define SVM_EXIT_HLT               0x78
#define SVM_EXIT_IOIO              0x7b
#define SVM_EXIT_MSR               0x7c
#define SVM_EXIT_SHUTDOWN          0x7f
#define SVM_EXIT_VMRUN             0x80
#define SVM_EXIT_VMMCALL           0x81
#define SVM_EXIT_MWAIT_CONDITIONAL 0x8c
#define SVM_EXIT_XSETBV            0x8d
#define SVM_EXIT_NPF               0x400
#define SVM_EXIT_INVALID           0xffffffffu /* compare the low 32 bits (DESIGN.md 8) */

/* EVENTINJ / EXITINTINFO (APM 15.20). */
#define SVM_EVENT_VALID      (1ull << 31)
#define SVM_EVENT_ERROR      (1ull << 11)
#define SVM_EVENT_TYPE_SHIFT 8

#define SVM_VINTR_IRQ      (1ull << 8)
#define SVM_VINTR_PRIO_MAX (0xfull << 16)
#define SVM_VINTR_IGN_TPR  (1ull << 20)
#define SVM_VINTR_MASKING  (1ull << 24)
#define SVM_VINTR_TPR_MASK 0xfull /* V_TPR, bits 3:0 */
#define SVM_TLB_FLUSH_ALL  1
#define SVM_TLB_FLUSH_ASID 3
#define SVM_NP_ENABLE      1ull

#endif
