/*
 * The I/O APIC (ioapic.h): the 82093AA's registers with the ICH's version
 * 0x20 EOI register, delivering each interrupt as the MSI a PCI device would
 * send (Intel SDM Vol. 3A 10.11.1 address, 10.11.2 data).
 */
#include "ioapic.h"
#include "kstring.h"

#define VERSION        0x20 /* ICH I/O APIC: has the EOI register */
#define VER_MAX_RTE_SH 16   /* VER bits 23:16: the highest entry's number */
#define ID_SHIFT       24   /* ID and ARB: bits 27:24 */
#define ID_MASK        0x0f
#define REGSEL_MASK    0xff
#define REG_BYTES      4
#define BYTE_BITS      8
#define DWORD_BITS     32
#define LOW_DWORD      0xffffffffull
/* The RTE bits software writes; delivery status and Remote IRR are read-only
 * and 55:17 reserved. */
#define RTE_WRITABLE                                                                               \
    (IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELMODE | IOAPIC_RTE_LOGICAL | IOAPIC_RTE_ACTIVE_LOW |         \
     IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED | IOAPIC_RTE_DEST)
/* SDM 10.11.1: address bits 31:20 0xfee, 19:12 destination ID, 2 destination
 * mode (1 = logical). 10.11.2: data bits 7:0 vector, 10:8 delivery mode,
 * 14 level (1 = assert), 15 trigger mode (1 = level). */
#define MSI_ADDR_BASE    0xfee00000u
#define MSI_ADDR_DEST_SH 12
#define MSI_ADDR_LOGICAL (1u << 2)
#define MSI_DATA_DM_SH   8
#define MSI_DATA_ASSERT  (1u << 14)
#define MSI_DATA_LEVEL   (1u << 15)

void ioapic_init(struct ioapic *io, uint8_t id, ioapic_msi_fn send, void *ctx)
{
    memset(io, 0, sizeof(*io));
    io->id = id & ID_MASK;
    io->send = send;
    io->ctx = ctx;
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        io->rte[i] = IOAPIC_RTE_MASKED;
}

static bool pin_active(const struct ioapic *io, unsigned pin)
{
    bool level = (io->pins >> pin) & 1;
    return level != !!(io->rte[pin] & IOAPIC_RTE_ACTIVE_LOW);
}

static void deliver(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->rte[pin];
    uint32_t dest = (uint32_t)((e & IOAPIC_RTE_DEST) >> IOAPIC_RTE_DEST_SHIFT);
    uint32_t address = MSI_ADDR_BASE | (dest << MSI_ADDR_DEST_SH);
    if (e & IOAPIC_RTE_LOGICAL)
        address |= MSI_ADDR_LOGICAL;
    uint32_t mode = (uint32_t)((e & IOAPIC_RTE_DELMODE) >> IOAPIC_RTE_DELMODE_SH);
    uint32_t data = (uint32_t)(e & IOAPIC_RTE_VECTOR) | (mode << MSI_DATA_DM_SH) | MSI_DATA_ASSERT;
    if (e & IOAPIC_RTE_LEVEL) {
        data |= MSI_DATA_LEVEL;
        io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
    }
    io->send(io->ctx, address, data);
}

/* A level entry delivers while its pin is active and Remote IRR is clear. */
static void check_level(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->rte[pin];
    if ((e & IOAPIC_RTE_LEVEL) && !(e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) &&
        pin_active(io, pin))
        deliver(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned gsi, bool level)
{
    if (gsi >= IOAPIC_PINS)
        return;
    bool was_active = pin_active(io, gsi);
    io->pins = level ? io->pins | (1u << gsi) : io->pins & ~(1u << gsi);
    uint64_t e = io->rte[gsi];
    if (e & IOAPIC_RTE_LEVEL)
        check_level(io, gsi);
    else if (!(e & IOAPIC_RTE_MASKED) && !was_active && pin_active(io, gsi))
        deliver(io, gsi);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->rte[pin];
        if (!(e & IOAPIC_RTE_LEVEL) || !(e & IOAPIC_RTE_REMOTE_IRR) ||
            (e & IOAPIC_RTE_VECTOR) != vector)
            continue;
        io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
        check_level(io, pin);
    }
}

static uint32_t read_reg(const struct ioapic *io, uint8_t index)
{
    switch (index) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB:
        return (uint32_t)io->id << ID_SHIFT;
    case IOAPIC_REG_VER:
        return VERSION | ((IOAPIC_PINS - 1) << VER_MAX_RTE_SH);
    default:
        break;
    }
    if (index < IOAPIC_REG_RTE || index >= IOAPIC_REG_RTE + 2 * IOAPIC_PINS)
        return 0;
    unsigned n = (index - IOAPIC_REG_RTE) / 2;
    return (uint32_t)(io->rte[n] >> (index & 1 ? DWORD_BITS : 0));
}

static void write_rte(struct ioapic *io, unsigned n, bool high, uint32_t v)
{
    uint64_t old = io->rte[n], e;
    if (high)
        e = (old & LOW_DWORD) | ((uint64_t)v << DWORD_BITS);
    else
        e = (old & ~LOW_DWORD) | v;
    e = (e & RTE_WRITABLE) | (old & IOAPIC_RTE_REMOTE_IRR);
    if (!(e & IOAPIC_RTE_LEVEL))
        e &= ~IOAPIC_RTE_REMOTE_IRR;
    io->rte[n] = e;
    check_level(io, n); /* unmasked, made level or active-low with the pin active */
}

static void write_reg(struct ioapic *io, uint8_t index, uint32_t v)
{
    if (index == IOAPIC_REG_ID) {
        io->id = (v >> ID_SHIFT) & ID_MASK; /* ARB reads the same (82093AA 3.2.3) */
        return;
    }
    if (index < IOAPIC_REG_RTE || index >= IOAPIC_REG_RTE + 2 * IOAPIC_PINS)
        return; /* VER, ARB: read-only; others: none */
    write_rte(io, (index - IOAPIC_REG_RTE) / 2, index & 1, v);
}

/* The 32-bit register whose bytes include offset (0 where none is). */
static uint32_t mmio_dword(const struct ioapic *io, uint64_t offset)
{
    switch (offset & ~(uint64_t)(REG_BYTES - 1)) {
    case IOAPIC_IOREGSEL:
        return io->regsel;
    case IOAPIC_IOWIN:
        return read_reg(io, io->regsel);
    default:
        return 0;
    }
}

void ioapic_mmio(struct ioapic *io, uint64_t offset, unsigned len, bool write, uint8_t *data)
{
    if (!write) {
        for (unsigned i = 0; i < len; i++) {
            uint64_t at = offset + i;
            data[i] = (uint8_t)(mmio_dword(io, at) >> (BYTE_BITS * (at % REG_BYTES)));
        }
        return;
    }
    if (len != REG_BYTES || offset % REG_BYTES != 0)
        return;
    uint32_t v;
    memcpy(&v, data, sizeof(v));
    switch (offset) {
    case IOAPIC_IOREGSEL:
        io->regsel = v & REGSEL_MASK;
        break;
    case IOAPIC_IOWIN:
        write_reg(io, io->regsel, v);
        break;
    case IOAPIC_EOI:
        ioapic_eoi(io, (uint8_t)v);
        break;
    default:
        break;
    }
}
