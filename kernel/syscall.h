/* The SYSCALL path into the core (kernel/user_entry.asm, kernel/syscall.c). */
#ifndef KEEL_SYSCALL_H
#define KEEL_SYSCALL_H

#include "traps.h"

/* Programs EFER.SCE, STAR, LSTAR and SFMASK on the calling CPU
 * (SDM Vol. 3A 5.8.8). */
void syscall_enable_on_this_cpu(void);

/* Called with the partition's registers in frame (RAX number, RDI.. args);
 * leaves the result in frame->rax. Kills the partition on a bad frame. */
void syscall_dispatch(struct trap_frame *frame);

/* Common exit path to ring 3 (after a syscall or an interrupt from ring 3):
 * ends the thread if its partition died, yields if the tick asked. */
void return_to_user_checks(struct trap_frame *frame);

#endif
