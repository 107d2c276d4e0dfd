/* Lazy switching of guest FPU/SIMD state (SDM Vol. 1 chapter 13, XSAVE;
 * 10.5, FXSAVE). */
#include "guest_fpu.h"
#include "cpu.h"
#include "cpufeatures.h"
#include "kstring.h"
#include "layout.h"
#include "percpu.h"
#include "pmm.h"
#include "smp.h"

#define CR0_MP         (1ul << 1)
#define CR0_EM         (1ul << 2)
#define CR0_TS         (1ul << 3)
#define CR4_OSXSAVE    (1ul << 18)
#define FXSAVE_SIZE    512
#define LEGACY_FCW     0
#define LEGACY_MXCSR   24
#define RESET_FCW      0x37f  /* x87 control word after FNINIT / reset */
#define RESET_MXCSR    0x1f80 /* all SIMD exceptions masked */
#define XCR0_GUEST_SET (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512)
#define VEC_UD         6
#define VEC_GP         13

static struct vcpu *owner[MAX_CPUS];
static uint64_t loaded_xcr0[MAX_CPUS];
static bool use_xsave;
static uint64_t xcr0_allowed;
static uint32_t area_size = FXSAVE_SIZE;

static void xsetbv(uint64_t value)
{
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

/* Size of the standard-format area holding every allowed component: the end
 * of the highest one (CPUID 0xd, sub-leaf i: EAX size, EBX offset). */
static uint32_t standard_area_size(uint64_t components)
{
    uint32_t end = FXSAVE_SIZE + 64; /* legacy region and XSAVE header */
    for (unsigned i = 2; i < 64; i++) {
        if (components & (1ull << i)) {
            struct cpuid_regs r = cpuid(0xd, i);
            if (r.ebx + r.eax > end)
                end = r.ebx + r.eax;
        }
    }
    return end;
}

void guest_fpu_init(void)
{
    if (!cpu_features.xsave || cpu_features.max_leaf < 0xd)
        return;
    struct cpuid_regs r = cpuid(0xd, 0);
    uint64_t supported = r.eax | ((uint64_t)r.edx << 32);
    uint64_t allowed = supported & XCR0_GUEST_SET;
    if ((allowed & XCR0_AVX512) != XCR0_AVX512 || !(allowed & XCR0_AVX))
        allowed &= ~XCR0_AVX512; /* all three AVX-512 components, on top of AVX, or none */
    if (!(allowed & XCR0_SSE))
        allowed &= ~XCR0_AVX;
    xcr0_allowed = allowed;
    area_size = standard_area_size(allowed);
    use_xsave = area_size <= PAGE_SIZE;
}

void guest_fpu_enable_on_this_cpu(void)
{
    write_cr0((read_cr0() | CR0_MP) & ~(CR0_EM | CR0_TS));
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT | (use_xsave ? CR4_OSXSAVE : 0));
    if (use_xsave) {
        xsetbv(XCR0_X87);
        loaded_xcr0[this_cpu()->index] = XCR0_X87;
    }
}

uint64_t guest_fpu_xcr0_allowed(void)
{
    return use_xsave ? xcr0_allowed : 0;
}

int guest_fpu_create(struct vcpu *v)
{
    uint64_t frame = pmm_alloc_frame(); /* zeroed, 4 KiB-aligned: XSAVE needs 64 */
    if (!frame)
        return -1;
    uint8_t *area = phys_to_virt(frame);
    uint16_t fcw = RESET_FCW;
    uint32_t mxcsr = RESET_MXCSR;
    memcpy(area + LEGACY_FCW, &fcw, sizeof(fcw));
    memcpy(area + LEGACY_MXCSR, &mxcsr, sizeof(mxcsr));
    v->fpu_state = area; /* XSTATE_BV 0: everything else in its initial state */
    v->xcr0 = XCR0_X87;
    return 0;
}

void guest_fpu_destroy(struct vcpu *v)
{
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        if (owner[i] == v)
            owner[i] = 0;
    }
    if (v->fpu_state)
        pmm_free_pages(virt_to_phys(v->fpu_state), 0);
    v->fpu_state = 0;
}

static void save_state(struct vcpu *v)
{
    if (use_xsave)
        __asm__ volatile("xsave64 (%0)"
                         :
                         : "r"(v->fpu_state), "a"((uint32_t)v->xcr0), "d"((uint32_t)(v->xcr0 >> 32))
                         : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" : : "r"(v->fpu_state) : "memory");
}

static void restore_state(struct vcpu *v)
{
    if (use_xsave)
        __asm__ volatile("xrstor64 (%0)"
                         :
                         : "r"(v->fpu_state), "a"((uint32_t)v->xcr0), "d"((uint32_t)(v->xcr0 >> 32))
                         : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" : : "r"(v->fpu_state) : "memory");
}

void guest_fpu_load(struct vcpu *v)
{
    unsigned cpu = this_cpu()->index;
    struct vcpu *current = owner[cpu];
    if (current == v)
        return;
    if (current)
        save_state(current); /* XCR0 still holds current's value */
    if (use_xsave && loaded_xcr0[cpu] != v->xcr0) {
        xsetbv(v->xcr0);
        loaded_xcr0[cpu] = v->xcr0;
    }
    restore_state(v);
    owner[cpu] = v;
}

/* XSETBV's checks (SDM Vol. 2C): #UD without CR4.OSXSAVE; #GP(0) outside
 * ring 0, for an XCR other than 0, without x87, for AVX without SSE, for a
 * partial AVX-512 set or AVX-512 without AVX, or for a component the guest
 * was not offered. */
int guest_fpu_xsetbv(struct vcpu *v, uint32_t index, uint64_t value, bool osxsave, bool cpl0)
{
    if (!use_xsave || !osxsave)
        return VEC_UD;
    bool avx512_partial = (value & XCR0_AVX512) && (value & XCR0_AVX512) != XCR0_AVX512;
    if (!cpl0 || index != 0 || !(value & XCR0_X87) || (value & ~xcr0_allowed) ||
        ((value & XCR0_AVX) && !(value & XCR0_SSE)) || avx512_partial ||
        ((value & XCR0_AVX512) && !(value & XCR0_AVX)))
        return VEC_GP;
    unsigned cpu = this_cpu()->index;
    if (owner[cpu] == v) {
        /* Keep the live state: save it under the old XCR0, restore under the new. */
        save_state(v);
        v->xcr0 = value;
        xsetbv(value);
        loaded_xcr0[cpu] = value;
        restore_state(v);
    } else {
        v->xcr0 = value;
    }
    return 0;
}

static void save_and_forget(void *arg)
{
    struct vcpu *v = arg;
    unsigned cpu = this_cpu()->index;
    if (owner[cpu] == v) {
        save_state(v); /* XCR0 holds v's value while v owns the registers */
        owner[cpu] = 0;
    }
}

void guest_fpu_sync(struct vcpu *v)
{
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        if (owner[i] != v)
            continue;
        if (i == this_cpu()->index) {
            uint64_t flags = irq_save();
            save_and_forget(v);
            irq_restore(flags);
        } else {
            smp_cross_call(i, save_and_forget, v, false, 1000000);
        }
    }
}

/* The legacy region of the FXSAVE/XSAVE image (SDM Vol. 1 table 10-2). */
#define LEGACY_FSW  2
#define LEGACY_FTW  4
#define LEGACY_FOP  6
#define LEGACY_FIP  8
#define LEGACY_FDP  16
#define LEGACY_ST0  32
#define LEGACY_XMM0 160
#define XSTATE_BV   512     /* XSAVE header: which components the image holds */
#define MXCSR_VALID 0xffbfu /* writable MXCSR bits without DAZ support assumed */

void guest_fpu_get(const struct vcpu *v, struct keel_fpu *out)
{
    const uint8_t *a = v->fpu_state;
    memset(out, 0, sizeof(*out));
    memcpy(&out->fcw, a + LEGACY_FCW, 2);
    memcpy(&out->fsw, a + LEGACY_FSW, 2);
    out->ftwx = a[LEGACY_FTW];
    memcpy(&out->last_opcode, a + LEGACY_FOP, 2);
    memcpy(&out->last_ip, a + LEGACY_FIP, 8);
    memcpy(&out->last_dp, a + LEGACY_FDP, 8);
    memcpy(&out->mxcsr, a + LEGACY_MXCSR, 4);
    for (unsigned i = 0; i < 8; i++)
        memcpy(out->fpr[i], a + LEGACY_ST0 + 16 * i, 10);
    memcpy(out->xmm, a + LEGACY_XMM0, sizeof(out->xmm));
}

void guest_fpu_set(struct vcpu *v, const struct keel_fpu *in)
{
    uint8_t *a = v->fpu_state;
    uint32_t mxcsr = in->mxcsr & MXCSR_VALID; /* a reserved bit would make XRSTOR #GP */
    memcpy(a + LEGACY_FCW, &in->fcw, 2);
    memcpy(a + LEGACY_FSW, &in->fsw, 2);
    a[LEGACY_FTW] = in->ftwx;
    memcpy(a + LEGACY_FOP, &in->last_opcode, 2);
    memcpy(a + LEGACY_FIP, &in->last_ip, 8);
    memcpy(a + LEGACY_FDP, &in->last_dp, 8);
    memcpy(a + LEGACY_MXCSR, &mxcsr, 4);
    for (unsigned i = 0; i < 8; i++)
        memcpy(a + LEGACY_ST0 + 16 * i, in->fpr[i], 10);
    memcpy(a + LEGACY_XMM0, in->xmm, sizeof(in->xmm));
    if (use_xsave) {
        uint64_t bv;
        memcpy(&bv, a + XSTATE_BV, 8);
        bv |= XCR0_X87 | XCR0_SSE; /* the image now holds both: XRSTOR loads them */
        memcpy(a + XSTATE_BV, &bv, 8);
    }
}
