/* Typed wrappers of the partition-service hypercalls (keel.h). */
#include "keel.h"
#include "kstring.h"

#define HC0(nr)                   keel_hypercall6((nr), 0, 0, 0, 0, 0, 0)
#define HC1(nr, a)                keel_hypercall6((nr), (long)(a), 0, 0, 0, 0, 0)
#define HC2(nr, a, b)             keel_hypercall6((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define HC3(nr, a, b, c)          keel_hypercall6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define KEEL_THREAD_STACK_DEFAULT (64 * 1024ul)

long keel_console_write(const char *buf, size_t len)
{
    return HC2(KEEL_HC_CONSOLE_WRITE, buf, len);
}

long keel_console_read(char *buf, size_t len)
{
    return HC2(KEEL_HC_CONSOLE_READ, buf, len);
}

long keel_console_write_all(const char *buf, size_t len)
{
    while (len > 0) {
        long n = keel_console_write(buf, len < KEEL_CONSOLE_CHUNK ? len : KEEL_CONSOLE_CHUNK);
        if (n < 0)
            return n;
        if (n == 0 || (size_t)n > len)
            return -KEEL_EINVAL; /* no progress, or a result the ABI rules out */
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

_Noreturn void keel_exit(int status)
{
    HC1(KEEL_HC_EXIT, status);
    for (;;)
        __builtin_trap(); /* the core ended us; reaching here is a core bug */
}

long keel_mem_map(size_t size, unsigned prot, void **addr)
{
    *addr = NULL;
    if (size == 0 || size > SIZE_MAX - (KEEL_PAGE_SIZE - 1))
        return -KEEL_EINVAL;
    size = (size + KEEL_PAGE_SIZE - 1) & ~(KEEL_PAGE_SIZE - 1);
    long ret = HC2(KEEL_HC_MEM_MAP, size, prot);
    if (ret < 0)
        return ret;
    *addr = (void *)ret;
    return 0;
}

long keel_mem_unmap(void *addr, size_t size)
{
    size = (size + KEEL_PAGE_SIZE - 1) & ~(KEEL_PAGE_SIZE - 1);
    return HC2(KEEL_HC_MEM_UNMAP, addr, size);
}

long keel_module_open(const char *name)
{
    return HC2(KEEL_HC_MODULE_OPEN, name, strlen(name));
}

long keel_module_map(long handle, struct keel_module_info *out)
{
    return HC2(KEEL_HC_MODULE_MAP, handle, out);
}

long keel_thread_create(void (*entry)(void *), void *stack_top, void *arg)
{
    return HC3(KEEL_HC_THREAD_CREATE, entry, stack_top, arg);
}

_Noreturn void keel_thread_exit(int status)
{
    HC1(KEEL_HC_THREAD_EXIT, status);
    for (;;)
        __builtin_trap();
}

/* What keel_thread_trampoline (crt0.asm) reads from the top of the stack. */
struct keel_thread_start {
    void (*fn)(void *);
    void *arg;
};

void keel_thread_trampoline(void *start);

long keel_thread_spawn(void (*fn)(void *), void *arg, size_t stack_size)
{
    void *stack;
    if (stack_size == 0)
        stack_size = KEEL_THREAD_STACK_DEFAULT;
    long ret = keel_mem_map(stack_size, KEEL_PROT_READ | KEEL_PROT_WRITE, &stack);
    if (ret < 0)
        return ret;
    size_t top = ((uintptr_t)stack + stack_size) & ~(uintptr_t)15;
    struct keel_thread_start *start = (struct keel_thread_start *)top - 1;
    start->fn = fn;
    start->arg = arg;
    ret = keel_thread_create(keel_thread_trampoline, start, start);
    if (ret < 0)
        keel_mem_unmap(stack, stack_size);
    return ret;
}

long keel_partition_create(const struct keel_partition_spec *spec)
{
    return HC1(KEEL_HC_PARTITION_CREATE, spec);
}

long keel_partition_kill(long handle)
{
    return HC1(KEEL_HC_PARTITION_KILL, handle);
}

long keel_partition_wait(long handle, long *status)
{
    return HC2(KEEL_HC_PARTITION_WAIT, handle, status);
}

long keel_poweroff(int status)
{
    return HC1(KEEL_HC_POWEROFF, status);
}

long keel_thread_affinity(uint64_t cpu_mask)
{
    return HC1(KEEL_HC_THREAD_AFFINITY, cpu_mask);
}

long keel_cpu_count(void)
{
    return HC1(KEEL_HC_CPU_COUNT, 0);
}

const char *keel_strerror(long err)
{
    switch (err < 0 && err > -4096 ? -err : 0) {
    case KEEL_EPERM:
        return "EPERM";
    case KEEL_ENOENT:
        return "ENOENT";
    case KEEL_ESRCH:
        return "ESRCH";
    case KEEL_EBADF:
        return "EBADF";
    case KEEL_ENOMEM:
        return "ENOMEM";
    case KEEL_EFAULT:
        return "EFAULT";
    case KEEL_EBUSY:
        return "EBUSY";
    case KEEL_EEXIST:
        return "EEXIST";
    case KEEL_ENODEV:
        return "ENODEV";
    case KEEL_EINVAL:
        return "EINVAL";
    case KEEL_EMFILE:
        return "EMFILE";
    case KEEL_ENOSYS:
        return "ENOSYS";
    default:
        return "E?";
    }
}
