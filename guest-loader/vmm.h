/*
 * The VMM of one VM (DESIGN.md sections 1 and 4; docs/vmm.md): runs in its
 * own ring-3 service partition, named after the VM, started by the root
 * partition. It loads a multiboot1 guest into RAM it owns, builds the VM
 * with its vCPUs, the ACPI tables and the PC platform of board.h, and runs
 * each vCPU on a thread of its own through the /dev/kvm-shaped hypercalls.
 * Its exit status says how the VM ended (vmm_status.h).
 */
#ifndef KEEL_VMM_VMM_H
#define KEEL_VMM_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "args.h"
#include "board.h"
#include "keel_vm.h"
#include "multiboot.h"

#define VMM_MAX_MODULES  MB_MAX_MODULES
#define VMM_IMAGE_HANDLE 1 /* granted module handles: the image, then the modules */

#ifdef VMM_TEST_HOOKS
/* Test builds only (vmm-test.elf): an OUT of this value to this port makes
 * the VMM fault on purpose, to test that the core and init survive it. */
#define VMM_TEST_CRASH_PORT 0xf5
/* ... and a VM whose name starts with this gets, besides its vCPU threads,
 * a thread that spins in ring 3 for VMM_TEST_HOG_MS without blocking or
 * running a vCPU (on vCPU 0's CPU), to test that a partition thread that
 * behaves so cannot starve other VMs' vCPUs (kernel/sched/thread.h). */
#define VMM_TEST_HOG_PREFIX  "hog"
#define VMM_TEST_HOG_MS      4000
#define VMM_TEST_CRASH_VALUE 0x5a
#endif

struct vmm;

/* One vCPU and the thread that runs it. */
struct vmm_vcpu {
    struct vmm *vmm;
    unsigned index; /* the vCPU id, its APIC ID */
    long handle;
    struct keel_run *run;
};

struct vmm {
    const char *name; /* the VM's (and partition's) name */
    struct vmm_args args;
    uint64_t tsc_khz, boot_tsc, wallclock; /* from keel_start_info */
    struct guest_ram ram;
    long vm;
    unsigned vcpu_count; /* args.cpus */
    struct vmm_vcpu vcpus[VMM_MAX_CPUS];
    struct board board;
    int status;  /* atomic: 0 while the VM runs, then how it ended (vmm_status.h) */
    int exiting; /* atomic: a thread is ending the partition */
};

/* setup.c: guest RAM, the VM, its vCPUs, the image, vCPU 0's start state,
 * the ACPI tables and the board. Returns 0 or the exit status to end with
 * (after printing why). */
int vmm_setup(struct vmm *v, const struct keel_module_info *image,
              const struct keel_module_info *mods, unsigned mod_count);

/* run.c: affinity=: the calling thread, which runs vCPU index, goes to CPU
 * list[index % n]; a CPU that is not online leaves it floating (said once). */
void vmm_pin_vcpu_thread(const struct vmm *v, unsigned index);

/* run.c: starts a thread per vCPU beyond 0, runs vCPU 0 on the calling
 * thread, and ends the partition with the VM's status when the VM ends. */
_Noreturn void vmm_run(struct vmm *v);

/* run.c: the VM ends with status (vmm_status.h) unless it has ended
 * already; true when this call ended it. */
bool vmm_finish(struct vmm *v, int status);

/* main.c: COM1's output, a line of it on the console (board_config.emit). */
void vmm_console_line(void *ctx, const char *line, size_t len);

/* Prints "vmm: <message>" on the console as one line. */
void vmm_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
