/*
 * Partition services and the dispatcher. Every hypercall checks each handle,
 * pointer, length and flag it receives and answers a bad one with a negative
 * KEEL_E* code; a partition can only ever hurt itself. Threads and partitions:
 * hypercall_partition.c; the /dev/kvm-shaped calls: hypercall_vm.c.
 */
#include <keel/hypercall.h>
#include <keel/start.h>

#include "bootinfo.h"
#include "hypercall.h"
#include "hypercall_internal.h"
#include "kstring.h"
#include "layout.h"
#include "poweroff.h"
#include "printk.h"
#include "sched/sched.h"
#include "serial.h"
#include "user_memory.h"

#define CONSOLE_CHUNK 256
#define CONSOLE_MAX   (64 * 1024)
#define MAP_MAX       (1ull << 32) /* 4 GiB per KEEL_HC_MEM_MAP call */
#define MAP_AREA_END  0x400000000000ull

const struct boot_info *boot_info_get(void);

/* Prints one line of a partition's output with its name in front. Control
 * bytes become '?': a partition does not drive the operator's terminal. */
static void print_partition_line(const struct partition *p, char *line, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c >= 0x7f)
            line[i] = '?';
    }
    line[n] = '\0';
    printk(LOG_NOTICE, "%s: %s", p->name, line);
}

/* Writes the partition's bytes to the console, a line per printk (a line
 * longer than CONSOLE_CHUNK is split). */
static int64_t hc_console_write(struct partition *p, uint64_t buf, uint64_t len)
{
    if (len > CONSOLE_MAX)
        return -KEEL_EINVAL;
    char line[CONSOLE_CHUNK + 1], chunk[CONSOLE_CHUNK];
    size_t used = 0;
    for (uint64_t done = 0; done < len;) {
        size_t n = len - done < CONSOLE_CHUNK ? (size_t)(len - done) : CONSOLE_CHUNK;
        if (!copy_from_user(p->root, chunk, buf + done, n))
            return done ? (int64_t)done : -KEEL_EFAULT;
        for (size_t i = 0; i < n; i++) {
            if (chunk[i] == '\n' || used == CONSOLE_CHUNK) {
                print_partition_line(p, line, used);
                used = 0;
                if (chunk[i] == '\n')
                    continue;
            }
            line[used++] = chunk[i];
        }
        done += n;
    }
    if (used)
        print_partition_line(p, line, used);
    return (int64_t)len;
}

static int64_t hc_console_read(struct partition *p, uint64_t buf, uint64_t len)
{
    char c;
    if (len == 0)
        return 0;
    if (!serial_read_byte(&c))
        return 0;
    return copy_to_user(p->root, buf, &c, 1) ? 1 : -KEEL_EFAULT;
}

uint64_t hc_reserve_user_range(struct partition *p, uint64_t size)
{
    uint64_t flags = spin_lock_irqsave(&p->lock);
    uint64_t va = p->next_map;
    bool room = va + size + PAGE_SIZE <= MAP_AREA_END;
    if (room)
        p->next_map = va + size + PAGE_SIZE; /* an unmapped page between mappings */
    spin_unlock_irqrestore(&p->lock, flags);
    return room ? va : 0;
}

static int64_t hc_mem_map(struct partition *p, uint64_t size, uint64_t prot)
{
    if (!size || size > MAP_MAX || (size & (PAGE_SIZE - 1)) ||
        (prot & ~(uint64_t)(KEEL_PROT_READ | KEEL_PROT_WRITE | KEEL_PROT_EXEC)) ||
        !(prot & KEEL_PROT_READ))
        return -KEEL_EINVAL;
    uint64_t va = hc_reserve_user_range(p, size);
    if (!va)
        return -KEEL_ENOMEM;
    int err = user_map_fresh(p->root, va, size, prot & KEEL_PROT_WRITE, prot & KEEL_PROT_EXEC);
    return err < 0 ? err : (int64_t)va;
}

static int64_t hc_mem_unmap(struct partition *p, uint64_t va, uint64_t size)
{
    if (!size || ((va | size) & (PAGE_SIZE - 1)) || va < KEEL_USER_IMAGE_BASE ||
        va >= KEEL_USER_LIMIT || size > KEEL_USER_LIMIT - va)
        return -KEEL_EINVAL;
    if (hypercall_vm_memory_in_use(p, va, size))
        return -KEEL_EBUSY; /* guest RAM of one of its VMs */
    user_unmap(p->root, va, size);
    return 0;
}

static int64_t hc_module_open(struct partition *p, uint64_t name_ptr, uint64_t len)
{
    char name[BOOT_MODULE_NAME_MAX];
    if (!p->is_root)
        return -KEEL_EPERM; /* others get their modules as granted handles */
    if (len == 0 || len >= sizeof(name))
        return -KEEL_EINVAL;
    if (!copy_from_user(p->root, name, name_ptr, len))
        return -KEEL_EFAULT;
    name[len] = '\0';
    const struct boot_module *m = bootinfo_find_module(boot_info_get(), name);
    if (!m)
        return -KEEL_ENOENT;
    return handle_new(p, HANDLE_MODULE, RIGHT_READ, m);
}

static int64_t hc_module_map(struct partition *p, int64_t h, uint64_t out)
{
    const struct handle *e = handle_lookup(p, h, HANDLE_MODULE, RIGHT_READ);
    if (!e)
        return -KEEL_EBADF;
    const struct boot_module *m = e->object;
    struct keel_module_info info = {.size = m->end - m->start};
    kstrlcpy(info.name, m->name, sizeof(info.name));
    if (info.size) {
        uint64_t start = m->start & ~(PAGE_SIZE - 1);
        uint64_t span = ((m->end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) - start;
        uint64_t va = hc_reserve_user_range(p, span);
        int err = va ? user_map_shared_readonly(p->root, va, start, span) : -KEEL_ENOMEM;
        if (err < 0)
            return err;
        info.address = va + (m->start - start);
    }
    return copy_to_user(p->root, out, &info, sizeof(info)) ? 0 : -KEEL_EFAULT;
}

static int64_t hc_exit(struct partition *p, int64_t status)
{
    partition_kill(p, (int)status, 0);
    partition_thread_gone(p);
    thread_exit((int)status);
}

static int64_t hc_poweroff(struct partition *p, int64_t status)
{
    if (!p->is_root)
        return -KEEL_EPERM;
    machine_poweroff((uint8_t)status);
}

int64_t hypercall(struct partition *p, struct trap_frame *f)
{
    if (!p)
        return -KEEL_ENOSYS;
    switch (f->rax) {
    case KEEL_HC_CONSOLE_WRITE:
        return hc_console_write(p, f->rdi, f->rsi);
    case KEEL_HC_CONSOLE_READ:
        return hc_console_read(p, f->rdi, f->rsi);
    case KEEL_HC_EXIT:
        return hc_exit(p, (int64_t)f->rdi);
    case KEEL_HC_MEM_MAP:
        return hc_mem_map(p, f->rdi, f->rsi);
    case KEEL_HC_MEM_UNMAP:
        return hc_mem_unmap(p, f->rdi, f->rsi);
    case KEEL_HC_MODULE_OPEN:
        return hc_module_open(p, f->rdi, f->rsi);
    case KEEL_HC_MODULE_MAP:
        return hc_module_map(p, (int64_t)f->rdi, f->rsi);
    case KEEL_HC_POWEROFF:
        return hc_poweroff(p, (int64_t)f->rdi);
    case KEEL_HC_THREAD_CREATE:
    case KEEL_HC_THREAD_EXIT:
    case KEEL_HC_PARTITION_CREATE:
    case KEEL_HC_PARTITION_KILL:
    case KEEL_HC_PARTITION_WAIT:
    case KEEL_HC_THREAD_AFFINITY:
    case KEEL_HC_CPU_COUNT:
        return hypercall_partition(p, f);
    default:
        return f->rax >= KEEL_HC_CREATE_VM ? hypercall_vm(p, f) : -KEEL_ENOSYS;
    }
}
