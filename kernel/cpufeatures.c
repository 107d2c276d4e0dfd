/* CPU feature detection from CPUID (SDM Vol. 2A, CPUID; AMD APM Vol. 3, E). */
#include "cpufeatures.h"
#include "cpu.h"
#include "kstring.h"

struct cpu_features cpu_features;

/* CPUID bit positions. */
#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_XSAVE        (1u << 26)
#define CPUID1_ECX_AVX          (1u << 28)
#define CPUID1_EDX_PGE          (1u << 13)
#define CPUID1_EDX_APIC         (1u << 9)
#define CPUIDX1_EDX_NX          (1u << 20)
#define CPUIDX1_EDX_PAGE1G      (1u << 26)
#define CPUIDX7_EDX_INVARIANT   (1u << 8) /* leaf 0x80000007 */
#define CPUID7_EBX_SMEP         (1u << 7)
#define CPUID7_EBX_SMAP         (1u << 20)
#define CR4_SMEP                (1ull << 20)
#define CR4_SMAP                (1ull << 21)

static void detect_tsc_frequency(struct cpu_features *f)
{
    /* Leaf 0x15: TSC = crystal (ECX Hz) * EBX / EAX (SDM Vol. 2A, CPUID leaf 15H). */
    if (f->max_leaf >= 0x15) {
        struct cpuid_regs r = cpuid(0x15, 0);
        if (r.eax && r.ebx && r.ecx) {
            f->tsc_hz_cpuid = (uint64_t)r.ecx * r.ebx / r.eax;
            f->tsc_hz_source = "CPUID 0x15";
            return;
        }
    }
    /* Leaf 0x16: processor base frequency in MHz, a nominal value. */
    if (f->max_leaf >= 0x16) {
        struct cpuid_regs r = cpuid(0x16, 0);
        if (r.eax & 0xffff) {
            f->tsc_hz_cpuid = (uint64_t)(r.eax & 0xffff) * 1000000u;
            f->tsc_hz_source = "CPUID 0x16";
        }
    }
}

void cpu_features_detect(void)
{
    struct cpu_features *f = &cpu_features;
    struct cpuid_regs r = cpuid(0, 0);
    f->max_leaf = r.eax;
    memcpy(f->vendor, &r.ebx, 4);
    memcpy(f->vendor + 4, &r.edx, 4);
    memcpy(f->vendor + 8, &r.ecx, 4);
    f->vendor[12] = '\0';

    r = cpuid(1, 0);
    f->stepping = r.eax & 0xf;
    f->model = (r.eax >> 4) & 0xf;
    f->family = (r.eax >> 8) & 0xf;
    if (f->family == 0xf)
        f->family += (r.eax >> 20) & 0xff;
    if (f->family >= 6)
        f->model |= ((r.eax >> 16) & 0xf) << 4;
    f->x2apic = r.ecx & CPUID1_ECX_X2APIC;
    f->tsc_deadline = r.ecx & CPUID1_ECX_TSC_DEADLINE;
    f->xsave = r.ecx & CPUID1_ECX_XSAVE;
    f->avx = r.ecx & CPUID1_ECX_AVX;
    f->pge = r.edx & CPUID1_EDX_PGE;
    f->apic = r.edx & CPUID1_EDX_APIC;

    if (f->max_leaf >= 7) {
        r = cpuid(7, 0);
        f->smep = r.ebx & CPUID7_EBX_SMEP;
        f->smap = r.ebx & CPUID7_EBX_SMAP;
    }
    f->max_ext_leaf = cpuid(0x80000000, 0).eax;
    if (f->max_ext_leaf >= 0x80000001) {
        r = cpuid(0x80000001, 0);
        f->nx = r.edx & CPUIDX1_EDX_NX;
        f->page1g = r.edx & CPUIDX1_EDX_PAGE1G;
    }
    if (f->max_ext_leaf >= 0x80000004) {
        for (uint32_t i = 0; i < 3; i++) {
            r = cpuid(0x80000002 + i, 0);
            memcpy(f->brand + i * 16, &r, 16);
        }
        f->brand[48] = '\0';
    }
    if (f->max_ext_leaf >= 0x80000007)
        f->invariant_tsc = cpuid(0x80000007, 0).edx & CPUIDX7_EDX_INVARIANT;
    f->phys_addr_bits = 36;
    if (f->max_ext_leaf >= 0x80000008)
        f->phys_addr_bits = cpuid(0x80000008, 0).eax & 0xff;
    f->tsc_hz_source = "none";
    detect_tsc_frequency(f);
}

uint32_t cpu_initial_apic_id(void)
{
    if (cpu_features.max_leaf >= 0xb && cpuid(0xb, 0).ebx != 0)
        return cpuid(0xb, 0).edx; /* x2APIC ID (SDM Vol. 3A 11.12.8) */
    return cpuid(1, 0).ebx >> 24;
}

void cpu_enable_protections(void)
{
    uint64_t cr4 = read_cr4();
    if (cpu_features.smep)
        cr4 |= CR4_SMEP;
    if (cpu_features.smap)
        cr4 |= CR4_SMAP;
    write_cr4(cr4);
}
