/*
 * Ring-3 side of Keel's hypercall ABI (include/keel/hypercall.h): the SYSCALL
 * stub and one typed wrapper per partition service. Results follow the ABI:
 * >= 0 on success, a negative KEEL_E* code on failure.
 *
 * What the wrappers assume of the core: SYSCALL with the number in RAX and
 * arguments in RDI, RSI, RDX, R10, R8, R9; the result in RAX; RCX, R11 and
 * the flags clobbered, every other register preserved.
 */
#ifndef KEEL_USER_KEEL_H
#define KEEL_USER_KEEL_H

#include <stddef.h>
#include <stdint.h>

#include "keel/hypercall.h"
#include "keel/start.h"

#define KEEL_PAGE_SIZE 4096ul
/* The most keel_console_write_all hands the core per call. */
#define KEEL_CONSOLE_CHUNK 4096ul

/* One hypercall with up to six arguments (unused ones are ignored). */
static inline long keel_hypercall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    register long r10 __asm__("r10") = a3;
    register long r8 __asm__("r8") = a4;
    register long r9 __asm__("r9") = a5;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "cc", "memory");
    return ret;
}

/* Console: bytes written / read (never blocks; 0 when nothing is waiting). */
long keel_console_write(const char *buf, size_t len);
long keel_console_read(char *buf, size_t len);
/* Writes all of buf, KEEL_CONSOLE_CHUNK bytes at a time and looping over
 * partial writes; 0 or the first error. */
long keel_console_write_all(const char *buf, size_t len);

/* Ends the calling partition with status (every thread). */
_Noreturn void keel_exit(int status);

/* Maps size bytes (rounded up to whole pages) of zeroed memory with prot
 * (KEEL_PROT_*); stores its address in *addr. 0 or a negative KEEL_E*. */
long keel_mem_map(size_t size, unsigned prot, void **addr);
long keel_mem_unmap(void *addr, size_t size);

/* A boot module granted to this partition, by name -> its handle. */
long keel_module_open(const char *name);
/* Maps the module read-only and describes it in *out. */
long keel_module_map(long handle, struct keel_module_info *out);

/* A new thread of this partition at entry(arg) on the given stack
 * (stack_top 16-byte aligned) -> the core's result (>= 0) or a negative
 * KEEL_E*. The stack and entry's frame are the caller's business;
 * keel_thread_spawn below does both. */
long keel_thread_create(void (*entry)(void *), void *stack_top, void *arg);
/* Ends the calling thread (the last one ends the partition). */
_Noreturn void keel_thread_exit(int status);
/* A thread running fn(arg) on a fresh stack of stack_size bytes (0: 64 KiB)
 * that ends with keel_thread_exit(0) when fn returns; result as
 * keel_thread_create. The stack stays mapped after the thread ends (it
 * cannot unmap the stack it runs on): meant for long-lived threads such as
 * vCPUs. */
long keel_thread_spawn(void (*fn)(void *), void *arg, size_t stack_size);

/* Partitions (the root partition starts one VMM per VM). */
long keel_partition_create(const struct keel_partition_spec *spec);
long keel_partition_kill(long handle);
/* Blocks until the partition has ended; its exit status goes to *status.
 * Returns 0 or a negative KEEL_E* code. */
long keel_partition_wait(long handle, long *status);
/* Powers the machine off (root partition only): returns only on failure. */
long keel_poweroff(int status);
/* Restricts the calling thread to the CPUs whose bits are set in cpu_mask
 * (bit n: CPU n; 0: any CPU). It moves there at once. */
long keel_thread_affinity(uint64_t cpu_mask);
/* The number of physical CPUs Keel runs on. */
long keel_cpu_count(void);

/* "ENOENT", ... for a negative KEEL_E* result; "E?" for anything else. */
const char *keel_strerror(long err);

#endif
