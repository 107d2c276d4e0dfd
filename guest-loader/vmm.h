/*
 * The VMM of one VM (DESIGN.md sections 1 and 4; docs/vmm.md): runs in its
 * own ring-3 service partition, named after the VM, started by the root
 * partition. It loads a multiboot1 guest into RAM it owns, drives the guest
 * through the /dev/kvm-shaped hypercalls and emulates its devices: COM1, the
 * exit port, and "nothing there" for every other port and unbacked MMIO.
 * Its exit status says how the VM ended (vmm_status.h).
 */
#ifndef KEEL_VMM_VMM_H
#define KEEL_VMM_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "args.h"
#include "keel_vm.h"
#include "multiboot.h"
#include "uart.h"

#define VMM_EXIT_PORT    0xf4 /* QEMU's isa-debug-exit: OUT of V ends the VM with V */
#define VMM_REPORT_LIMIT 8    /* unclaimed-port and MMIO messages printed per VM */
#define VMM_MAX_MODULES  MB_MAX_MODULES
#define VMM_IMAGE_HANDLE 1 /* granted module handles: the image, then the modules */

#ifdef VMM_TEST_HOOKS
/* Test builds only (vmm-test.elf): an OUT of this value to this port makes
 * the VMM fault on purpose, to test that the core and init survive it. */
#define VMM_TEST_CRASH_PORT  0xf5
#define VMM_TEST_CRASH_VALUE 0x5a
#endif

struct vmm {
    const char *name; /* the VM's (and partition's) name */
    struct vmm_args args;
    struct guest_ram ram;
    long vm, vcpu;
    struct keel_run *run;
    struct uart com1;
    bool done;  /* the VM has ended ... */
    int status; /* ... with this exit status (vmm_status.h) */
    unsigned ports_reported;
    uint64_t mmio_accesses;
};

/* setup.c: guest RAM, the VM, vCPU 0, the image and the start state.
 * Returns 0 or the exit status to end with (after printing why). */
int vmm_setup(struct vmm *v, const struct keel_module_info *image,
              const struct keel_module_info *mods, unsigned mod_count);

/* run.c: runs vCPU 0 until the VM ends -> the exit status. */
int vmm_run(struct vmm *v);

/* devices.c: one port access (size 1, 2 or 4; *value in/out) and one MMIO
 * access (len 1..8 bytes of data). They set v->done and v->status when the
 * guest asks to end. */
void dev_port_io(struct vmm *v, uint16_t port, unsigned size, bool in, uint32_t *value);
void dev_mmio(struct vmm *v, uint64_t gpa, unsigned len, bool write, uint8_t *data);

/* Prints "vmm: <message>" on the console as one line. */
void vmm_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
