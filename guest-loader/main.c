/*
 * The VMM partition's entry (vmm.h, docs/vmm.md): reads its start
 * information (the VM's name, its argument string, the granted modules, the
 * time), builds the VM, runs it, and ends with an exit status that tells the
 * root partition how the VM ended (vmm_status.h).
 */
#include <stdarg.h>

#include "libc.h"
#include "vmm.h"
#include "vmm_status.h"

#define SAY_MAX 320
/* What the TSC is taken to run at when the core does not say. */
#define FALLBACK_TSC_KHZ 1000000ull

void vmm_say(const char *fmt, ...)
{
    char line[SAY_MAX];
    int n = snprintf(line, sizeof(line), "vmm: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    keel_console_write_all(line, len);
}

/* A line of guest output: the core prefixes it with the partition's name,
 * which is the VM's, so it reads "<vm name>: <line>". */
void vmm_console_line(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    if (len == 0)
        keel_console_write_all("\n", 1);
    else
        keel_console_write_all(line, len);
}

/* Maps granted module handle h; its name is NUL-terminated here. */
static bool map_module(long h, struct keel_module_info *info)
{
    long err = keel_module_map(h, info);
    if (err < 0) {
        vmm_say("cannot map granted module %ld: %s", h, keel_strerror(err));
        return false;
    }
    info->name[sizeof(info->name) - 1] = '\0';
    return true;
}

#ifdef VMM_TEST_HOOKS
static void hog(void *arg)
{
    const struct vmm *v = arg;
    vmm_pin_vcpu_thread(v, 0);
    uint64_t end = __builtin_ia32_rdtsc() + VMM_TEST_HOG_MS * v->tsc_khz;
    while (__builtin_ia32_rdtsc() < end)
        __asm__ volatile("pause");
    vmm_say("test hook: the spinning thread stops");
}

static void start_hog(struct vmm *v)
{
    if (strncmp(v->name, VMM_TEST_HOG_PREFIX, strlen(VMM_TEST_HOG_PREFIX)) != 0)
        return;
    vmm_say("test hook: a thread spins for %u ms without blocking", VMM_TEST_HOG_MS);
    if (keel_thread_spawn(hog, v, 0) < 0)
        vmm_say("test hook: cannot start the spinning thread");
}
#endif

static struct vmm vmm;
static struct keel_module_info image, modules[VMM_MAX_MODULES];

int main(const struct keel_start_info *si)
{
    char name[KEEL_NAME_MAX], why[VMM_ARGS_ERROR_MAX];
    if (si == NULL || si->magic != KEEL_START_MAGIC) {
        vmm_say("no start information");
        return VMM_STATUS_BAD_ARGS;
    }
    kstrlcpy(name, si->name, sizeof(name));
    vmm.name = name;
    vmm.tsc_khz = si->tsc_khz;
    vmm.boot_tsc = si->boot_tsc;
    vmm.wallclock = si->wallclock;
    if (vmm.tsc_khz == 0) {
        vmm.tsc_khz = FALLBACK_TSC_KHZ;
        vmm_say("the core gave no TSC rate: the device clocks assume %llu kHz",
                (unsigned long long)FALLBACK_TSC_KHZ);
    }
    if (!vmm_parse_args(si->args, &vmm.args, why)) {
        vmm_say("bad argument string: %s", why);
        return VMM_STATUS_BAD_ARGS;
    }
    unsigned granted = si->module_count;
    if (granted < 1 || granted - 1 > VMM_MAX_MODULES) {
        vmm_say("%u modules granted: expected the guest image and at most %u more", granted,
                VMM_MAX_MODULES);
        return VMM_STATUS_BAD_ARGS;
    }
    if (!map_module(VMM_IMAGE_HANDLE, &image))
        return VMM_STATUS_BAD_ARGS;
    for (unsigned i = 0; i + 1 < granted; i++) {
        if (!map_module(VMM_IMAGE_HANDLE + 1 + (long)i, &modules[i]))
            return VMM_STATUS_BAD_ARGS;
    }
    if (vmm.args.cmdline[0] == '\0') /* the first word is the program's name */
        kstrlcpy(vmm.args.cmdline, image.name, sizeof(vmm.args.cmdline));
    vmm_pin_vcpu_thread(&vmm, 0); /* the setup runs where vCPU 0 will */
#ifdef VMM_TEST_HOOKS
    start_hog(&vmm);
#endif
    int status = vmm_setup(&vmm, &image, modules, granted - 1);
    if (status)
        return status;
    vmm_run(&vmm);
}
