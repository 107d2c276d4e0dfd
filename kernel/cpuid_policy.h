/* The CPUID a guest sees (issue 3: hide VMX/SVM, set the hypervisor bit,
 * Keel's own leaves at 0x40000000). */
#ifndef KEEL_CPUID_POLICY_H
#define KEEL_CPUID_POLICY_H

#include <stdint.h>

#include "cpu.h"

#define KEEL_CPUID_SIGNATURE_LEAF 0x40000000u
#define KEEL_CPUID_FEATURES_LEAF  0x40000001u
#define KEEL_CPUID_MAX_LEAF       KEEL_CPUID_FEATURES_LEAF

/* What CPUID(leaf, subleaf) returns to vCPU number vcpu_id. */
struct cpuid_regs cpuid_policy(uint32_t leaf, uint32_t subleaf, unsigned vcpu_id);

#endif
