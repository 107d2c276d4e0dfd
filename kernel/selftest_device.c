/* Self-test device: ports 0xe9 and 0x510-0x51a, MMIO at 0xfeb00000. */
#include "selftest_device.h"
#include "kstring.h"
#include "printk.h"

#define PORT_DEBUGCON         0x0e9
#define PORT_CHECKPOINT       0x510
#define PORT_RESULT           0x511
#define PORT_ID               0x512
#define PORT_STRING_OUT       0x513
#define PORT_STRING_SUM       0x514
#define PORT_STRING_IN        0x515
#define PORT_INJECT_EXC       0x516
#define PORT_RAISE_IRQ        0x517
#define PORT_BENCH_FIRST      0x518
#define PORT_BENCH_LAST       0x51a
#define DEVICE_ID             0x4b45454cu /* "KEEL" */
#define MMIO_BASE             0xfeb00000ull
#define MMIO_SIZE             0x1000ull
#define MMIO_ID               0x4d4d494full /* "MMIO" */
#define MMIO_SCRATCH_OFF      0x100ull
#define FIRST_EXTERNAL_VECTOR 32

static uint32_t unit_mask(uint8_t size)
{
    return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static void debug_char(struct selftest_device *d, char c)
{
    if (c == '\n' || d->line_len + 1 >= SELFTEST_LINE_MAX) {
        d->line[d->line_len] = '\0';
        pr_info("selftest: %s: %s", d->vm_name, d->line);
        d->line_len = 0;
        if (c == '\n')
            return;
    }
    if (c >= 0x20 && c < 0x7f)
        d->line[d->line_len++] = c;
}

static bool port_write(struct selftest_device *d, struct vcpu *v, uint16_t port, uint8_t size,
                       uint32_t value)
{
    switch (port) {
    case PORT_DEBUGCON:
        debug_char(d, (char)value);
        return true;
    case PORT_CHECKPOINT:
        d->checkpoint = value;
        return true;
    case PORT_RESULT:
        d->has_result = true;
        d->result = value;
        vcpu_request_stop(v, value);
        return true;
    case PORT_STRING_OUT:
        d->string_sum += value & unit_mask(size);
        d->string_count++;
        return true;
    case PORT_STRING_IN:
        d->string_in_index = 0;
        return true;
    case PORT_INJECT_EXC:
        if ((value & 0xff) < FIRST_EXTERNAL_VECTOR)
            vcpu_queue_exception(v, (uint8_t)value, false, 0);
        return true;
    case PORT_RAISE_IRQ:
        if ((value & 0xff) >= FIRST_EXTERNAL_VECTOR)
            vcpu_raise_interrupt(v, (uint8_t)value);
        return true;
    default:
        if (port >= PORT_BENCH_FIRST && port <= PORT_BENCH_LAST) {
            d->bench[port - PORT_BENCH_FIRST] = value;
            return true;
        }
        return false;
    }
}

static bool port_read(struct selftest_device *d, uint16_t port, uint8_t size, uint32_t *value)
{
    switch (port) {
    case PORT_ID:
        *value = DEVICE_ID & unit_mask(size);
        return true;
    case PORT_STRING_SUM:
        *value = (d->string_count << 16) | (d->string_sum & 0xffff);
        d->string_sum = d->string_count = 0;
        return true;
    case PORT_STRING_IN:
        *value = (d->string_in_index++ * 3 + 1) & unit_mask(size);
        return true;
    default:
        return false;
    }
}

static bool device_pio(void *ctx, struct vcpu *v, uint16_t port, uint8_t size, bool in,
                       uint32_t *value)
{
    struct selftest_device *d = ctx;
    return in ? port_read(d, port, size, value) : port_write(d, v, port, size, *value);
}

static bool device_mmio(void *ctx, struct vcpu *v, uint64_t gpa, uint8_t size, bool write,
                        uint64_t *value)
{
    (void)v;
    struct selftest_device *d = ctx;
    if (gpa < MMIO_BASE || gpa - MMIO_BASE >= MMIO_SIZE)
        return false;
    uint64_t off = gpa - MMIO_BASE;
    bool scratch = off >= MMIO_SCRATCH_OFF && off + size <= MMIO_SCRATCH_OFF + SELFTEST_SCRATCH;
    if (write) {
        if (scratch)
            memcpy(d->scratch + (off - MMIO_SCRATCH_OFF), value, size);
        return true;
    }
    *value = 0;
    if (off == 0)
        *value = MMIO_ID;
    else if (scratch)
        memcpy(value, d->scratch + (off - MMIO_SCRATCH_OFF), size);
    return true;
}

struct vm_device_ops selftest_device_ops(struct selftest_device *dev)
{
    return (struct vm_device_ops){.pio = device_pio, .mmio = device_mmio, .ctx = dev};
}
