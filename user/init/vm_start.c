/*
 * Starting a VM: its boot modules, the VMM's argument string, and the VMM
 * partition (KEEL_HC_PARTITION_CREATE) named after the VM, granted the image
 * as handle 1 and the further modules as handles 2.. in manifest order.
 */
#include "init.h"
#include "keel.h"
#include "libc.h"

#define MODULE_CACHE_MAX (MANIFEST_MAX_VMS * (1 + MANIFEST_MAX_MODULES))
#define GIB              (1ull << 30)
#define MIB              (1ull << 20)
#define KIB              (1ull << 10)
/* "63," per entry at most, and the NUL. */
#define AFFINITY_TEXT_MAX (MANIFEST_MAX_AFFINITY * 3 + 1)

/* Each boot module is opened once: handles are a partition's scarce thing. */
static struct {
    char name[MANIFEST_NAME_MAX];
    long handle;
} module_cache[MODULE_CACHE_MAX];
static unsigned modules_cached;

static long open_module(const char *name)
{
    for (unsigned i = 0; i < modules_cached; i++) {
        if (strcmp(module_cache[i].name, name) == 0)
            return module_cache[i].handle;
    }
    long h = keel_module_open(name);
    if (h >= 0 && modules_cached < MODULE_CACHE_MAX) {
        kstrlcpy(module_cache[modules_cached].name, name, MANIFEST_NAME_MAX);
        module_cache[modules_cached++].handle = h;
    }
    return h;
}

/* "64M", "1G", "1028K": the largest unit that divides the size exactly. */
static void format_size(uint64_t bytes, char *buf, size_t size)
{
    if (bytes % GIB == 0)
        snprintf(buf, size, "%lluG", (unsigned long long)(bytes / GIB));
    else if (bytes % MIB == 0)
        snprintf(buf, size, "%lluM", (unsigned long long)(bytes / MIB));
    else
        snprintf(buf, size, "%lluK", (unsigned long long)(bytes / KIB));
}

/* "0,1": the affinity list as the VMM's argument takes it; "" when none. */
static void format_affinity(const struct manifest_vm *vm, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < vm->affinity_count && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%u", i ? "," : "", vm->affinity[i]);
        used += n > 0 ? (size_t)n : 0;
    }
}

int vmm_args_format(const struct manifest_vm *vm, char *buf, size_t size)
{
    char memory[24], affinity[AFFINITY_TEXT_MAX];
    format_size(vm->memory, memory, sizeof(memory));
    format_affinity(vm, affinity, sizeof(affinity));
    int n = snprintf(buf, size, "memory=%s cpus=%u %s%s%scmdline=%s", memory, vm->cpus,
                     affinity[0] ? "affinity=" : "", affinity, affinity[0] ? " " : "", vm->cmdline);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

static void not_started(const struct manifest_vm *vm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void not_started(const struct manifest_vm *vm, const char *fmt, ...)
{
    char why[MANIFEST_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    printf("keel: vm %s: not started: %s\n", vm->name, why);
}

/* The image's and modules' handles into grants[0 ..]; false after saying
 * which module is missing. */
static bool open_modules(const struct manifest_vm *vm, int64_t *grants)
{
    long h = open_module(vm->image);
    if (h < 0) {
        not_started(vm, "image: no boot module '%s' (%s)", vm->image, keel_strerror(h));
        return false;
    }
    grants[0] = h;
    for (unsigned i = 0; i < vm->module_count; i++) {
        h = open_module(vm->modules[i]);
        if (h < 0) {
            not_started(vm, "modules: no boot module '%s' (%s)", vm->modules[i], keel_strerror(h));
            return false;
        }
        grants[1 + i] = h;
    }
    return true;
}

long vm_start(const struct manifest_vm *vm, long vmm)
{
    int64_t grants[1 + MANIFEST_MAX_MODULES];
    char args[KEEL_START_ARGS_MAX];
    if (!open_modules(vm, grants))
        return -1;
    int len = vmm_args_format(vm, args, sizeof(args));
    if (len < 0) {
        not_started(vm,
                    "cmdline: %u characters do not fit in the VMM's argument string "
                    "(%d bytes in all)",
                    (unsigned)strlen(vm->cmdline), KEEL_START_ARGS_MAX - 1);
        return -1;
    }
    struct keel_partition_spec spec = {.image = vmm,
                                       .name = (uint64_t)(uintptr_t)vm->name,
                                       .name_len = strlen(vm->name),
                                       .args = (uint64_t)(uintptr_t)args,
                                       .args_len = (uint64_t)len,
                                       .grants = (uint64_t)(uintptr_t)grants,
                                       .grant_count = 1 + vm->module_count};
    long p = keel_partition_create(&spec);
    if (p < 0) {
        not_started(vm, "cannot create its VMM partition (%s)", keel_strerror(p));
        return -1;
    }
    char memory[24];
    format_size(vm->memory, memory, sizeof(memory));
    char affinity[AFFINITY_TEXT_MAX];
    format_affinity(vm, affinity, sizeof(affinity));
    printf("keel: vm %s started: image %s, memory %s, %u CPU%s, %u module%s, on_exit %s%s%s\n",
           vm->name, vm->image, memory, vm->cpus, vm->cpus == 1 ? "" : "s", vm->module_count,
           vm->module_count == 1 ? "" : "s", manifest_on_exit_name(vm->on_exit),
           affinity[0] ? ", affinity " : "", affinity);
    return p;
}
