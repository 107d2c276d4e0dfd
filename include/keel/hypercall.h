/*
 * Keel's hypercall ABI: shared by the core and the ring-3 partitions
 * (DESIGN.md section 5). A partition enters the core with SYSCALL: the
 * number in RAX, arguments in RDI, RSI, RDX, R10, R8, R9; the result comes
 * back in RAX, >= 0 on success or a negative KEEL_E* code. RCX and R11 are
 * clobbered (SYSCALL/SYSRET use them), every other register is preserved.
 * docs/hypercalls.md describes each call: arguments, result, errors, rights.
 */
#ifndef KEEL_ABI_HYPERCALL_H
#define KEEL_ABI_HYPERCALL_H

/* Partition services. */
#define KEEL_HC_CONSOLE_WRITE    0  /* (const char *buf, size_t len) -> bytes written */
#define KEEL_HC_CONSOLE_READ     1  /* (char *buf, size_t len) -> bytes read, never blocks */
#define KEEL_HC_EXIT             2  /* (int status): ends the calling partition */
#define KEEL_HC_MEM_MAP          3  /* (size_t size, unsigned prot) -> address of zeroed memory */
#define KEEL_HC_MEM_UNMAP        4  /* (void *addr, size_t size) */
#define KEEL_HC_MODULE_OPEN      5  /* (const char *name, size_t len) -> module handle */
#define KEEL_HC_MODULE_MAP       6  /* (handle, struct keel_module_info *out) -> 0; read-only */
#define KEEL_HC_THREAD_CREATE    7  /* (void (*entry)(void *), void *stack_top, void *arg) -> 0 */
#define KEEL_HC_THREAD_EXIT      8  /* (int status) */
#define KEEL_HC_PARTITION_CREATE 9  /* (const struct keel_partition_spec *) -> partition handle */
#define KEEL_HC_PARTITION_KILL   10 /* (handle) */
#define KEEL_HC_PARTITION_WAIT   11 /* (handle, int64_t *status) -> 0 (blocks) */
#define KEEL_HC_POWEROFF         12 /* (int status): root partition only */
#define KEEL_HC_THREAD_AFFINITY  13 /* (uint64_t cpu_mask): the calling thread's CPUs; 0 = any */
#define KEEL_HC_CPU_COUNT        14 /* () -> number of physical CPUs online */

/* The /dev/kvm-shaped calls (names and semantics of Linux's ioctls). */
#define KEEL_HC_CREATE_VM              32 /* () -> vm handle */
#define KEEL_HC_SET_USER_MEMORY_REGION 33 /* (vm, const struct keel_memory_region *) */
#define KEEL_HC_CREATE_VCPU            34 /* (vm, unsigned id, struct keel_run **run) -> vcpu */
#define KEEL_HC_RUN                    35 /* (vcpu) -> 0, exit described in the run page */
#define KEEL_HC_GET_REGS               36 /* (vcpu, struct keel_regs *) */
#define KEEL_HC_SET_REGS               37 /* (vcpu, const struct keel_regs *) */
#define KEEL_HC_GET_SREGS              38 /* (vcpu, struct keel_sregs *) */
#define KEEL_HC_SET_SREGS              39 /* (vcpu, const struct keel_sregs *) */
#define KEEL_HC_GET_MSRS               40 /* (vcpu, struct keel_msrs *) -> count done */
#define KEEL_HC_SET_MSRS               41 /* (vcpu, const struct keel_msrs *) -> count done */
#define KEEL_HC_GET_FPU                42 /* (vcpu, struct keel_fpu *) */
#define KEEL_HC_SET_FPU                43 /* (vcpu, const struct keel_fpu *) */
#define KEEL_HC_SET_CPUID              44 /* (vcpu, const struct keel_cpuid *) */
#define KEEL_HC_INTERRUPT              45 /* (vcpu, unsigned vector) */
#define KEEL_HC_GET_STATS              46 /* (vcpu, struct keel_vcpu_stats *) */
#define KEEL_HC_IRQ_LINE               47 /* (vm, const struct keel_irq_level *) */
#define KEEL_HC_SIGNAL_MSI             48 /* (vm, const struct keel_msi *) -> 1 delivered, 0 blocked */

/* Errors: negative results, errno-style. */
#define KEEL_EPERM  1  /* the handle lacks the right, or the caller is not root */
#define KEEL_ENOENT 2  /* no such module or name */
#define KEEL_ESRCH  3  /* the partition or thread is gone */
#define KEEL_EFAULT 14 /* a pointer does not point to the caller's own mapped memory */
#define KEEL_EBUSY  16 /* in use (e.g. a vCPU already running) */
#define KEEL_EEXIST 17 /* overlapping region or an id already taken */
#define KEEL_EINVAL 22 /* a bad number, size, alignment or flag */
#define KEEL_ENOMEM 12 /* out of memory */
#define KEEL_EBADF  9  /* not a valid handle of the caller, or of the wrong kind */
#define KEEL_EMFILE 24 /* the handle table is full */
#define KEEL_ENOSYS 38 /* no such hypercall */
#define KEEL_ENODEV 19 /* no hardware virtualization */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* KEEL_HC_MODULE_MAP's result: where the module is mapped, read-only. */
struct keel_module_info {
    uint64_t address;
    uint64_t size;
    char name[32];
};

/* KEEL_HC_PARTITION_CREATE's argument (root partition only). */
struct keel_partition_spec {
    int64_t image;        /* module handle (read right) of the ELF image */
    uint64_t name;        /* const char *: the partition's name */
    uint64_t name_len;    /* < 32 */
    uint64_t args;        /* const char *: its argument string */
    uint64_t args_len;    /* < 256 */
    uint64_t grants;      /* const int64_t *: module handles handed on read-only */
    uint64_t grant_count; /* < 64 */
};
#endif

/* Memory protection for KEEL_HC_MEM_MAP. */
#define KEEL_PROT_READ  1u
#define KEEL_PROT_WRITE 2u
#define KEEL_PROT_EXEC  4u

#endif
