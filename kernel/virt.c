/* Backend choice and per-CPU enable of hardware virtualization. */
#include "virt.h"
#include "cpu.h"
#include "fmt.h"
#include "kstring.h"
#include "percpu.h"
#include "printk.h"
#include "smp.h"

#define ENABLE_TIMEOUT_US 1000000

const struct virt_ops *virt;
struct virt_caps virt_caps;

struct enable_result {
    int status;
    char reason[VIRT_REASON_MAX];
};

static struct enable_result results[MAX_CPUS];

/* Enables the backend arg on the calling CPU and records how it went. */
static void enable_on_this_cpu(void *arg)
{
    const struct virt_ops *ops = arg;
    struct enable_result *r = &results[this_cpu()->index];
    r->status = ops->cpu_enable(r->reason);
}

static void disable_on_this_cpu(void *arg)
{
    const struct virt_ops *ops = arg;
    if (results[this_cpu()->index].status == 0)
        ops->cpu_disable();
}

/* Enables ops on every online CPU; returns the number of CPUs that failed and
 * leaves the first failure's reason in buf. */
static unsigned enable_everywhere(const struct virt_ops *ops, char *buf)
{
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        results[i].status = -1;
        fmt_snprintf(results[i].reason, VIRT_REASON_MAX, "CPU %u did not answer", i);
    }
    smp_run_everywhere(enable_on_this_cpu, (void *)ops, ENABLE_TIMEOUT_US);
    unsigned failed = 0;
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        if (!cpu_table[i] || !cpu_table[i]->online_word || results[i].status == 0)
            continue;
        if (!failed)
            kstrlcpy(buf, results[i].reason, VIRT_REASON_MAX);
        failed++;
        pr_warn("virt: %s could not be enabled on CPU %u: %s", ops->name, i, results[i].reason);
    }
    return failed;
}

void virt_init(void)
{
    const struct virt_ops *candidates[] = {&vmx_ops, &svm_ops};
    const struct virt_ops *ops = 0;
    for (unsigned i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        if (candidates[i]->present()) {
            ops = candidates[i];
            break;
        }
    }
    if (!ops) {
        pr_info("keel: virtualization: none: this CPU has neither Intel VT-x (VMX) nor AMD-V "
                "(SVM); run Keel on a CPU with one of them (in QEMU: -cpu max or EPYC); Keel "
                "keeps running without guests");
        return;
    }
    ops->probe(&virt_caps);
    if (!virt_caps.usable) {
        pr_info("keel: virtualization: none: %s; Keel keeps running without guests",
                virt_caps.reason);
        return;
    }
    char reason[VIRT_REASON_MAX];
    if (enable_everywhere(ops, reason)) {
        /* Graceful failure, not degraded operation: if one CPU could not
         * enable the extension, none keeps it on. */
        smp_run_everywhere(disable_on_this_cpu, (void *)ops, ENABLE_TIMEOUT_US);
        pr_info("keel: virtualization: none: %s; Keel keeps running without guests", reason);
        return;
    }
    virt = ops;
    pr_info("keel: virtualization: %s (%s)", ops->name, virt_caps.features);
}
