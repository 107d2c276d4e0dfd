/*
 * The guest's devices (docs/vmm.md, "Devices"): COM1 at 0x3f8, the exit
 * port at 0xf4, and nothing else: an unclaimed port reads all ones and
 * ignores writes, unbacked MMIO likewise, as on a PC with nothing there.
 * The first accesses to nothing are reported, then they are only counted.
 */
#include "libc.h"
#include "vmm.h"
#include "vmm_status.h"

#define ALL_ONES_32 0xffffffffu

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? ALL_ONES_32 : (1u << (8 * size)) - 1;
}

/* COM1, byte by byte: a wider access covers the next registers; bytes
 * beyond the UART read all ones. */
static void uart_io(struct vmm *v, uint16_t port, unsigned size, bool in, uint32_t *value)
{
    uint32_t result = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned reg = (unsigned)port + i - UART_COM1_BASE;
        uint8_t byte = (uint8_t)(*value >> (8 * i));
        if (in)
            result |= (uint32_t)(reg < UART_REGISTERS ? uart_read(&v->com1, reg) : 0xff) << (8 * i);
        else if (reg < UART_REGISTERS)
            uart_write(&v->com1, reg, byte);
    }
    if (in)
        *value = result;
}

static void exit_port(struct vmm *v, bool in, uint32_t *value)
{
    if (in) {
        *value = ALL_ONES_32;
        return;
    }
    unsigned status = *value & 0xff;
    uart_flush(&v->com1);
    vmm_say("guest wrote %u to the exit port 0x%x: the VM ends with status %u", *value,
            VMM_EXIT_PORT, status);
    v->done = true;
    v->status = VMM_STATUS_GUEST_EXIT + (int)status;
}

#ifdef VMM_TEST_HOOKS
static void crash_on_purpose(uint32_t value)
{
    if (value != VMM_TEST_CRASH_VALUE)
        return;
    vmm_say("test hook: crashing on purpose (a write through a null pointer)");
    volatile uintptr_t address = 0;
    *(volatile uint32_t *)address = value; // cppcheck-suppress nullPointer
}
#endif

static void unclaimed_port(struct vmm *v, uint16_t port, unsigned size, bool in, uint32_t *value)
{
    if (in)
        *value = size_mask(size);
    if (v->ports_reported < VMM_REPORT_LIMIT)
        vmm_say("unclaimed port 0x%x: %u-byte %s (%s)", port, size, in ? "read" : "write",
                in ? "all ones" : "ignored");
    else if (v->ports_reported == VMM_REPORT_LIMIT)
        vmm_say("further accesses to unclaimed ports not reported");
    v->ports_reported++;
}

void dev_port_io(struct vmm *v, uint16_t port, unsigned size, bool in, uint32_t *value)
{
    if (port >= UART_COM1_BASE && port < UART_COM1_BASE + UART_REGISTERS) {
        uart_io(v, port, size, in, value);
        return;
    }
    if (port == VMM_EXIT_PORT) {
        exit_port(v, in, value);
        return;
    }
#ifdef VMM_TEST_HOOKS
    if (port == VMM_TEST_CRASH_PORT && !in)
        crash_on_purpose(*value & size_mask(size));
#endif
    unclaimed_port(v, port, size, in, value);
}

void dev_mmio(struct vmm *v, uint64_t gpa, unsigned len, bool write, uint8_t *data)
{
    if (!write)
        memset(data, 0xff, len);
    if (v->mmio_accesses < VMM_REPORT_LIMIT)
        vmm_say("unbacked MMIO: %u-byte %s at 0x%llx (%s)", len, write ? "write" : "read",
                (unsigned long long)gpa, write ? "ignored" : "all ones");
    else if (v->mmio_accesses == VMM_REPORT_LIMIT)
        vmm_say("further unbacked MMIO accesses not reported");
    v->mmio_accesses++;
}
