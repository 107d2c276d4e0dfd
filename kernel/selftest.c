/* Virtualization self-test and benchmark (see selftest.h). */
#include "cpu.h"
#include "fmt.h"
#include "kstring.h"
#include "percpu.h"
#include "poweroff.h"
#include "printk.h"
#include "selftest.h"
#include "selftest_device.h"
#include "smp.h"
#include "time.h"
#include "virt.h"
#include "vm.h"

#define GUEST_RAM_SIZE      0x400000ull /* 4 MiB at GPA 0 */
#define FIRMWARE_GPA        0xf0000ull
#define FIRMWARE_SIZE       0x10000ull
#define RESET_ALIAS_GPA     0xffff0000ull
#define SELFTEST_TIMEOUT_NS (600ull * 1000000000ull)

extern const uint8_t guest_image_selftest[], guest_image_selftest_end[];
extern const uint8_t guest_image_triple_fault[], guest_image_triple_fault_end[];
extern const uint8_t guest_image_bench[], guest_image_bench_end[];

enum expectation { EXPECT_PASS_RESULT, EXPECT_TRIPLE_FAULT };

struct guest_spec {
    const char *name;
    const uint8_t *start, *end;
    enum expectation expect;
};

struct cpu_jobs {
    unsigned cpu;
    bool with_triple_fault;
    unsigned passed, failed;
    volatile uint32_t done;
};

static const char *stop_reason_name(enum vcpu_stop_reason r)
{
    static const char *const names[] = {
        [VCPU_STOP_DEVICE] = "reported a result",
        [VCPU_STOP_SHUTDOWN] = "triple fault (shutdown)",
        [VCPU_STOP_INVALID_STATE] = "VM entry refused the guest state",
        [VCPU_STOP_HALTED] = "halted with nothing to wake it",
        [VCPU_STOP_UNHANDLED] = "an exit the core does not handle",
        [VCPU_STOP_MMIO_UNDECODED] = "MMIO by an instruction the core does not decode",
    };
    return r < sizeof(names) / sizeof(names[0]) && names[r] ? names[r] : "unknown";
}

/* A VM with the guest image as its firmware: 4 MiB of RAM, the image at
 * 0xf0000 and aliased below 4 GiB where the reset vector points. */
static struct vcpu *create_guest(const struct guest_spec *g, const char *vm_name)
{
    size_t size = (size_t)(g->end - g->start);
    struct vm *vm = vm_create(vm_name);
    if (!vm)
        return 0;
    uint8_t *firmware = 0;
    if (size == FIRMWARE_SIZE && vm_add_ram(vm, 0, GUEST_RAM_SIZE) == 0 &&
        vm_add_alias(vm, RESET_ALIAS_GPA, FIRMWARE_GPA, FIRMWARE_SIZE) == 0)
        firmware = vm_guest_ram(vm, FIRMWARE_GPA, FIRMWARE_SIZE);
    struct vcpu *v = firmware ? vcpu_create(vm, 0) : 0;
    if (!v) {
        vm_destroy(vm);
        return 0;
    }
    memcpy(firmware, g->start, size);
    return v;
}

static void destroy_guest(struct vcpu *v)
{
    struct vm *vm = v->vm;
    vcpu_destroy(v);
    vm_destroy(vm);
}

static bool judge(const struct guest_spec *g, const struct vcpu_stop *stop,
                  const struct selftest_device *dev)
{
    if (g->expect == EXPECT_TRIPLE_FAULT)
        return stop->reason == VCPU_STOP_SHUTDOWN && dev->checkpoint == 1 && !dev->has_result;
    return stop->reason == VCPU_STOP_DEVICE && dev->has_result && dev->result == 0;
}

static void report(const struct guest_spec *g, const char *vm_name, bool ok,
                   const struct vcpu_stop *stop, const struct selftest_device *dev,
                   const struct vcpu_stats *st)
{
    if (ok) {
        pr_info("selftest: %s passed (%s; %llu exits: %llu io, %llu mmio, %llu cpuid, %llu msr, "
                "%llu hlt, %llu injected, %llu RAM faults)",
                vm_name, stop_reason_name(stop->reason), (unsigned long long)st->exits,
                (unsigned long long)st->io, (unsigned long long)(st->mmio + st->outside_memory),
                (unsigned long long)st->cpuid, (unsigned long long)st->msr,
                (unsigned long long)st->hlt,
                (unsigned long long)(st->injected_interrupts + st->injected_exceptions),
                (unsigned long long)st->ram_mapped);
        return;
    }
    pr_err("selftest: %s (%s) FAILED: %s, result %s%u, last checkpoint %u, rip 0x%llx, exit "
           "code 0x%llx",
           vm_name, g->name, stop_reason_name(stop->reason), dev->has_result ? "" : "none/",
           dev->result, dev->checkpoint, (unsigned long long)stop->rip,
           (unsigned long long)stop->code);
    if (stop->reason == VCPU_STOP_MMIO_UNDECODED) {
        char hex[3 * 15 + 1] = "";
        for (unsigned i = 0; i < stop->insn_length; i++)
            fmt_snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", stop->insn[i]);
        pr_err("selftest: %s: instruction bytes: %s", vm_name, hex);
    }
}

static bool run_guest(const struct guest_spec *g, unsigned cpu)
{
    char vm_name[32];
    fmt_snprintf(vm_name, sizeof(vm_name), "%s-cpu%u", g->name, cpu);
    struct vcpu *v = create_guest(g, vm_name);
    if (!v) {
        pr_err("selftest: %s: could not create the VM (out of memory?)", vm_name);
        return false;
    }
    struct selftest_device dev = {.vm_name = vm_name};
    struct vm_device_ops ops = selftest_device_ops(&dev);
    struct vcpu_stop stop;
    vcpu_run_loop(v, &ops, &stop);
    bool ok = judge(g, &stop, &dev);
    report(g, vm_name, ok, &stop, &dev, &v->stats);
    destroy_guest(v);
    return ok;
}

static void run_cpu_jobs(void *arg)
{
    struct cpu_jobs *jobs = arg;
    const struct guest_spec selftest = {"selftest", guest_image_selftest, guest_image_selftest_end,
                                        EXPECT_PASS_RESULT};
    const struct guest_spec triple = {"triple-fault", guest_image_triple_fault,
                                      guest_image_triple_fault_end, EXPECT_TRIPLE_FAULT};
    if (run_guest(&selftest, jobs->cpu))
        jobs->passed++;
    else
        jobs->failed++;
    if (jobs->with_triple_fault) {
        if (run_guest(&triple, jobs->cpu))
            jobs->passed++;
        else
            jobs->failed++;
    }
    __atomic_store_n(&jobs->done, 1, __ATOMIC_RELEASE);
}

void selftest_run(void)
{
    if (!virt) {
        pr_err("selftest: no usable hardware virtualization (see the line above); 0 passed, 1 "
               "failed");
        pr_info("selftest: 0 passed, 1 failed");
        machine_poweroff(1);
    }
    static struct cpu_jobs jobs[MAX_CPUS];
    unsigned last = 0;
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        if (cpu_table[i] && cpu_table[i]->online_word)
            last = i;
    }
    for (unsigned i = 0; i <= last; i++) {
        jobs[i] = (struct cpu_jobs){.cpu = i, .with_triple_fault = i == last};
        if (i != this_cpu()->index && cpu_table[i] && cpu_table[i]->online_word &&
            !smp_post_work(i, run_cpu_jobs, &jobs[i])) {
            pr_err("selftest: CPU %u is busy and cannot take its guests", i);
            jobs[i].failed = 1;
            jobs[i].done = 1;
        }
    }
    run_cpu_jobs(&jobs[this_cpu()->index]);
    unsigned passed = 0, failed = 0;
    uint64_t deadline = uptime_ns() + SELFTEST_TIMEOUT_NS;
    for (unsigned i = 0; i <= last; i++) {
        if (!cpu_table[i] || !cpu_table[i]->online_word)
            continue;
        while (!__atomic_load_n(&jobs[i].done, __ATOMIC_ACQUIRE) && uptime_ns() < deadline)
            cpu_relax();
        if (!jobs[i].done) {
            pr_err("selftest: CPU %u did not finish its guests in time", i);
            failed++;
        }
        passed += jobs[i].passed;
        failed += jobs[i].failed;
    }
    pr_info("selftest: %u passed, %u failed", passed, failed);
    machine_poweroff(failed ? 1 : 0);
}

void bench_run(void)
{
    if (!virt) {
        pr_err("bench: no usable hardware virtualization");
        machine_poweroff(1);
    }
    const struct guest_spec bench = {"bench", guest_image_bench, guest_image_bench_end,
                                     EXPECT_PASS_RESULT};
    struct vcpu *v = create_guest(&bench, "bench");
    if (!v) {
        pr_err("bench: could not create the VM");
        machine_poweroff(1);
    }
    struct selftest_device dev = {.vm_name = "bench"};
    struct vm_device_ops ops = selftest_device_ops(&dev);
    struct vcpu_stop stop;
    vcpu_run_loop(v, &ops, &stop);
    bool ok = judge(&bench, &stop, &dev);
    if (ok)
        /* TSC ticks per round trip; they are instructions under QEMU -icount
         * shift=0 and Bochs clock: sync=none (DESIGN.md section 8). */
        pr_info("bench: %s: cpuid-exit %llu, io-exit %llu, loop-overhead %llu TSC ticks per "
                "round trip",
                virt->name, (unsigned long long)dev.bench[0], (unsigned long long)dev.bench[1],
                (unsigned long long)dev.bench[2]);
    else
        report(&bench, "bench", false, &stop, &dev, &v->stats);
    destroy_guest(v);
    machine_poweroff(ok ? 0 : 1);
}
