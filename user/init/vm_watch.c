/*
 * Waiting for the VMs: one watcher thread per VMM partition blocks in
 * KEEL_HC_PARTITION_WAIT, turns the VMM's exit status (vmm_status.h) into a
 * report line, and powers the machine off when the VM says on_exit =
 * poweroff. The last watcher prints "keel: all VMs done" and ends the root
 * partition with status 0.
 */
#include "init.h"
#include "keel.h"
#include "libc.h"
#include "vmm_status.h"

#define WATCHER_STACK       (16 * 1024)
#define POWEROFF_ON_FAILURE 0xff /* QEMU's isa-debug-exit then exits with 255 */

static unsigned remaining;

/* Prints how the VM ended -> the status to power off with. */
static int report(const struct manifest_vm *vm, long status)
{
    const char *why;
    if (VMM_STATUS_IS_GUEST_EXIT(status)) {
        int v = (int)(status - VMM_STATUS_GUEST_EXIT);
        printf("keel: vm %s exited, status %d\n", vm->name, v);
        return v;
    }
    switch (status) {
    case VMM_STATUS_HALTED:
        printf("keel: vm %s halted (no exit status)\n", vm->name);
        return 0;
    case VMM_STATUS_TRIPLE_FAULT:
        why = "the guest triple-faulted";
        break;
    case VMM_STATUS_ENTRY_FAILED:
        why = "the CPU refused to enter the guest";
        break;
    case VMM_STATUS_INTERNAL_ERROR:
        why = "the guest did something its VMM cannot handle";
        break;
    case VMM_STATUS_BAD_IMAGE:
        why = "its guest image cannot be loaded";
        break;
    case VMM_STATUS_SETUP_FAILED:
        why = "its VMM could not build or run the VM";
        break;
    case VMM_STATUS_BAD_ARGS:
        why = "its VMM rejected its arguments or modules";
        break;
    case KEEL_ABORT_STATUS:
        why = "its VMM aborted";
        break;
    default:
        printf("keel: vm %s failed: its VMM %s (status %ld)\n", vm->name,
               status < 0 ? "partition was killed" : "ended without a VM status", status);
        return POWEROFF_ON_FAILURE;
    }
    printf("keel: vm %s failed: %s\n", vm->name, why);
    return POWEROFF_ON_FAILURE;
}

void vm_poweroff_if_asked(const struct manifest_vm *vm, int status)
{
    if (vm->on_exit != MANIFEST_ON_EXIT_POWEROFF)
        return;
    if (status < 0)
        status = POWEROFF_ON_FAILURE;
    printf("keel: vm %s: on_exit = poweroff: powering off with status %d\n", vm->name, status);
    long err = keel_poweroff(status);
    printf("keel: power-off failed (%s); going on\n", keel_strerror(err));
}

static void watch(struct vm_slot *slot)
{
    long status = 0;
    long err = keel_partition_wait(slot->partition, &status);
    if (err < 0) {
        printf("keel: vm %s: cannot wait for its VMM (%s)\n", slot->vm->name, keel_strerror(err));
        status = -1;
    }
    vm_poweroff_if_asked(slot->vm, report(slot->vm, status));
    if (__atomic_sub_fetch(&remaining, 1, __ATOMIC_ACQ_REL) == 0) {
        printf("keel: all VMs done\n");
        keel_exit(0);
    }
}

static void watcher(void *arg)
{
    watch(arg);
}

void vm_watch_all(struct vm_slot *slots, unsigned count)
{
    bool in_turn[MANIFEST_MAX_VMS] = {false};
    if (count == 0) {
        printf("keel: all VMs done\n");
        return;
    }
    __atomic_store_n(&remaining, count, __ATOMIC_RELEASE);
    bool said = false;
    for (unsigned i = 0; i < count && i < MANIFEST_MAX_VMS; i++) {
        long t = keel_thread_spawn(watcher, &slots[i], WATCHER_STACK);
        in_turn[i] = t < 0;
        if (t < 0 && !said) {
            printf("keel: no watcher thread (%s): waiting for VMs in turn\n", keel_strerror(t));
            said = true;
        }
    }
    for (unsigned i = 0; i < count && i < MANIFEST_MAX_VMS; i++) {
        if (in_turn[i])
            watch(&slots[i]);
    }
    keel_thread_exit(0); /* the watchers finish the work; the last ends the partition */
}
