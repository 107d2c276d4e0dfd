/* CPU features the core relies on or uses when present, read once on the
 * boot CPU from CPUID (never assumed from the vendor; DESIGN.md section 8). */
#ifndef KEEL_CPUFEATURES_H
#define KEEL_CPUFEATURES_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_features {
    char vendor[13];
    char brand[49];
    uint32_t max_leaf, max_ext_leaf;
    uint32_t family, model, stepping;
    bool nx, page1g, pge, x2apic, tsc_deadline, invariant_tsc, apic, xsave, avx, smep, smap;
    uint8_t phys_addr_bits;
    /* TSC frequency from CPUID 0x15 (exact) or 0x16 (nominal), 0 if neither. */
    uint64_t tsc_hz_cpuid;
    const char *tsc_hz_source;
};

extern struct cpu_features cpu_features;

void cpu_features_detect(void);

/* Turns on the protections the core relies on where the CPU has them
 * (SMEP, SMAP: the core never executes or touches ring-3 pages through their
 * user addresses; it copies through the direct map). Every CPU. */
void cpu_enable_protections(void);

/* Initial APIC ID of the calling CPU (CPUID 0xb when present, else leaf 1). */
uint32_t cpu_initial_apic_id(void);

#endif
