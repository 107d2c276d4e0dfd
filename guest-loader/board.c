/*
 * The board (board.h): its lock, its clock, the interrupt wiring between
 * the device models, the PIC and the I/O APIC, and the timers' next event.
 * The port and MMIO decoders are in devices.c.
 */
#include "board.h"
#include "clock.h"
#include "libc.h"
#include "vmm.h"

#define ISA_IRQ_PIT 0
#define GSI_PIT     2 /* the MADT's interrupt source override of ISA IRQ 0 (ACPI 6.0 5.2.12.5) */
/* The RTC's start when the core could not read the host's clock:
 * 2026-01-01 00:00:00 UTC in Unix seconds. */
#define DEFAULT_WALLCLOCK 1767225600ull
#define FILE_VM_NAME      "etc/keel/vm-name"
#define FILE_RSDP         "etc/acpi/rsdp"

/* A spinlock for ring 3: PAUSE while it is taken (SDM Vol. 2B, PAUSE:
 * a spin-wait loop hint). */
static void lock(struct board *b)
{
    while (__atomic_exchange_n(&b->lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&b->lock, __ATOMIC_RELAXED))
            __asm__ volatile("pause");
    }
}

static void unlock(struct board *b)
{
    __atomic_store_n(&b->lock, 0, __ATOMIC_RELEASE);
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

uint64_t board_now_ns(const struct board *b)
{
    return clock_tsc_to_ns(rdtsc(), b->boot_tsc, b->tsc_khz);
}

/* With the lock held: the device models see time only go forward, however
 * the vCPU threads' readings of the TSC interleave. */
static uint64_t monotonic(struct board *b, uint64_t now_ns)
{
    if (now_ns > b->last_ns)
        b->last_ns = now_ns;
    return b->last_ns;
}

/* The I/O APIC's interrupt messages. */
static void send_msi(void *ctx, uint64_t address, uint32_t data)
{
    struct board *b = ctx;
    long err = keel_signal_msi(b->vm, address, data);
    if (err < 0 && b->msi_errors++ == 0)
        vmm_say("KEEL_HC_SIGNAL_MSI (address 0x%llx, data 0x%x) failed: %s; further failures "
                "not reported",
                (unsigned long long)address, data, keel_strerror(err));
}

/* A device's ISA IRQ line: to the PIC and the I/O APIC alike. */
static void isa_irq(void *ctx, unsigned irq, bool level)
{
    struct board *b = ctx;
    b->irq_moved = true;
    pic_set_irq(&b->pic, irq, level);
    ioapic_set_irq(&b->ioapic, irq == ISA_IRQ_PIT ? GSI_PIT : irq, level);
}

/* The PIC's INT output, wired to vCPU 0's LINT0 (virtual-wire mode, MP
 * spec 3.6.2.2), as KVM's split irqchip does it: when vCPU 0 can take an
 * interrupt now (its last exit said ready_for_interrupt_injection), an INTA
 * cycle takes the vector and the core queues it as vCPU 0's ExtINT;
 * otherwise the core is asked for an exit once it can
 * (request_interrupt_window). The PIC is only acknowledged when the CPU
 * would do its INTA cycle, never while the guest has interrupts off. */
static void offer_extint(struct board *b, struct keel_run *run)
{
    lock(b);
    bool pending = pic_output(&b->pic);
    int vector = -1;
    if (pending && run->ready_for_interrupt_injection)
        vector = pic_acknowledge(&b->pic);
    unlock(b);
    run->request_interrupt_window = pending && vector < 0;
    if (vector < 0)
        return;
    long err = keel_interrupt(b->vcpu0, (unsigned)vector);
    if (err < 0 && b->extint_errors++ == 0)
        vmm_say("KEEL_HC_INTERRUPT (vector %d from the PIC) failed: %s; further failures "
                "not reported",
                vector, keel_strerror(err));
    run->ready_for_interrupt_injection = 0; /* one at a time, until the next exit says */
}

void board_prepare_vcpu0_run(struct board *b, struct keel_run *run)
{
    uint64_t now = rdtsc();
    /* The flags are set under the lock by any vCPU thread; an atomic
     * exchange takes them without it. */
    bool timers = __atomic_exchange_n(&b->timers_touched, false, __ATOMIC_ACQ_REL) ||
                  (b->next_event_tsc && now >= b->next_event_tsc);
    if (timers) {
        board_advance(b, clock_tsc_to_ns(now, b->boot_tsc, b->tsc_khz));
        b->next_event_tsc = board_next_event_tsc(b);
    }
    bool irqs = __atomic_exchange_n(&b->irq_moved, false, __ATOMIC_ACQ_REL);
    if (irqs || run->request_interrupt_window)
        offer_extint(b, run);
    run->exit_deadline_tsc = b->next_event_tsc;
}

static void add_files(struct board *b, const struct board_config *cfg)
{
    kstrlcpy(b->name, cfg->name, sizeof(b->name));
    if (fw_cfg_add_file(&b->fw_cfg, FILE_VM_NAME, b->name, (uint32_t)strlen(b->name)) < 0)
        vmm_say("fw_cfg: cannot add %s", FILE_VM_NAME);
    if (cfg->rsdp == NULL)
        return;
    memcpy(b->rsdp, cfg->rsdp, sizeof(b->rsdp));
    if (fw_cfg_add_file(&b->fw_cfg, FILE_RSDP, b->rsdp, sizeof(b->rsdp)) < 0)
        vmm_say("fw_cfg: cannot add %s", FILE_RSDP);
}

void board_init(struct board *b, const struct board_config *cfg)
{
    memset(b, 0, sizeof(*b));
    b->vm = cfg->vm;
    b->vcpu0 = cfg->vcpu0;
    b->tsc_khz = cfg->tsc_khz;
    b->boot_tsc = cfg->boot_tsc;
    b->end = cfg->end;
    b->ctx = cfg->ctx;
    pic_init(&b->pic);
    ioapic_init(&b->ioapic, cfg->ioapic_id, send_msi, b);
    pit_init(&b->pit, isa_irq, b);
    uint64_t wallclock = cfg->wallclock;
    if (wallclock == 0) {
        wallclock = DEFAULT_WALLCLOCK;
        vmm_say("the host's clock is unknown: the guest's RTC starts at 2026-01-01 00:00:00");
    }
    rtc_init(&b->rtc, wallclock, 0, isa_irq, b); /* wallclock is the time at now_ns 0 */
    rtc_set_memory_size(&b->rtc, cfg->ram_size);
    acpi_pm_init(&b->pm, isa_irq, b);
    fw_cfg_init(&b->fw_cfg, (uint16_t)cfg->cpus, cfg->ram_size);
    add_files(b, cfg);
    uart_init(&b->com1, cfg->emit, cfg->ctx);
    b->timers_touched = true; /* the first run computes the first deadline */
}

/* The ports of the devices that keep time (PIT and port 0x61, RTC, ACPI PM):
 * only an access to one of them needs the clock read. */
static bool timed_port(uint16_t port)
{
    return (port >= PIT_COUNTER0 && port <= PIT_CONTROL) || port == PIT_PORT_61 ||
           port == RTC_PORT_INDEX || port == RTC_PORT_DATA ||
           (port >= ACPI_PM_BASE && port < ACPI_PM_TMR + ACPI_PM_TMR_LEN);
}

void board_port_io(struct board *b, uint16_t port, unsigned size, bool in, uint32_t *value)
{
    lock(b);
    uint64_t now = timed_port(port) ? monotonic(b, board_now_ns(b)) : b->last_ns;
    dev_port_io(b, port, size, in, value, now);
    unlock(b);
}

void board_mmio(struct board *b, uint64_t gpa, unsigned len, bool write, uint8_t *data)
{
    lock(b);
    dev_mmio(b, gpa, len, write, data);
    unlock(b);
}

void board_eoi(struct board *b, uint8_t vector)
{
    lock(b);
    ioapic_eoi(&b->ioapic, vector);
    unlock(b);
}

static uint64_t earlier(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t board_next_event_tsc(struct board *b)
{
    lock(b);
    uint64_t now = monotonic(b, board_now_ns(b));
    uint64_t next =
        earlier(pit_next_event_ns(&b->pit, now),
                earlier(rtc_next_event_ns(&b->rtc, now), acpi_pm_next_event_ns(&b->pm, now)));
    unlock(b);
    if (next == UINT64_MAX)
        return 0;
    uint64_t tsc = clock_ns_to_tsc(next, b->boot_tsc, b->tsc_khz);
    return tsc ? tsc : 1; /* 0 would mean "no deadline" */
}

void board_advance(struct board *b, uint64_t now_ns)
{
    lock(b);
    now_ns = monotonic(b, now_ns);
    pit_advance(&b->pit, now_ns);
    rtc_advance(&b->rtc, now_ns);
    acpi_pm_advance(&b->pm, now_ns);
    unlock(b);
}

void board_flush_console(struct board *b)
{
    lock(b);
    uart_flush(&b->com1);
    unlock(b);
}
