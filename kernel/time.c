/* TSC frequency and uptime. Calibration references: ACPI PM timer
 * (3.579545 MHz, ACPI 6.5 section 4.8.3.3), HPET main counter (period in
 * femtoseconds in the capabilities register, IA-PC HPET spec 2.3.4), PIT
 * channel 2 (1.193182 MHz, gated through port 0x61). */
#include "time.h"
#include "acpi.h"
#include "cpu.h"
#include "cpufeatures.h"
#include "memory.h"
#include "printk.h"

#define PM_TIMER_HZ     3579545ull
#define PIT_HZ          1193182ull
#define CALIBRATE_MS    20
#define HPET_CAPS       0x000
#define HPET_CONFIG     0x010
#define HPET_COUNTER    0x0f0
#define HPET_ENABLE     1ull
#define PIT_CH2_DATA    0x42
#define PIT_MODE_CMD    0x43
#define PIT_GATE_PORT   0x61
#define PIT_CH2_ONESHOT 0xb0 /* channel 2, lobyte/hibyte, mode 0, binary */
#define PIT_GATE_ON     0x01
#define PIT_SPEAKER     0x02
#define PIT_OUT2        0x20
#define TSC_HZ_MIN      10000000ull /* emulators run slow TSCs */
#define TSC_HZ_MAX      20000000000ull

uint64_t tsc_hz;
uint64_t tsc_at_boot;

void time_early_init(void)
{
    tsc_at_boot = rdtsc();
}

uint64_t uptime_ns(void)
{
    uint64_t hz = tsc_hz;
    if (!hz)
        return 0;
    uint64_t delta = rdtsc() - tsc_at_boot;
    return delta / hz * 1000000000ull + delta % hz * 1000000000ull / hz;
}

void udelay(uint64_t us)
{
    uint64_t start = rdtsc();
    uint64_t ticks = tsc_hz ? us * (tsc_hz / 1000000) : us * 3000; /* ~3 GHz guess */
    while (rdtsc() - start < ticks)
        cpu_relax();
}

static volatile uint32_t *pm_timer_mmio;

static uint32_t pm_timer_read(void)
{
    uint32_t mask = acpi.pm_timer_32bit ? 0xffffffffu : 0xffffffu;
    if (acpi.pm_timer_space == ACPI_GAS_IO)
        return inl((uint16_t)acpi.pm_timer_address) & mask;
    return *pm_timer_mmio & mask;
}

/* TSC ticks per second, measured over CALIBRATE_MS of the PM timer. */
static uint64_t calibrate_pm_timer(void)
{
    if (acpi.pm_timer_space != ACPI_GAS_IO) {
        pm_timer_mmio = ioremap(acpi.pm_timer_address, 4);
        if (!pm_timer_mmio)
            return 0;
    }
    uint32_t mask = acpi.pm_timer_32bit ? 0xffffffffu : 0xffffffu;
    uint32_t want = (uint32_t)(PM_TIMER_HZ * CALIBRATE_MS / 1000);
    uint32_t start = pm_timer_read();
    uint64_t tsc0 = rdtsc();
    uint32_t elapsed = 0;
    uint64_t spins = 0;
    while (elapsed < want) {
        elapsed = (pm_timer_read() - start) & mask;
        if (++spins > 100000000ull)
            return 0; /* the timer does not count */
    }
    uint64_t tsc1 = rdtsc();
    return (tsc1 - tsc0) * PM_TIMER_HZ / elapsed;
}

static uint64_t calibrate_hpet(void)
{
    volatile uint64_t *hpet = ioremap(acpi.hpet_address, 1024);
    if (!hpet)
        return 0;
    uint64_t period_fs = hpet[HPET_CAPS / 8] >> 32;
    if (period_fs == 0 || period_fs > 100000000ull) /* spec: at most 100 ns */
        return 0;
    hpet[HPET_CONFIG / 8] |= HPET_ENABLE;
    uint64_t hpet_hz = 1000000000000000ull / period_fs;
    uint64_t want = hpet_hz * CALIBRATE_MS / 1000;
    uint64_t start = hpet[HPET_COUNTER / 8];
    uint64_t tsc0 = rdtsc();
    uint64_t elapsed, spins = 0;
    do {
        elapsed = hpet[HPET_COUNTER / 8] - start;
        if (++spins > 100000000ull)
            return 0;
    } while (elapsed < want);
    return (rdtsc() - tsc0) * hpet_hz / elapsed; /* elapsed >= want > 0 */
}

static uint64_t calibrate_pit(void)
{
    uint16_t count = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
    uint8_t gate = inb(PIT_GATE_PORT);
    outb(PIT_GATE_PORT, (gate & ~PIT_SPEAKER) & ~PIT_GATE_ON);
    outb(PIT_MODE_CMD, PIT_CH2_ONESHOT);
    outb(PIT_CH2_DATA, count & 0xff);
    outb(PIT_CH2_DATA, count >> 8);
    outb(PIT_GATE_PORT, (gate & ~PIT_SPEAKER) | PIT_GATE_ON);
    uint64_t tsc0 = rdtsc(), spins = 0;
    while (!(inb(PIT_GATE_PORT) & PIT_OUT2)) {
        if (++spins > 100000000ull)
            return 0;
    }
    uint64_t tsc1 = rdtsc();
    outb(PIT_GATE_PORT, gate);
    return (tsc1 - tsc0) * PIT_HZ / count;
}

static bool plausible(uint64_t hz)
{
    return hz >= TSC_HZ_MIN && hz <= TSC_HZ_MAX;
}

/* Median of three measurements: one disturbed run (an SMI, or the host
 * descheduling an emulated CPU) does not skew the result. */
static uint64_t median_of_three(uint64_t (*measure)(void))
{
    uint64_t a = measure(), b = measure(), c = measure();
    if (a > b) {
        uint64_t t = a;
        a = b;
        b = t;
    }
    if (b > c)
        b = c;
    return a > b ? a : b;
}

/* Measures the TSC against the best reference timer the machine has. */
static uint64_t measure_tsc(const char **source)
{
    uint64_t hz = 0;
    if (acpi.pm_timer_present) {
        hz = median_of_three(calibrate_pm_timer);
        *source = "calibrated against the ACPI PM timer";
    }
    if (!plausible(hz) && acpi.have_hpet) {
        hz = median_of_three(calibrate_hpet);
        *source = "calibrated against the HPET";
    }
    if (!plausible(hz)) {
        hz = median_of_three(calibrate_pit);
        *source = "calibrated against the PIT";
    }
    return plausible(hz) ? hz : 0;
}

static bool differ_by_more_than_5_percent(uint64_t a, uint64_t b)
{
    uint64_t diff = a > b ? a - b : b - a;
    return diff > (a < b ? a : b) / 20;
}

void time_init(void)
{
    const char *measured_source = "none";
    uint64_t measured = measure_tsc(&measured_source);
    uint64_t hz = cpu_features.tsc_hz_cpuid;
    const char *source = cpu_features.tsc_hz_source;
    if (!plausible(hz)) {
        hz = measured;
        source = measured_source;
    } else if (measured && differ_by_more_than_5_percent(hz, measured)) {
        pr_warn("time: %s gives %llu MHz but the TSC runs at %llu MHz (%s); using the "
                "measurement",
                source, (unsigned long long)(hz / 1000000),
                (unsigned long long)(measured / 1000000), measured_source);
        hz = measured;
        source = measured_source;
    }
    if (!plausible(hz)) {
        pr_warn("time: TSC frequency not measurable (no CPUID leaf, reference timers silent); "
                "assuming 1 GHz, so timestamps and timeouts are approximate");
        hz = 1000000000ull;
        source = "assumed";
    }
    tsc_hz = hz;
    pr_info("time: TSC %llu.%03llu MHz (%s)%s", (unsigned long long)(hz / 1000000),
            (unsigned long long)(hz / 1000 % 1000), source,
            cpu_features.invariant_tsc ? ", invariant" : "");
}
