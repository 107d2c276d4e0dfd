/* Application-processor start-up (SDM Vol. 3A 9.4.4.1, "Typical BSP
 * Initialization Sequence": INIT, 10 ms, SIPI, 200 us, SIPI). All APs of a
 * batch start at once, each with its own trampoline page and stack. */
#include "acpi.h"
#include "apic/lapic.h"
#include "apic/timer.h"
#include "cpu.h"
#include "cpufeatures.h"
#include "guest_fpu.h"
#include "heap.h"
#include "kstack.h"
#include "kstring.h"
#include "layout.h"
#include "memory.h"
#include "paging.h"
#include "percpu.h"
#include "printk.h"
#include "sched/thread.h"
#include "smp.h"
#include "syscall.h"
#include "time.h"
#include "trap_setup.h"

#define BOOT_TABLE_PAGES     3 /* PML4, PDPT, PD of the APs' start-up tables */
#define INIT_DELAY_US        10000
#define SIPI_DELAY_US        200
#define AP_START_TIMEOUT_US  1000000
#define AP_ONLINE_TIMEOUT_US 2000000
#define APIC_ID_INVALID      0xffffffffu

extern const char __ap_trampoline_start[], __ap_trampoline_end[];
extern const uint64_t ap_trampoline_params_offset;

static uint64_t boot_pml4_phys;

struct ap_slot {
    struct percpu *cpu;
    struct ap_trampoline_params *params;
    uint64_t page;
};

/* Start-up tables for APs: the first 2 MiB identity-mapped (where the
 * trampolines are) plus the core's half, all below 4 GiB for a 32-bit CR3. */
static void build_boot_tables(uint64_t low_phys)
{
    uint64_t *pml4 = phys_to_virt(low_phys);
    uint64_t *pdpt = phys_to_virt(low_phys + PAGE_SIZE);
    uint64_t *pd = phys_to_virt(low_phys + 2 * PAGE_SIZE);
    memset(pml4, 0, 3 * PAGE_SIZE);
    pd[0] = PT_PRESENT | PT_WRITE | PT_LARGE;
    pdpt[0] = (low_phys + 2 * PAGE_SIZE) | PT_PRESENT | PT_WRITE;
    pml4[0] = (low_phys + PAGE_SIZE) | PT_PRESENT | PT_WRITE;
    const uint64_t *kernel = phys_to_virt(kernel_root);
    for (int i = 256; i < 512; i++)
        pml4[i] = kernel[i];
    boot_pml4_phys = low_phys;
}

static void __attribute__((noreturn)) ap_entry(struct percpu *p, uint64_t kernel_cr3)
{
    write_cr3(kernel_cr3); /* leave the start-up tables: low memory unmapped again */
    percpu_install(p);
    if (cpu_features.pge)
        write_cr4(read_cr4() | CR4_PGE);
    guest_fpu_enable_on_this_cpu();
    cpu_enable_protections();
    if (trap_setup_cpu(p) < 0)
        cpu_stop(); /* no memory for its interrupt stacks: stays offline */
    lapic_init_this_cpu();
    syscall_enable_on_this_cpu();
    thread_adopt_idle();
    timer_start_on_this_cpu();
    irq_enable();
    while (!p->ticks)
        cpu_halt();
    __atomic_store_n(&p->online_word, 1, __ATOMIC_RELEASE);
    cpu_idle_loop();
}

static struct percpu *new_percpu(unsigned index, uint32_t apic_id)
{
    struct percpu *p = kzalloc(sizeof(*p));
    uint64_t stack_top = p ? kstack_alloc() : 0;
    if (!stack_top) {
        kfree(p);
        return 0;
    }
    p->index = index;
    p->apic_id = apic_id;
    p->stack_top = stack_top;
    return p;
}

static void prepare_slot(struct ap_slot *s)
{
    size_t len = (uintptr_t)__ap_trampoline_end - (uintptr_t)__ap_trampoline_start;
    memcpy(phys_to_virt(s->page), __ap_trampoline_start, len);
    s->params = (struct ap_trampoline_params *)((char *)phys_to_virt(s->page) +
                                                ap_trampoline_params_offset);
    *s->params = (struct ap_trampoline_params){
        .kernel_cr3 = kernel_root,
        .stack = s->cpu->stack_top,
        .entry = (uint64_t)ap_entry,
        .cpu = (uint64_t)s->cpu,
        .boot_cr3 = (uint32_t)boot_pml4_phys,
        .apic_id = s->cpu->apic_id,
        .flags = cpu_features.nx ? 1 : 0,
    };
}

static void start_batch(struct ap_slot *slots, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        lapic_send_ipi(slots[i].cpu->apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
    udelay(INIT_DELAY_US);
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < n; i++) {
            if (!slots[i].params->started)
                lapic_send_ipi(slots[i].cpu->apic_id,
                               ICR_STARTUP | (uint32_t)(slots[i].page >> 12));
        }
        udelay(SIPI_DELAY_US);
    }
}

/* Waits for every AP of the batch against one deadline per stage, so absent
 * CPUs cost one timeout together, not one each. */
static void finish_batch(struct ap_slot *slots, unsigned n)
{
    uint64_t deadline = uptime_ns() + AP_START_TIMEOUT_US * 1000ull;
    for (unsigned i = 0; i < n; i++) {
        struct percpu *p = slots[i].cpu;
        if (!wait_for_flag(&slots[i].params->started, deadline)) {
            /* A late answer must not run: the trampoline's APIC ID check stops it.
             * Its stack and block are kept, in case it is already on its way. */
            slots[i].params->apic_id = APIC_ID_INVALID;
            pr_warn("smp: CPU with APIC ID %u did not answer INIT-SIPI-SIPI; continuing "
                    "without it",
                    p->apic_id);
            slots[i].cpu = 0;
            continue;
        }
        cpu_table[p->index] = p;
    }
    deadline = uptime_ns() + AP_ONLINE_TIMEOUT_US * 1000ull;
    for (unsigned i = 0; i < n; i++) {
        struct percpu *p = slots[i].cpu;
        if (!p || wait_for_flag((volatile const uint32_t *)&p->online_word, deadline))
            continue;
        cpu_table[p->index] = 0;
        pr_warn("smp: CPU %u (APIC ID %u) started but its timer never ticked; leaving it "
                "offline",
                p->index, p->apic_id);
    }
}

void smp_boot_aps(uint64_t low_phys, unsigned low_pages)
{
    uint32_t self = lapic_id();
    this_cpu()->apic_id = self;
    if (acpi.cpu_count <= 1)
        return;
    if (!low_phys || low_pages <= BOOT_TABLE_PAGES) {
        pr_warn("smp: no free page below 1 MiB for the AP start-up code; using the boot CPU "
                "only");
        return;
    }
    build_boot_tables(low_phys);
    unsigned slots_max = low_pages - BOOT_TABLE_PAGES;
    static struct ap_slot slots[MAX_CPUS];
    unsigned next_index = 1, n = 0;
    for (unsigned i = 0; i < acpi.cpu_count; i++) {
        uint32_t id = acpi.cpus[i].apic_id;
        if (id == self)
            continue;
        struct percpu *p = next_index < MAX_CPUS ? new_percpu(next_index, id) : 0;
        if (!p) {
            pr_warn("smp: no memory to start CPU with APIC ID %u", id);
            continue;
        }
        next_index++;
        slots[n] =
            (struct ap_slot){.cpu = p, .page = low_phys + (BOOT_TABLE_PAGES + n) * PAGE_SIZE};
        prepare_slot(&slots[n]);
        if (++n == slots_max || i + 1 == acpi.cpu_count) {
            start_batch(slots, n);
            finish_batch(slots, n);
            n = 0;
        }
    }
    if (n) {
        start_batch(slots, n);
        finish_batch(slots, n);
    }
}

static void report_in(void *arg)
{
    __atomic_fetch_add((volatile uint32_t *)arg, 1, __ATOMIC_RELAXED);
}

unsigned smp_verify_all_cpus(void)
{
    struct percpu *me = this_cpu();
    irq_enable();
    uint64_t start = uptime_ns();
    while (!me->ticks && uptime_ns() - start < AP_ONLINE_TIMEOUT_US * 1000ull)
        cpu_halt();
    if (!me->ticks)
        pr_warn("smp: the boot CPU's timer never ticked");
    else
        me->online_word = 1;
    volatile uint32_t answered = me->online_word ? 1 : 0;
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        struct percpu *p = cpu_table[i];
        if (!p || p == me || !p->online_word)
            continue;
        if (!smp_cross_call(i, report_in, (void *)&answered, false, AP_ONLINE_TIMEOUT_US))
            pr_warn("smp: CPU %u (APIC ID %u) did not answer a cross call", i, p->apic_id);
    }
    return answered;
}
