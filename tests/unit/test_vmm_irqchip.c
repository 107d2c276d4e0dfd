/* Host unit tests of the VMM's platform interrupt and timer models
 * (guest-loader/): the i8259A pair with its ELCR, the I/O APIC and the i8254
 * PIT with port 0x61, driven the way Linux and SeaBIOS drive them. */
#include "check.h"

#include "../../guest-loader/ioapic.h"
#include "../../guest-loader/pic.h"
#include "../../guest-loader/pit.h"

/* ---- i8259A pair ---- */

#define M_BASE 0x30 /* Linux: ISA_IRQ_VECTOR(0) */
#define S_BASE 0x38

static struct pic_pair pic;

static void pic_out(uint16_t port, uint8_t v)
{
    CHECK(pic_io(&pic, port, false, &v));
}

static uint8_t pic_in(uint16_t port)
{
    uint8_t v = 0x5a;
    CHECK(pic_io(&pic, port, true, &v));
    return v;
}

/* Linux's init_8259A(): ICW1 0x11, base, cascade, ICW4 (0x01, or 0x03 with
 * auto-EOI on the master), every input unmasked after. */
static void pic_setup(uint8_t master_icw4)
{
    pic_init(&pic);
    pic_out(PIC_MASTER_DATA, 0xff);
    pic_out(PIC_SLAVE_DATA, 0xff);
    pic_out(PIC_MASTER_CMD, 0x11);
    pic_out(PIC_MASTER_DATA, M_BASE);
    pic_out(PIC_MASTER_DATA, 1u << PIC_CASCADE_IRQ);
    pic_out(PIC_MASTER_DATA, master_icw4);
    pic_out(PIC_SLAVE_CMD, 0x11);
    pic_out(PIC_SLAVE_DATA, S_BASE);
    pic_out(PIC_SLAVE_DATA, PIC_CASCADE_IRQ);
    pic_out(PIC_SLAVE_DATA, 0x01);
    pic_out(PIC_MASTER_DATA, 0x00);
    pic_out(PIC_SLAVE_DATA, 0x00);
}

static void pulse(unsigned irq)
{
    pic_set_irq(&pic, irq, true);
    pic_set_irq(&pic, irq, false);
}

static uint8_t isr(uint16_t cmd)
{
    pic_out(cmd, 0x0b); /* OCW3: read ISR */
    return pic_in(cmd);
}

static uint8_t irr(uint16_t cmd)
{
    pic_out(cmd, 0x0a); /* OCW3: read IRR */
    return pic_in(cmd);
}

static void pic_reset_state(void)
{
    pic_init(&pic);
    CHECK_EQ(pic_in(PIC_MASTER_DATA), 0xff); /* masked until initialized */
    pic_set_irq(&pic, 1, true);
    CHECK(!pic_output(&pic));
    uint8_t v = 0;
    CHECK(!pic_io(&pic, 0x22, true, &v));
    CHECK(!pic_io(&pic, 0x4d2, false, &v));
}

static void pic_linux_init(void)
{
    pic_setup(0x01);
    CHECK_EQ(pic_in(PIC_MASTER_DATA), 0);
    pulse(1);
    CHECK(pic_output(&pic));
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 1);
    CHECK_EQ(isr(PIC_MASTER_CMD), 0x02);
    CHECK(!pic_output(&pic));
    pic_out(PIC_MASTER_CMD, 0x20); /* non-specific EOI */
    CHECK_EQ(isr(PIC_MASTER_CMD), 0);
    /* ICW1 again clears masks, ISR and latched edges. */
    pic_out(PIC_MASTER_DATA, 0xff);
    pulse(3);
    pic_out(PIC_MASTER_CMD, 0x11);
    CHECK_EQ(pic_in(PIC_MASTER_DATA), 0); /* IMR cleared; ICW2 expected */
    pic_out(PIC_MASTER_DATA, M_BASE);
    pic_out(PIC_MASTER_DATA, 0x04);
    pic_out(PIC_MASTER_DATA, 0x01);
    CHECK_EQ(pic_in(PIC_MASTER_DATA), 0);
    CHECK_EQ(irr(PIC_MASTER_CMD), 0);
}

static void pic_masking(void)
{
    pic_setup(0x01);
    pic_out(PIC_MASTER_DATA, 0x10);
    pulse(4);
    CHECK(!pic_output(&pic));
    CHECK_EQ(irr(PIC_MASTER_CMD), 0x10); /* requested, masked */
    pic_out(PIC_MASTER_DATA, 0x00);
    CHECK(pic_output(&pic));
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 4);
    /* Masking the cascade input hides the slave. */
    pic_out(PIC_MASTER_DATA, 0x04);
    pulse(12);
    CHECK(!pic_output(&pic));
    pic_out(PIC_MASTER_DATA, 0x00);
    CHECK(pic_output(&pic));
}

static void pic_edge_level(void)
{
    pic_setup(0x01);
    pic_out(PIC_ELCR_MASTER, 0xff);
    pic_out(PIC_ELCR_SLAVE, 0xff);
    CHECK_EQ(pic_in(PIC_ELCR_MASTER), 0xf8); /* IRQ 0, 1, 2 always edge */
    CHECK_EQ(pic_in(PIC_ELCR_SLAVE), 0xde);  /* IRQ 8, 13 too */
    pic_out(PIC_ELCR_MASTER, 0x20);          /* IRQ 5 level */
    pic_out(PIC_ELCR_SLAVE, 0x00);
    /* Edge: latched by the rising edge, one request per edge. */
    pic_set_irq(&pic, 3, true);
    pic_set_irq(&pic, 3, false);
    CHECK_EQ(irr(PIC_MASTER_CMD), 0x08);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 3);
    pic_out(PIC_MASTER_CMD, 0x63); /* specific EOI 3 */
    pic_set_irq(&pic, 3, true);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 3);
    pic_out(PIC_MASTER_CMD, 0x20);
    pic_set_irq(&pic, 3, true); /* still high: no new edge */
    CHECK(!pic_output(&pic));
    pic_set_irq(&pic, 3, false);
    /* Level: IRR follows the line; asserted at EOI, it requests again. */
    pic_set_irq(&pic, 5, true);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 5);
    CHECK(!pic_output(&pic));
    pic_out(PIC_MASTER_CMD, 0x20);
    CHECK(pic_output(&pic));
    pic_set_irq(&pic, 5, false);
    CHECK(!pic_output(&pic));
    CHECK_EQ(irr(PIC_MASTER_CMD), 0);
}

static void pic_priority_nesting(void)
{
    pic_setup(0x01);
    pulse(3);
    pulse(1);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 1);
    CHECK(!pic_output(&pic)); /* 3 waits behind 1 in service */
    pulse(0);
    CHECK(pic_output(&pic)); /* 0 outranks 1: nests */
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 0);
    CHECK_EQ(isr(PIC_MASTER_CMD), 0x03);
    pic_out(PIC_MASTER_CMD, 0x20); /* non-specific: the highest, 0 */
    CHECK_EQ(isr(PIC_MASTER_CMD), 0x02);
    CHECK(!pic_output(&pic));
    pic_out(PIC_MASTER_CMD, 0x61); /* specific EOI 1 */
    CHECK(pic_output(&pic));
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 3);
    /* Special mask mode: masking 3 in service lets 5 through. */
    pulse(5);
    CHECK(!pic_output(&pic));
    pic_out(PIC_MASTER_DATA, 0x08);
    pic_out(PIC_MASTER_CMD, 0x68); /* OCW3: set special mask mode */
    CHECK(pic_output(&pic));
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 5);
    pic_out(PIC_MASTER_CMD, 0x20); /* non-specific EOI skips masked 3 */
    CHECK_EQ(isr(PIC_MASTER_CMD), 0x08);
    pic_out(PIC_MASTER_CMD, 0x48); /* reset special mask mode */
    pic_out(PIC_MASTER_CMD, 0x63);
    CHECK_EQ(isr(PIC_MASTER_CMD), 0);
}

static void pic_auto_eoi(void)
{
    pic_setup(0x03);
    pulse(4);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 4);
    CHECK_EQ(isr(PIC_MASTER_CMD), 0);
    pulse(6);
    CHECK(pic_output(&pic)); /* nothing in service blocks it */
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 6);
    /* Rotate in auto-EOI mode: the served level becomes the lowest. */
    pic_out(PIC_MASTER_CMD, 0x80);
    pulse(0);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 0);
    pulse(0);
    pulse(1);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 1);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 0);
    pic_out(PIC_MASTER_CMD, 0x00); /* clear rotate in auto-EOI */
    pulse(0);
    pulse(1);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 1); /* 0 is still the lowest */
}

static void pic_rotation(void)
{
    pic_setup(0x01);
    pulse(0);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 0);
    pic_out(PIC_MASTER_CMD, 0xa0); /* rotate on non-specific EOI: 0 lowest */
    pulse(0);
    pulse(7);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 7); /* 1 ranks first, then ..., 7, 0 */
    pic_out(PIC_MASTER_CMD, 0xe7);               /* rotate on specific EOI 7: 7 lowest */
    CHECK_EQ(isr(PIC_MASTER_CMD), 0);
    pulse(7);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 0);
    pic_out(PIC_MASTER_CMD, 0x20);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 7);
    pic_out(PIC_MASTER_CMD, 0x20);
    pic_out(PIC_MASTER_CMD, 0xc3); /* set priority: 3 lowest, 4 highest */
    pulse(3);
    pulse(4);
    pulse(5);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 4);
    pic_out(PIC_MASTER_CMD, 0x20);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 5);
    pic_out(PIC_MASTER_CMD, 0x20);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 3);
}

static void pic_ocw3_poll(void)
{
    pic_setup(0x01);
    pulse(6);
    pulse(2); /* the cascade input: not an ISA input */
    CHECK_EQ(irr(PIC_MASTER_CMD), 0x40);
    CHECK_EQ(pic_in(PIC_MASTER_CMD), 0x40); /* the IRR selection stays */
    CHECK_EQ(isr(PIC_MASTER_CMD), 0);
    pic_out(PIC_MASTER_CMD, 0x0c); /* poll */
    CHECK_EQ(pic_in(PIC_MASTER_CMD), 0x86);
    CHECK_EQ(isr(PIC_MASTER_CMD), 0x40);
    pic_out(PIC_MASTER_CMD, 0x0c);
    CHECK_EQ(pic_in(PIC_MASTER_DATA), 0x00); /* any read answers a poll: none */
    CHECK_EQ(pic_in(PIC_MASTER_DATA), 0x00); /* then IMR again */
    CHECK_EQ(pic_in(PIC_MASTER_CMD), 0x40);  /* and ISR, as selected */
    /* Polling the slave after the master says IR2. */
    pic_out(PIC_MASTER_CMD, 0x20);
    pulse(11);
    pic_out(PIC_MASTER_CMD, 0x0c);
    CHECK_EQ(pic_in(PIC_MASTER_CMD), 0x82);
    pic_out(PIC_SLAVE_CMD, 0x0c);
    CHECK_EQ(pic_in(PIC_SLAVE_CMD), 0x83);
    CHECK_EQ(isr(PIC_SLAVE_CMD), 0x08);
}

static void pic_cascade(void)
{
    pic_setup(0x01);
    pulse(12);
    pulse(9);
    CHECK(pic_output(&pic));
    CHECK_EQ(irr(PIC_MASTER_CMD), 0x04);
    CHECK_EQ(pic_acknowledge(&pic), S_BASE + 1);
    CHECK_EQ(isr(PIC_MASTER_CMD), 0x04);
    CHECK_EQ(isr(PIC_SLAVE_CMD), 0x02);
    CHECK(!pic_output(&pic));
    pulse(1);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 1); /* outranks the cascade */
    pic_out(PIC_MASTER_CMD, 0x20);
    pic_out(PIC_SLAVE_CMD, 0x20); /* Linux: slave first, then master */
    pic_out(PIC_MASTER_CMD, 0x20);
    CHECK(pic_output(&pic));
    CHECK_EQ(pic_acknowledge(&pic), S_BASE + 4);
    pic_out(PIC_SLAVE_CMD, 0x20);
    pic_out(PIC_MASTER_CMD, 0x20);
    CHECK(!pic_output(&pic));
    /* A masked slave input leaves the master's IR2 idle. */
    pic_out(PIC_SLAVE_DATA, 0x01);
    pulse(8);
    CHECK(!pic_output(&pic));
    CHECK_EQ(irr(PIC_MASTER_CMD), 0);
}

static void pic_spurious(void)
{
    pic_setup(0x01);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 7); /* nothing: IR7 */
    CHECK_EQ(isr(PIC_MASTER_CMD), 0);
    pulse(1);
    (void)pic_acknowledge(&pic);
    pulse(4);
    CHECK_EQ(pic_acknowledge(&pic), M_BASE + 7); /* 4 is blocked by 1 */
    CHECK_EQ(isr(PIC_MASTER_CMD), 0x02);
    CHECK_EQ(irr(PIC_MASTER_CMD), 0x10);
}

/* ---- I/O APIC ---- */

static struct ioapic ioa;
static struct {
    unsigned count;
    uint64_t address;
    uint32_t data;
} msi;

/* The ioapic_msi_fn shape: ctx cannot be const. */
// cppcheck-suppress constParameter
static void msi_record(void *ctx, uint64_t address, uint32_t data)
{
    CHECK(ctx == &msi);
    msi.count++;
    msi.address = address;
    msi.data = data;
}

static void mmio_write32(uint64_t off, uint32_t v)
{
    uint8_t b[4];
    memcpy(b, &v, 4);
    ioapic_mmio(&ioa, off, 4, true, b);
}

static uint32_t mmio_read32(uint64_t off)
{
    uint8_t b[4];
    uint32_t v;
    ioapic_mmio(&ioa, off, 4, false, b);
    memcpy(&v, b, 4);
    return v;
}

static uint32_t reg_read(uint8_t index)
{
    mmio_write32(IOAPIC_IOREGSEL, index);
    return mmio_read32(IOAPIC_IOWIN);
}

static void reg_write(uint8_t index, uint32_t v)
{
    mmio_write32(IOAPIC_IOREGSEL, index);
    mmio_write32(IOAPIC_IOWIN, v);
}

/* Linux's order: high dword, then low. */
static void rte_write(unsigned pin, uint32_t low, uint8_t dest)
{
    reg_write(IOAPIC_REG_RTE + 2 * pin + 1, (uint32_t)dest << 24);
    reg_write(IOAPIC_REG_RTE + 2 * pin, low);
}

static void ioapic_setup(void)
{
    memset(&msi, 0, sizeof(msi));
    ioapic_init(&ioa, 2, msi_record, &msi);
}

static void ioapic_id_version(void)
{
    ioapic_setup();
    CHECK_EQ(reg_read(IOAPIC_REG_ID), 0x02000000);
    CHECK_EQ(reg_read(IOAPIC_REG_VER), 0x00170020);
    CHECK_EQ(reg_read(IOAPIC_REG_ARB), 0x02000000);
    reg_write(IOAPIC_REG_ID, 0xf5ffffff); /* 4 bits kept */
    CHECK_EQ(reg_read(IOAPIC_REG_ID), 0x05000000);
    CHECK_EQ(reg_read(IOAPIC_REG_ARB), 0x05000000);
    reg_write(IOAPIC_REG_VER, 0);
    CHECK_EQ(reg_read(IOAPIC_REG_VER), 0x00170020);
    CHECK_EQ(mmio_read32(IOAPIC_IOREGSEL), IOAPIC_REG_VER);
    CHECK_EQ(reg_read(0x03), 0);
    CHECK_EQ(reg_read(0x40), 0); /* past entry 23 */
}

static void ioapic_rte_bits(void)
{
    ioapic_setup();
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        CHECK_EQ(reg_read(IOAPIC_REG_RTE + 2 * pin), 0x10000); /* masked */
    reg_write(IOAPIC_REG_RTE + 2 * 7, 0xffffffff);
    reg_write(IOAPIC_REG_RTE + 2 * 7 + 1, 0xffffffff);
    CHECK_EQ(reg_read(IOAPIC_REG_RTE + 2 * 7), 0x1afff); /* no 12, 14, 31:17 */
    CHECK_EQ(reg_read(IOAPIC_REG_RTE + 2 * 7 + 1), 0xff000000);
    CHECK_EQ(msi.count, 0);
}

static void ioapic_edge(void)
{
    ioapic_setup();
    rte_write(5, 0x30, 1); /* fixed, physical, edge, high, unmasked */
    ioapic_set_irq(&ioa, 5, true);
    CHECK_EQ(msi.count, 1);
    CHECK_EQ(msi.address, 0xfee01000);
    CHECK_EQ(msi.data, 0x4030);
    ioapic_set_irq(&ioa, 5, true); /* no edge */
    ioapic_set_irq(&ioa, 5, false);
    CHECK_EQ(msi.count, 1);
    ioapic_set_irq(&ioa, 5, true);
    CHECK_EQ(msi.count, 2);
    ioapic_set_irq(&ioa, 24, true); /* no such pin */
    CHECK_EQ(msi.count, 2);
}

static void ioapic_masked(void)
{
    ioapic_setup();
    rte_write(3, 0x10031, 0);
    ioapic_set_irq(&ioa, 3, true);
    CHECK_EQ(msi.count, 0);
    rte_write(3, 0x31, 0); /* the edge while masked is lost */
    CHECK_EQ(msi.count, 0);
    ioapic_set_irq(&ioa, 3, false);
    ioapic_set_irq(&ioa, 3, true);
    CHECK_EQ(msi.count, 1);
}

static void ioapic_level_eoi(void)
{
    ioapic_setup();
    rte_write(9, 0x8041, 0); /* level, active high */
    ioapic_set_irq(&ioa, 9, true);
    CHECK_EQ(msi.count, 1);
    CHECK_EQ(msi.data, 0xc041);
    CHECK(reg_read(IOAPIC_REG_RTE + 18) & IOAPIC_RTE_REMOTE_IRR);
    ioapic_set_irq(&ioa, 9, false);
    ioapic_set_irq(&ioa, 9, true);
    CHECK_EQ(msi.count, 1); /* Remote IRR holds it */
    ioapic_eoi(&ioa, 0x42); /* another vector */
    CHECK_EQ(msi.count, 1);
    ioapic_eoi(&ioa, 0x41); /* still asserted: again */
    CHECK_EQ(msi.count, 2);
    ioapic_set_irq(&ioa, 9, false);
    mmio_write32(IOAPIC_EOI, 0x41); /* the EOI register */
    CHECK_EQ(msi.count, 2);
    CHECK(!(reg_read(IOAPIC_REG_RTE + 18) & IOAPIC_RTE_REMOTE_IRR));
    /* Switching to edge clears a stuck Remote IRR. */
    ioapic_set_irq(&ioa, 9, true);
    CHECK_EQ(msi.count, 3);
    rte_write(9, 0x10041, 0);
    rte_write(9, 0x41, 0);
    CHECK(!(reg_read(IOAPIC_REG_RTE + 18) & IOAPIC_RTE_REMOTE_IRR));
}

static void ioapic_unmask_level(void)
{
    ioapic_setup();
    ioapic_set_irq(&ioa, 11, true);
    rte_write(11, 0x18051, 3);
    CHECK_EQ(msi.count, 0);
    rte_write(11, 0x8051, 3); /* unmasked with the pin asserted */
    CHECK_EQ(msi.count, 1);
    CHECK_EQ(msi.address, 0xfee03000);
    rte_write(11, 0x8051, 3); /* Remote IRR set: no second one */
    CHECK_EQ(msi.count, 1);
}

static void ioapic_active_low(void)
{
    ioapic_setup();
    ioapic_set_irq(&ioa, 16, true); /* idle: electrically high */
    rte_write(16, 0xa061, 0);       /* level, active low */
    CHECK_EQ(msi.count, 0);
    ioapic_set_irq(&ioa, 16, false);
    CHECK_EQ(msi.count, 1);
    CHECK_EQ(msi.data, 0xc061);
    ioapic_set_irq(&ioa, 16, true);
    ioapic_eoi(&ioa, 0x61);
    CHECK_EQ(msi.count, 1);
    /* Edge, active low: the falling edge delivers. */
    rte_write(17, 0x2062, 0);
    ioapic_set_irq(&ioa, 17, true);
    CHECK_EQ(msi.count, 1);
    ioapic_set_irq(&ioa, 17, false);
    CHECK_EQ(msi.count, 2);
    CHECK_EQ(msi.data, 0x4062);
}

static void ioapic_msi_format(void)
{
    static const struct {
        uint32_t low;
        uint8_t dest;
        uint64_t address;
        uint32_t data;
    } cases[] = {
        {0x0130, 0x0f, 0xfee0f000, 0x4130}, /* lowest priority */
        {0x0830, 0x01, 0xfee01004, 0x4030}, /* logical */
        {0x0200, 0xff, 0xfeeff000, 0x4200}, /* SMI */
        {0x0400, 0x00, 0xfee00000, 0x4400}, /* NMI */
        {0x0500, 0x00, 0xfee00000, 0x4500}, /* INIT */
        {0x0700, 0x00, 0xfee00000, 0x4700}, /* ExtINT */
        {0x8930, 0x03, 0xfee03004, 0xc130}, /* level, logical, lowest */
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ioapic_setup();
        rte_write(1, cases[i].low, cases[i].dest);
        ioapic_set_irq(&ioa, 1, true);
        CHECK_EQ(msi.count, 1);
        CHECK_EQ(msi.address, cases[i].address);
        CHECK_EQ(msi.data, cases[i].data);
    }
}

static void ioapic_mmio_sizes(void)
{
    ioapic_setup();
    mmio_write32(IOAPIC_IOREGSEL, 0x101); /* 8 bits kept */
    uint8_t b[8];
    ioapic_mmio(&ioa, IOAPIC_IOREGSEL, 1, false, b);
    CHECK_EQ(b[0], 0x01);
    memset(b, 0xee, sizeof(b));
    ioapic_mmio(&ioa, IOAPIC_IOWIN, 8, false, b); /* VER, then nothing */
    CHECK_EQ(b[0], 0x20);
    CHECK_EQ(b[2], 0x17);
    CHECK_EQ(b[4], 0);
    ioapic_mmio(&ioa, IOAPIC_IOWIN + 2, 2, false, b); /* unaligned: the bytes */
    CHECK_EQ(b[0], 0x17);
    CHECK_EQ(b[1], 0);
    b[0] = 0x00;
    ioapic_mmio(&ioa, IOAPIC_IOREGSEL, 1, true, b); /* not 4 bytes: ignored */
    CHECK_EQ(mmio_read32(IOAPIC_IOREGSEL), 0x01);
    ioapic_mmio(&ioa, IOAPIC_IOREGSEL + 2, 4, true, b); /* unaligned: ignored */
    CHECK_EQ(mmio_read32(IOAPIC_IOREGSEL), 0x01);
    CHECK_EQ(mmio_read32(IOAPIC_EOI), 0);
    CHECK_EQ(mmio_read32(0x20), 0);
}

/* ---- i8254 PIT ---- */

#define T0    1000000ull /* an arbitrary time of the first access */
#define NEVER UINT64_MAX

static struct pit pit;
static struct {
    unsigned rises, calls;
    bool level;
} irq0;

/* The irq_line_fn shape: ctx cannot be const. */
// cppcheck-suppress constParameter
static void irq_record(void *ctx, unsigned irq, bool level)
{
    CHECK(ctx == &irq0);
    CHECK_EQ(irq, 0);
    irq0.calls++;
    if (level && !irq0.level)
        irq0.rises++;
    irq0.level = level;
}

/* The first instant at which ticks clocks have elapsed (an independent
 * 128-bit computation of what the model does in 64 bits). */
static uint64_t ns_at(uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

static uint64_t clocks_at(uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * PIT_HZ / 1000000000u);
}

static void pit_out(uint16_t port, uint8_t v, uint64_t now)
{
    CHECK(pit_io(&pit, port, false, &v, now));
}

static uint8_t pit_in(uint16_t port, uint64_t now)
{
    uint8_t v = 0x5a;
    CHECK(pit_io(&pit, port, true, &v, now));
    return v;
}

static void pit_setup(void)
{
    memset(&irq0, 0, sizeof(irq0));
    pit_init(&pit, irq_record, &irq0);
}

static void pit_program(unsigned ch, uint8_t cw, uint16_t count, uint64_t now)
{
    pit_out(PIT_CONTROL, cw, now);
    pit_out(PIT_COUNTER0 + ch, count & 0xff, now);
    pit_out(PIT_COUNTER0 + ch, count >> 8, now);
}

/* Counter latch command, then LSB and MSB (times must not go back: the
 * model takes an earlier time as the latest it saw). */
static uint16_t pit_latched(unsigned ch, uint64_t now)
{
    pit_out(PIT_CONTROL, (uint8_t)(ch << 6), now);
    uint8_t lo = pit_in(PIT_COUNTER0 + ch, now);
    return (uint16_t)(lo | pit_in(PIT_COUNTER0 + ch, now) << 8);
}

static void pit_reset_state(void)
{
    pit_setup();
    CHECK_EQ(pit_next_event_ns(&pit, 0), NEVER);
    pit_advance(&pit, 1000000000000ull);
    CHECK_EQ(irq0.calls, 0);
    uint8_t v = 0;
    CHECK(!pit_io(&pit, 0x44, true, &v, 0));
    CHECK(!pit_io(&pit, 0x60, true, &v, 0));
    CHECK_EQ(pit_in(PIT_CONTROL, 0), 0xff);
}

/* Read-back of counter 0's status. */
static uint8_t status0(uint64_t now)
{
    pit_out(PIT_CONTROL, 0xe2, now);
    return pit_in(PIT_COUNTER0, now);
}

static void pit_mode2_periodic(void)
{
    pit_setup();
    pit_program(0, 0x34, 1193, T0); /* Linux's periodic tick, HZ = 1000 */
    CHECK_EQ(pit_next_event_ns(&pit, T0), T0 + ns_at(1193));
    pit_advance(&pit, T0 + ns_at(1193) - 1);
    CHECK_EQ(irq0.calls, 0);
    pit_advance(&pit, T0 + ns_at(1193));
    CHECK_EQ(irq0.rises, 1);
    CHECK_EQ(irq0.calls, 2); /* a rising edge: up, then down */
    CHECK(!irq0.level);
    CHECK_EQ(pit_next_event_ns(&pit, T0), T0 + ns_at(2 * 1193));
    pit_advance(&pit, T0); /* time does not go back */
    CHECK_EQ(irq0.calls, 2);
    CHECK_EQ(pit_next_event_ns(&pit, T0), T0 + ns_at(2 * 1193));
    pit_advance(&pit, T0 + ns_at(10 * 1193) + 5); /* 9 periods: one edge */
    CHECK_EQ(irq0.rises, 2);
    CHECK_EQ(pit_next_event_ns(&pit, 0), T0 + ns_at(11 * 1193));
    uint64_t t = T0 + ns_at(11 * 1193 + 100);
    CHECK_EQ(pit_latched(0, t), 1193 - 100);
    CHECK_EQ(irq0.rises, 3); /* the I/O raised the due edge first */
    /* Output low for the clock at count 1 only. */
    CHECK_EQ(status0(T0 + ns_at(12 * 1193 - 1)), 0x34);
    CHECK_EQ(status0(T0 + ns_at(12 * 1193)), 0xb4);
    CHECK_EQ(irq0.rises, 4);
}

static void pit_mode3_square(void)
{
    pit_setup();
    pit_program(0, 0x36, 0, T0); /* 65536: the BIOS's 18.2 Hz */
    CHECK_EQ(pit_next_event_ns(&pit, T0), T0 + ns_at(65536));
    CHECK_EQ(pit_latched(0, T0 + ns_at(10)), 65536 - 20);
    CHECK_EQ(status0(T0 + ns_at(32767)) & 0x80, 0x80); /* first half high */
    CHECK_EQ(status0(T0 + ns_at(32768)) & 0x80, 0);    /* second half low */
    CHECK_EQ(pit_latched(0, T0 + ns_at(32768 + 3)), 65536 - 6);
    pit_advance(&pit, T0 + ns_at(65536));
    CHECK_EQ(irq0.rises, 1);
    CHECK_EQ(pit_next_event_ns(&pit, 0), T0 + ns_at(2 * 65536));
    /* An odd count: high for (N + 1) / 2, low for (N - 1) / 2. */
    uint64_t t = T0 + ns_at(70000);
    pit_program(0, 0x36, 5, t);
    CHECK_EQ(pit_latched(0, t), 5);
    CHECK_EQ(pit_latched(0, t + ns_at(1)), 4);
    CHECK_EQ(status0(t + ns_at(2)) & 0x80, 0x80);
    CHECK_EQ(pit_latched(0, t + ns_at(2)), 2);
    CHECK_EQ(status0(t + ns_at(3)) & 0x80, 0);
    CHECK_EQ(pit_latched(0, t + ns_at(3)), 5);
    CHECK_EQ(pit_latched(0, t + ns_at(4)), 2);
    CHECK_EQ(pit_latched(0, t + ns_at(5)), 5);
}

static void pit_mode0_oneshot(void)
{
    pit_setup();
    pit_program(0, 0x30, 100, T0);
    CHECK_EQ(pit_next_event_ns(&pit, T0), T0 + ns_at(100));
    pit_advance(&pit, T0 + ns_at(100) - 1);
    CHECK(!irq0.level);
    pit_advance(&pit, T0 + ns_at(100));
    CHECK(irq0.level);
    CHECK_EQ(pit_next_event_ns(&pit, T0), NEVER);
    CHECK_EQ(pit_latched(0, T0 + ns_at(101)), 0xffff); /* counts on past 0 */
    CHECK_EQ(status0(T0 + ns_at(102)), 0xb0);
    pit_advance(&pit, T0 + ns_at(150)); /* stays high, raised once */
    CHECK_EQ(irq0.calls, 1);
    /* Writing a count: the first byte stops it and drops the output ... */
    uint64_t t = T0 + ns_at(200);
    pit_out(PIT_COUNTER0, 50, t);
    CHECK(!irq0.level);
    CHECK_EQ(status0(t) & 0xc0, 0x40); /* output low, null count */
    pit_out(PIT_COUNTER0, 0, t);       /* ... the second restarts it */
    CHECK_EQ(pit_next_event_ns(&pit, t), t + ns_at(50));
    pit_advance(&pit, t + ns_at(50));
    CHECK_EQ(irq0.rises, 2);
    /* A control word drops it too. */
    pit_out(PIT_CONTROL, 0x34, t + ns_at(60));
    CHECK(!irq0.level);
    CHECK_EQ(irq0.calls, 4);
    CHECK_EQ(pit_next_event_ns(&pit, 0), NEVER);
}

static void pit_mode4_strobe(void)
{
    pit_setup();
    pit_program(0, 0x38, 1000, T0); /* Linux's one-shot clock event */
    CHECK_EQ(pit_next_event_ns(&pit, T0), T0 + ns_at(1001));
    pit_advance(&pit, T0 + ns_at(1001));
    CHECK_EQ(irq0.rises, 1);
    CHECK(!irq0.level);
    CHECK_EQ(pit_next_event_ns(&pit, 0), NEVER);
    uint64_t t = T0 + ns_at(2000);
    pit_out(PIT_COUNTER0, 10, t); /* rearmed by a new count */
    pit_out(PIT_COUNTER0, 0, t);
    CHECK_EQ(pit_next_event_ns(&pit, 0), t + ns_at(11));
}

static void pit_latch_readback(void)
{
    pit_setup();
    pit_out(PIT_CONTROL, 0x34, T0);
    CHECK_EQ(status0(T0), 0xf4); /* output high, null count: no count yet */
    pit_program(0, 0x34, 1000, T0);
    uint64_t t = T0 + ns_at(300);
    pit_out(PIT_CONTROL, 0x00, t);              /* latch */
    pit_out(PIT_CONTROL, 0x00, t + ns_at(100)); /* ignored: not read yet */
    CHECK_EQ(pit_in(PIT_COUNTER0, t + ns_at(200)), 700 & 0xff);
    CHECK_EQ(pit_in(PIT_COUNTER0, t + ns_at(300)), 700 >> 8);
    CHECK_EQ(pit_in(PIT_COUNTER0, t + ns_at(400)), 300 & 0xff); /* live again */
    CHECK_EQ(pit_in(PIT_COUNTER0, t + ns_at(400)), 300 >> 8);
    /* Read-back of counts and status of counters 0 and 2: status first. */
    uint64_t t2 = t + ns_at(500);
    pit_program(2, 0xb0, 0x1234, t2);
    pit_out(PIT_CONTROL, 0xca, t2); /* 11 0 0 1 0 1 0 */
    CHECK_EQ(pit_in(PIT_COUNTER0, t2), 0xb4);
    CHECK_EQ(pit_in(PIT_COUNTER0, t2), 200 & 0xff);
    CHECK_EQ(pit_in(PIT_COUNTER0, t2), 200 >> 8);
    CHECK_EQ(pit_in(PIT_COUNTER2, t2), 0x30); /* gate low: held */
    CHECK_EQ(pit_in(PIT_COUNTER2, t2), 0x34);
    CHECK_EQ(pit_in(PIT_COUNTER2, t2), 0x12);
    pit_out(PIT_CONTROL, 0xd2, t2);            /* count only */
    pit_out(PIT_CONTROL, 0xe2, t2 + ns_at(5)); /* then status only */
    CHECK_EQ(pit_in(PIT_COUNTER0, t2 + ns_at(6)), 0xb4);
    CHECK_EQ(pit_in(PIT_COUNTER0, t2 + ns_at(6)), 200 & 0xff);
    CHECK_EQ(pit_in(PIT_COUNTER0, t2 + ns_at(6)), 200 >> 8);
}

static void pit_access_modes(void)
{
    pit_setup();
    pit_out(PIT_CONTROL, 0x10, T0); /* counter 0, LSB only, mode 0 */
    pit_out(PIT_COUNTER0, 0x50, T0);
    CHECK_EQ(pit_next_event_ns(&pit, T0), T0 + ns_at(0x50));
    CHECK_EQ(pit_in(PIT_COUNTER0, T0 + ns_at(0x10)), 0x40);
    CHECK_EQ(pit_in(PIT_COUNTER0, T0 + ns_at(0x11)), 0x3f);
    uint64_t t = T0 + ns_at(0x20);
    pit_out(PIT_CONTROL, 0x20, t); /* MSB only */
    pit_out(PIT_COUNTER0, 0x12, t);
    CHECK_EQ(pit_next_event_ns(&pit, t), t + ns_at(0x1200));
    CHECK_EQ(pit_in(PIT_COUNTER0, t + ns_at(0x101)), 0x10);
    /* LSB then MSB: reads and writes keep separate byte toggles. */
    t += ns_at(0x200);
    pit_program(1, 0x74, 0x2000, t);
    CHECK_EQ(pit_in(PIT_COUNTER0 + 1, t + ns_at(0x10)), 0xf0);
    pit_out(PIT_COUNTER0 + 1, 0x00, t + ns_at(0x10)); /* a new count's LSB */
    CHECK_EQ(pit_in(PIT_COUNTER0 + 1, t + ns_at(0x10)), 0x1f);
    pit_out(PIT_COUNTER0 + 1, 0x01, t + ns_at(0x10)); /* MSB: 0x100 from the period's end */
    uint64_t r = t + ns_at(0x2000);
    CHECK_EQ(pit_latched(1, r - 1), 1);
    CHECK_EQ(pit_latched(1, r), 0x100);
    CHECK_EQ(pit_latched(1, r + ns_at(0x80)), 0x80);
    CHECK_EQ(pit_latched(1, r + ns_at(0x100)), 0x100);
    /* BCD: 1000 is written 0x1000. */
    t = r + ns_at(0x1000);
    pit_program(0, 0x31, 0x1000, t);
    CHECK_EQ(pit_next_event_ns(&pit, t), t + ns_at(1000));
    CHECK_EQ(pit_latched(0, t + ns_at(10)), 0x0990);
    t += ns_at(20);
    pit_program(0, 0x35, 0x0000, t); /* mode 2, BCD 0 = 10000 */
    CHECK_EQ(pit_next_event_ns(&pit, t), t + ns_at(10000));
    CHECK_EQ(pit_latched(0, t + ns_at(1)), 0x9999);
}

/* Linux's pit_calibrate_tsc(): gate on, speaker off, counter 2 in mode 0
 * with 50 ms of clocks, then wait for 0x61 bit 5. */
static void pit_calibration(void)
{
    pit_setup();
    uint8_t v = pit_in(PIT_PORT_61, T0);
    CHECK_EQ(v & 0xef, 0); /* gate off, output low (mode 0, no count) */
    pit_out(PIT_PORT_61, (uint8_t)((v & ~0x02) | 0x01), T0);
    const uint16_t latch = PIT_HZ / 20;
    pit_program(2, 0xb0, latch, T0);
    CHECK_EQ(pit_in(PIT_PORT_61, T0 + ns_at(latch) - 1) & 0x20, 0);
    CHECK_EQ(pit_in(PIT_PORT_61, T0 + ns_at(latch)) & 0x2f, 0x21);
    CHECK_EQ(pit_next_event_ns(&pit, T0), NEVER); /* counter 2 has no IRQ */
    CHECK_EQ(irq0.calls, 0);
    /* quick_pit_calibrate(): count 0xffff, the MSB falls every 256 clocks. */
    uint64_t t = T0 + ns_at(latch);
    pit_program(2, 0xb0, 0xffff, t);
    for (unsigned i = 1; i < 20; i++) {
        CHECK_EQ(pit_in(PIT_COUNTER2, t + ns_at(256 * i)), 0xff);
        CHECK_EQ(pit_in(PIT_COUNTER2, t + ns_at(256 * i)), 0xff - i);
    }
    /* A low gate holds mode 0's count; high again resumes it. */
    uint64_t g = t + ns_at(0x2000);
    pit_out(PIT_PORT_61, 0x00, g);
    CHECK_EQ(pit_latched(2, g + 5000000), 0xffff - 0x2000);
    pit_out(PIT_PORT_61, 0x01, g + 5000000);
    CHECK_EQ(pit_latched(2, g + 5000000 + ns_at(0x10)), 0xffff - 0x2010);
    /* Port 0x61 keeps bits 3:0; bit 4 toggles with time (15.085 us). */
    const uint64_t tr = 15085ull * 10000;
    pit_out(PIT_PORT_61, 0xff, tr);
    CHECK_EQ(pit_in(PIT_PORT_61, tr), 0x2f); /* terminal count passed */
    CHECK_EQ(pit_in(PIT_PORT_61, tr + 15085), 0x3f);
}

/* Counter 2's other modes through the gate. */
static void pit_gate_modes(void)
{
    pit_setup();
    pit_program(2, 0xb2, 100, T0); /* mode 1: waits for a trigger */
    CHECK_EQ(pit_in(PIT_PORT_61, T0 + ns_at(200)) & 0x20, 0x20);
    uint64_t t = T0 + ns_at(300);
    pit_out(PIT_PORT_61, 0x01, t);
    CHECK_EQ(pit_in(PIT_PORT_61, t) & 0x20, 0);
    CHECK_EQ(pit_in(PIT_PORT_61, t + ns_at(100) - 1) & 0x20, 0);
    CHECK_EQ(pit_in(PIT_PORT_61, t + ns_at(100)) & 0x20, 0x20);
    /* Mode 2: a low gate forces the output high and stops; rising reloads. */
    t += ns_at(200);
    pit_program(2, 0xb4, 10, t);
    CHECK_EQ(pit_in(PIT_PORT_61, t + ns_at(9)) & 0x20, 0); /* count 1 */
    pit_out(PIT_PORT_61, 0x00, t + ns_at(9));
    CHECK_EQ(pit_in(PIT_PORT_61, t + ns_at(9)) & 0x20, 0x20);
    CHECK_EQ(pit_latched(2, t + ns_at(50)), 1);
    uint64_t g = t + ns_at(60);
    pit_out(PIT_PORT_61, 0x01, g);
    CHECK_EQ(pit_latched(2, g), 10);
    CHECK_EQ(pit_latched(2, g + ns_at(3)), 7);
    /* Mode 5: a strobe count clocks after each trigger. */
    t = g + ns_at(100);
    pit_program(2, 0xba, 4, t);
    pit_out(PIT_PORT_61, 0x00, t);
    pit_out(PIT_PORT_61, 0x01, t);
    CHECK_EQ(pit_in(PIT_PORT_61, t + ns_at(3)) & 0x20, 0x20);
    CHECK_EQ(pit_in(PIT_PORT_61, t + ns_at(4)) & 0x20, 0);
    CHECK_EQ(pit_in(PIT_PORT_61, t + ns_at(5)) & 0x20, 0x20);
}

static void pit_reprogram(void)
{
    pit_setup();
    pit_program(0, 0x34, 1000, T0);
    uint64_t t = T0 + ns_at(400);
    pit_out(PIT_COUNTER0, 500 & 0xff, t); /* a new count, no control word */
    pit_out(PIT_COUNTER0, 500 >> 8, t);
    CHECK_EQ(pit_next_event_ns(&pit, t), T0 + ns_at(1000)); /* the period ends first */
    CHECK_EQ(status0(t) & 0x40, 0x40);                      /* null count until then */
    uint64_t r = T0 + ns_at(1000);
    pit_advance(&pit, r);
    CHECK_EQ(irq0.rises, 1);
    CHECK_EQ(pit_next_event_ns(&pit, 0), r + ns_at(500));
    CHECK_EQ(status0(r) & 0x40, 0);
    CHECK_EQ(pit_latched(0, r + ns_at(100)), 400);
    /* A control word restarts at once: mode 2 to mode 3, another count. */
    t = r + ns_at(200);
    pit_program(0, 0x36, 2000, t);
    CHECK_EQ(pit_next_event_ns(&pit, 0), t + ns_at(2000));
    /* Mode 0 mid-count: a new count restarts the countdown. */
    t += ns_at(5000);
    pit_program(0, 0x30, 1000, t);
    pit_program(0, 0x30, 300, t + ns_at(900));
    pit_advance(&pit, t + ns_at(1000));
    CHECK(!irq0.level);
    CHECK_EQ(pit_next_event_ns(&pit, 0), t + ns_at(900) + ns_at(300));
}

/* Days of elapsed time: counts and events stay exact. */
static void pit_long_running(void)
{
    pit_setup();
    const uint64_t day = 86400ull * 1000000000u;
    pit_program(0, 0x34, 11932, 0);
    uint64_t now = 5 * day + 123456789;
    uint64_t d = clocks_at(now);
    pit_advance(&pit, now);
    CHECK_EQ(irq0.rises, 1);
    CHECK_EQ(pit_next_event_ns(&pit, now), ns_at((d / 11932 + 1) * 11932));
    CHECK_EQ(pit_latched(0, now), 11932 - d % 11932);
    CHECK_EQ(pit_latched(0, 400 * day), 11932 - clocks_at(400 * day) % 11932);
}

int main(void)
{
    check_begin("vmm_irqchip");
    RUN(pic_reset_state);
    RUN(pic_linux_init);
    RUN(pic_masking);
    RUN(pic_edge_level);
    RUN(pic_priority_nesting);
    RUN(pic_auto_eoi);
    RUN(pic_rotation);
    RUN(pic_ocw3_poll);
    RUN(pic_cascade);
    RUN(pic_spurious);
    RUN(ioapic_id_version);
    RUN(ioapic_rte_bits);
    RUN(ioapic_edge);
    RUN(ioapic_masked);
    RUN(ioapic_level_eoi);
    RUN(ioapic_unmask_level);
    RUN(ioapic_active_low);
    RUN(ioapic_msi_format);
    RUN(ioapic_mmio_sizes);
    RUN(pit_reset_state);
    RUN(pit_mode2_periodic);
    RUN(pit_mode3_square);
    RUN(pit_mode0_oneshot);
    RUN(pit_mode4_strobe);
    RUN(pit_latch_readback);
    RUN(pit_access_modes);
    RUN(pit_calibration);
    RUN(pit_gate_modes);
    RUN(pit_reprogram);
    RUN(pit_long_running);
    return check_finish();
}
