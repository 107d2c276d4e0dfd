/*
 * The root partition (DESIGN.md section 1; docs/vmm.md, "The root
 * partition"): reads the boot module "manifest", starts one VMM partition
 * (boot module "vmm") per VM that may start, and reports how each VM ends.
 * Every line it prints starts with "keel: ".
 */
#ifndef KEEL_INIT_INIT_H
#define KEEL_INIT_INIT_H

#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"

#define INIT_VMM_MODULE      "vmm"
#define INIT_MANIFEST_MODULE "manifest"

/* A VM whose VMM partition was started. */
struct vm_slot {
    const struct manifest_vm *vm;
    long partition; /* handle with the wait right */
};

/* vm_start.c: writes the VMM's argument string for vm into buf (docs/vmm.md,
 * "Arguments") -> its length, or -1 when it does not fit in size bytes. */
int vmm_args_format(const struct manifest_vm *vm, char *buf, size_t size);

/* vm_start.c: opens the VM's modules and creates its VMM partition from
 * the module handle vmm -> the partition handle, or a negative value after
 * printing why the VM does not start. */
long vm_start(const struct manifest_vm *vm, long vmm);

/* vm_watch.c: when vm says on_exit = poweroff, powers the machine off with
 * status (a negative status: the VM failed, 255), else returns. */
void vm_poweroff_if_asked(const struct manifest_vm *vm, int status);

/* vm_watch.c: waits for every started VM, a thread each (in turn when no
 * thread can be made), reports how each ended, powers off when one with
 * on_exit = poweroff ends, and prints "keel: all VMs done" after the last.
 * Returns only when count is 0. */
void vm_watch_all(struct vm_slot *slots, unsigned count);

#endif
