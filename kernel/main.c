/* kernel_main: the boot CPU's path from the boot loader to a running core
 * (DESIGN.md section 3). */
#include <stddef.h>
#include <stdint.h>

#include "acpi.h"
#include "apic/ioapic.h"
#include "apic/lapic.h"
#include "apic/pic.h"
#include "apic/timer.h"
#include "bootinfo.h"
#include "cmdline.h"
#include "console.h"
#include "cpu.h"
#include "cpufeatures.h"
#include "guest_fpu.h"
#include "memory.h"
#include "percpu.h"
#include "physmem_reader.h"
#include "partition.h"
#include "printk.h"
#include "sched/sched.h"
#include "wallclock.h"
#include "sched/thread.h"
#include "syscall.h"
#include "selftest.h"
#include "smp.h"
#include "time.h"
#include "trap_setup.h"
#include "virt.h"

static struct boot_info boot_info;
static struct cmdline_options options;

const struct boot_info *boot_info_get(void)
{
    return &boot_info;
}

/* The command line for the log, control and non-ASCII bytes shown as '?' so
 * a hostile one cannot drive the operator's terminal. */
static const char *printable_cmdline(void)
{
    static char shown[BOOT_CMDLINE_MAX];
    size_t i = 0;
    for (; i + 1 < sizeof(shown) && boot_info.cmdline[i]; i++) {
        unsigned char c = (unsigned char)boot_info.cmdline[i];
        shown[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    shown[i] = '\0';
    return shown;
}

static void print_cpu(void)
{
    const struct cpu_features *f = &cpu_features;
    pr_info("cpu: %s, %s (family 0x%x model 0x%x stepping %u)", f->vendor,
            f->brand[0] ? f->brand : "no brand string", f->family, f->model, f->stepping);
    pr_info("cpu: features:%s%s%s%s%s%s%s%s%s%s, %u physical address bits", f->nx ? " nx" : "",
            f->page1g ? " 1g-pages" : "", f->pge ? " pge" : "", f->x2apic ? " x2apic" : "",
            f->tsc_deadline ? " tsc-deadline" : "", f->invariant_tsc ? " invariant-tsc" : "",
            f->xsave ? " xsave" : "", f->avx ? " avx" : "", f->smep ? " smep" : "",
            f->smap ? " smap" : "", f->phys_addr_bits);
}

static void print_modules(void)
{
    for (unsigned i = 0; i < boot_info.module_count; i++) {
        const struct boot_module *m = &boot_info.modules[i];
        pr_info("boot module %s: 0x%llx-0x%llx (%llu KiB)", m->name, (unsigned long long)m->start,
                (unsigned long long)m->end,
                (unsigned long long)((m->end - m->start + 1023) / 1024));
    }
}

/* keel.test=fault: a write through an address the core never maps, to show
 * the exception report and the panic path. */
static void deliberate_fault(void)
{
    pr_info("test: causing a deliberate page fault in the core (keel.test=fault)");
    volatile uint64_t *unmapped = (volatile uint64_t *)0xdead000ul;
    *unmapped = 0x4b45454c;
}

/* The root partition comes from the boot module named "init"
 * (DESIGN.md section 3); without one the core idles with the console on. */
static void start_root_partition(void)
{
    const struct boot_module *init = bootinfo_find_module(&boot_info, "init");
    if (!init) {
        pr_info("keel: no boot module named 'init': no partitions to start");
        return;
    }
    char why[128];
    if (!partition_create(init, "init", boot_info.cmdline, 0, 0, true, 0, why))
        pr_err("keel: cannot start the root partition: %s", why);
}

void kernel_main(uint32_t magic, uint32_t info_phys)
{
    percpu_init_boot_cpu();
    time_early_init();
    cpu_features_detect();
    trap_setup_boot_cpu();
    guest_fpu_init();
    guest_fpu_enable_on_this_cpu();
    cpu_enable_protections();

    int parsed = bootinfo_parse(magic, info_phys, &early_phys_reader, &boot_info);
    cmdline_parse(boot_info.cmdline, sizeof(boot_info.cmdline), &options);
    printk_set_loglevel(options.loglevel);
    console_init(options.console);
    pr_info("keel: Keel microhypervisor starting (multiboot%d, loader: %s)", boot_info.protocol,
            boot_info.loader_name[0] ? boot_info.loader_name : "unknown");
    pr_info("keel: command line: %s", printable_cmdline());
    printk_diag(LOG_WARNING, &options.warnings);
    printk_diag(LOG_WARNING, &boot_info.diag);
    if (parsed < 0) {
        pr_err("keel: not started by a multiboot loader (magic 0x%x): boot Keel with GRUB "
               "(multiboot2), iPXE or QEMU -kernel; stopping",
               magic);
        cpu_stop();
    }
    print_cpu();

    struct memory_report mem = memory_init(&boot_info, options.test_flags);
    print_modules();

    acpi_init(options.test_flags);
    pic_disable();
    lapic_init_boot_cpu();
    ioapic_init();
    time_init();
    wallclock_init();
    syscall_enable_on_this_cpu();
    thread_adopt_idle();
    timer_start_on_this_cpu();
    crosscall_init();
    sched_init();
    smp_boot_aps(mem.trampoline_phys, mem.trampoline_pages);
    unsigned online = smp_verify_all_cpus();

    pr_info("keel: %u CPUs online, %llu MiB usable", online,
            (unsigned long long)(mem.usable_bytes >> 20));
    virt_init();

    if (options.test_flags & KEEL_TEST_FAULT)
        deliberate_fault();
    if (options.test_flags & KEEL_TEST_SELFTEST)
        selftest_run();
    if (options.test_flags & KEEL_TEST_BENCH)
        bench_run();
    start_root_partition();
    cpu_idle_loop();
}
