/*
 * How a VMM partition (guest-loader/) tells the root partition (user/init)
 * how its VM ended: its exit status, one of the values below
 * (docs/vmm.md, "Exit statuses"). Any other status means the VMM itself
 * went wrong: a negative one that the core killed it (a fault), 134
 * (KEEL_ABORT_STATUS) that it aborted.
 */
#ifndef KEEL_USER_VMM_STATUS_H
#define KEEL_USER_VMM_STATUS_H

/* The guest wrote V to the exit device (port 0xf4): status GUEST_EXIT + V,
 * V the low 8 bits of the value written. */
#define VMM_STATUS_GUEST_EXIT     0x100
#define VMM_STATUS_GUEST_EXIT_MAX 0x1ff
#define VMM_STATUS_HALTED         0x200 /* HLT with nothing that could wake it */
#define VMM_STATUS_TRIPLE_FAULT   0x201 /* KEEL_EXIT_SHUTDOWN */
#define VMM_STATUS_ENTRY_FAILED   0x202 /* KEEL_EXIT_FAIL_ENTRY */
#define VMM_STATUS_INTERNAL_ERROR 0x203 /* KEEL_EXIT_INTERNAL_ERROR or an exit it cannot handle */
#define VMM_STATUS_BAD_IMAGE      0x204 /* the guest image or a module cannot be loaded */
#define VMM_STATUS_SETUP_FAILED   0x205 /* a hypercall failed while building or running the VM */
#define VMM_STATUS_BAD_ARGS       0x206 /* its argument string or granted modules are wrong */

#define VMM_STATUS_IS_GUEST_EXIT(s)                                                                \
    ((s) >= VMM_STATUS_GUEST_EXIT && (s) <= VMM_STATUS_GUEST_EXIT_MAX)

#endif
