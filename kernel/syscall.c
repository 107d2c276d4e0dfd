/* SYSCALL set-up and the hypercall dispatcher. */
#include <keel/hypercall.h>

#include "cpu.h"
#include "gdt.h"
#include "hypercall.h"
#include "partition.h"
#include "printk.h"
#include "sched/sched.h"
#include "syscall.h"

#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_SFMASK 0xc0000084
#define EFER_SCE   (1ull << 0)
/* RFLAGS bits cleared on SYSCALL: TF, IF, DF, AC, NT, IOPL (SDM 5.8.8). */
#define SFMASK_VALUE                                                                               \
    ((1ull << 8) | (1ull << 9) | (1ull << 10) | (1ull << 18) | (1ull << 14) | (3ull << 12))
/* What a partition may have in RFLAGS when it goes back: CF PF AF ZF SF TF DF OF, AC, ID. */
#define USER_RFLAGS_MASK 0x2c0dd5ull
#define RFLAGS_IF_BIT    (1ull << 9)
#define RFLAGS_RESERVED1 (1ull << 1)

extern char syscall_entry[];

void syscall_enable_on_this_cpu(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* STAR[47:32]: kernel CS (SS = +8); STAR[63:48]: base for SYSRET (CS = +16, SS = +8). */
    wrmsr(MSR_STAR, ((uint64_t)(SEL_USER_CODE32 & ~3) << 48) | ((uint64_t)SEL_KERNEL_CODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_SFMASK, SFMASK_VALUE);
}

static bool canonical(uint64_t a)
{
    uint64_t top = a >> 47;
    return top == 0 || top == 0x1ffff;
}

void return_to_user_checks(struct trap_frame *frame)
{
    struct partition *p = partition_current();
    if (p && (p->state == PARTITION_DEAD || !canonical(frame->rip) || !canonical(frame->rsp))) {
        if (p->state != PARTITION_DEAD)
            partition_kill(p, -1, "non-canonical return address");
        partition_thread_gone(p);
        thread_exit(p->exit_status);
    }
    frame->rflags = (frame->rflags & USER_RFLAGS_MASK) | RFLAGS_IF_BIT | RFLAGS_RESERVED1;
    if (sched_should_yield())
        schedule();
}

void syscall_dispatch(struct trap_frame *frame)
{
    irq_enable();
    struct partition *p = partition_current();
    frame->rax = (uint64_t)hypercall(p, frame);
    irq_disable();
    return_to_user_checks(frame);
}
