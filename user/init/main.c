/*
 * The root partition's entry (init.h): the manifest, its problems, one VMM
 * partition per VM that may start, then the watchers.
 */
#include "init.h"
#include "keel.h"
#include "libc.h"

static struct manifest manifest;
static struct vm_slot slots[MANIFEST_MAX_VMS];

static void report_problems(const struct manifest *m)
{
    for (unsigned i = 0; i < m->errors.count && i < MANIFEST_MAX_ERRORS; i++)
        printf("keel: %s\n", m->errors.list[i].text);
    if (m->errors.count > MANIFEST_MAX_ERRORS)
        printf("keel: manifest: %u more problems not shown\n",
               m->errors.count - MANIFEST_MAX_ERRORS);
}

/* Starts the VM if it may start -> true when its VMM partition runs. */
static bool start(const struct manifest_vm *vm, long vmm, struct vm_slot *slot)
{
    const char *name = vm->name[0] ? vm->name : "?";
    if (!vm->valid) {
        printf("keel: vm %s: not started: %s\n", name, vm->reason);
        return false;
    }
    if (!vm->autostart) {
        printf("keel: vm %s: not started: autostart = no\n", name);
        return false;
    }
    if (vmm < 0) {
        printf("keel: vm %s: not started: no boot module '%s' (%s)\n", name, INIT_VMM_MODULE,
               keel_strerror(vmm));
        vm_poweroff_if_asked(vm, -1);
        return false;
    }
    long p = vm_start(vm, vmm);
    if (p < 0) {
        vm_poweroff_if_asked(vm, -1); /* it ended before it began */
        return false;
    }
    *slot = (struct vm_slot){vm, p};
    return true;
}

int main(const struct keel_start_info *si)
{
    (void)si;
    struct keel_module_info info;
    long h = keel_module_open(INIT_MANIFEST_MODULE);
    long err = h < 0 ? h : keel_module_map(h, &info);
    if (err < 0) {
        printf("keel: no boot module '%s' (%s): no VM to start\n", INIT_MANIFEST_MODULE,
               keel_strerror(err));
        printf("keel: all VMs done\n");
        return 0;
    }
    manifest_parse((const char *)(uintptr_t)info.address, info.size, &manifest);
    report_problems(&manifest);
    long vmm = keel_module_open(INIT_VMM_MODULE);
    unsigned started = 0;
    for (unsigned i = 0; i < manifest.vm_count && i < MANIFEST_MAX_VMS; i++) {
        if (start(&manifest.vms[i], vmm, &slots[started]))
            started++;
    }
    printf("keel: manifest: %u VM%s described, %u started\n", manifest.vm_count,
           manifest.vm_count == 1 ? "" : "s", started);
    vm_watch_all(slots, started);
    return 0;
}
