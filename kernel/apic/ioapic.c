/* IOAPIC set-up: IOREGSEL at offset 0, IOWIN at 0x10; registers 0 (ID),
 * 1 (version, max redirection entry in bits 16-23), 0x10 + 2n (entry n). */
#include <stdint.h>

#include "acpi.h"
#include "apic/ioapic.h"
#include "memory.h"
#include "printk.h"

#define IOREGSEL         0x00
#define IOWIN            0x10
#define IOAPIC_REG_VER   0x01
#define IOAPIC_REG_REDIR 0x10
#define REDIR_MASKED     (1u << 16)

static uint32_t ioapic_read(volatile uint32_t *base, uint32_t reg)
{
    base[IOREGSEL / 4] = reg;
    return base[IOWIN / 4];
}

static void ioapic_write(volatile uint32_t *base, uint32_t reg, uint32_t value)
{
    base[IOREGSEL / 4] = reg;
    base[IOWIN / 4] = value;
}

void ioapic_init(void)
{
    for (unsigned i = 0; i < acpi.ioapic_count; i++) {
        const struct acpi_ioapic *io = &acpi.ioapics[i];
        volatile uint32_t *base = ioremap(io->address, 4096);
        if (!base) {
            pr_warn("apic: cannot map IOAPIC %u at 0x%x; its interrupts stay unused", io->id,
                    io->address);
            continue;
        }
        uint32_t version = ioapic_read(base, IOAPIC_REG_VER);
        unsigned entries = ((version >> 16) & 0xff) + 1;
        for (unsigned n = 0; n < entries; n++) {
            ioapic_write(base, IOAPIC_REG_REDIR + 2 * n, REDIR_MASKED);
            ioapic_write(base, IOAPIC_REG_REDIR + 2 * n + 1, 0);
        }
        pr_info("apic: IOAPIC %u at 0x%x, GSIs %u-%u, all masked", io->id, io->address,
                io->gsi_base, io->gsi_base + entries - 1);
    }
}
