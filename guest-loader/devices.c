/*
 * The board's port and MMIO decoders (board.h; docs/vmm.md, "The
 * platform"), called with the board's lock held. The 8-bit devices (PIC,
 * PIT and port 0x61, RTC, COM1, the POST code port) take a wider access
 * byte by byte at consecutive ports, as the ISA bus splits it; the ACPI PM
 * registers and fw_cfg take their accesses whole. A port no device claims
 * reads all ones and ignores writes, unbacked MMIO likewise, as on a PC with
 * nothing there; the first accesses to nothing are reported, then only
 * counted.
 */
#include "board.h"
#include "libc.h"
#include "vmm.h"
#include "vmm_status.h"

#define ALL_ONES_32 0xffffffffu
#define NOTHING     0xff /* what an ISA read of nothing returns */

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? ALL_ONES_32 : (1u << (8 * size)) - 1;
}

/* One byte at port for the 8-bit devices; false when none has the port. */
static bool byte_io(struct board *b, uint16_t port, bool in, uint8_t *value, uint64_t now_ns)
{
    if (port >= UART_COM1_BASE && port < UART_COM1_BASE + UART_REGISTERS) {
        if (in)
            *value = uart_read(&b->com1, port - UART_COM1_BASE);
        else
            uart_write(&b->com1, port - UART_COM1_BASE, *value);
        return true;
    }
    if (port == BOARD_POST_PORT) {
        if (in)
            *value = NOTHING;
        return true;
    }
    if (pic_io(&b->pic, port, in, value)) {
        b->irq_moved = true; /* a mask or an EOI may raise the PIC's output */
        return true;
    }
    if (pit_io(&b->pit, port, in, value, now_ns) || rtc_io(&b->rtc, port, in, value, now_ns)) {
        b->timers_touched = b->irq_moved = true;
        return true;
    }
    return false;
}

/* An access whose first port is an 8-bit device's: byte i goes to port +
 * i; bytes at ports of no device read as nothing. False when the first port
 * is no 8-bit device's (nothing done). */
static bool split_io(struct board *b, uint16_t port, unsigned size, bool in, uint32_t *value,
                     uint64_t now_ns)
{
    uint32_t result = 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t byte = (uint8_t)(*value >> (8 * i));
        if (!byte_io(b, (uint16_t)(port + i), in, &byte, now_ns)) {
            if (i == 0)
                return false;
            byte = NOTHING;
        }
        result |= (uint32_t)byte << (8 * i);
    }
    if (in)
        *value = result;
    return true;
}

static void exit_port(struct board *b, bool in, uint32_t *value)
{
    if (in) {
        *value = ALL_ONES_32;
        return;
    }
    unsigned status = *value & 0xff;
    uart_flush(&b->com1);
    vmm_say("guest wrote %u to the exit port 0x%x: the VM ends with status %u", *value,
            BOARD_EXIT_PORT, status);
    b->end(b->ctx, VMM_STATUS_GUEST_EXIT + (int)status);
}

/* SLP_EN with the S5 sleep type: the VM ends as an exit with value 0 does. */
static void power_off(struct board *b)
{
    uart_flush(&b->com1);
    vmm_say("guest powered off (ACPI S5)");
    b->end(b->ctx, VMM_STATUS_GUEST_EXIT);
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

static void unclaimed_port(struct board *b, uint16_t port, unsigned size, bool in, uint32_t *value)
{
    if (in)
        *value = size_mask(size);
    if (b->ports_reported < BOARD_REPORTS)
        vmm_say("unclaimed port 0x%x: %u-byte %s (%s)", port, size, in ? "read" : "write",
                in ? "all ones" : "ignored");
    else if (b->ports_reported == BOARD_REPORTS)
        vmm_say("further accesses to unclaimed ports not reported");
    b->ports_reported++;
}

void dev_port_io(struct board *b, uint16_t port, unsigned size, bool in, uint32_t *value,
                 uint64_t now_ns)
{
    bool off = false;
    if (acpi_pm_io(&b->pm, port, size, in, value, now_ns, &off)) {
        if (!in)
            b->timers_touched = true; /* PM1 enables, SCI_EN: the SCI's timing */
        if (off)
            power_off(b);
        return;
    }
    if (fw_cfg_io(&b->fw_cfg, port, size, in, value))
        return;
    if (port == BOARD_EXIT_PORT) {
        exit_port(b, in, value);
        return;
    }
#ifdef VMM_TEST_HOOKS
    if (port == VMM_TEST_CRASH_PORT && !in)
        crash_on_purpose(*value & size_mask(size));
#endif
    if (!split_io(b, port, size, in, value, now_ns))
        unclaimed_port(b, port, size, in, value);
}

void dev_mmio(struct board *b, uint64_t gpa, unsigned len, bool write, uint8_t *data)
{
    if (gpa >= IOAPIC_BASE && gpa - IOAPIC_BASE < IOAPIC_SIZE) {
        ioapic_mmio(&b->ioapic, gpa - IOAPIC_BASE, len, write, data);
        return; /* an unmasked line delivers through send_msi at once */
    }
    if (!write)
        memset(data, 0xff, len);
    if (b->mmio_accesses < BOARD_REPORTS)
        vmm_say("unbacked MMIO: %u-byte %s at 0x%llx (%s)", len, write ? "write" : "read",
                (unsigned long long)gpa, write ? "ignored" : "all ones");
    else if (b->mmio_accesses == BOARD_REPORTS)
        vmm_say("further unbacked MMIO accesses not reported");
    b->mmio_accesses++;
}
