/* The CPUID a guest sees (issue 3: hide VMX/SVM, set the hypervisor bit,
 * Keel's own leaves at 0x40000000). */
#ifndef KEEL_CPUID_POLICY_H
#define KEEL_CPUID_POLICY_H

#include <stdint.h>

#include <keel/vm.h>

#include "cpu.h"

#define KEEL_CPUID_SIGNATURE_LEAF 0x40000000u
#define KEEL_CPUID_FEATURES_LEAF  0x40000001u
#define KEEL_CPUID_MAX_LEAF       KEEL_CPUID_FEATURES_LEAF

#include <stdbool.h>

/* What the policy needs to know of the asking vCPU. */
struct cpuid_guest {
    unsigned vcpu_id;
    bool osxsave;                           /* the guest's CR4.OSXSAVE (leaf 1 only) */
    uint64_t xcr0_allowed;                  /* state components offered (0: no XSAVE) */
    const struct keel_cpuid_entry *entries; /* the VMM's values (SET_CPUID) */
    unsigned entry_count;
};

/* What CPUID(leaf, subleaf) returns to that vCPU. */
struct cpuid_regs cpuid_policy(uint32_t leaf, uint32_t subleaf, const struct cpuid_guest *g);

#endif
