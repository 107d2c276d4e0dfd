/*
 * libFuzzer target: the VMM's platform devices (guest-loader/: pic, ioapic,
 * pit, rtc, acpi_pm, fw_cfg) as a guest sees them, wired as board.c wires
 * them: the PIT, RTC and ACPI PM raise ISA IRQs 0, 8 and 9, which go to the
 * PIC and to the IOAPIC (IRQ 0 on GSI 2); the IOAPIC's MSIs are checked and
 * counted.
 *
 * Input: a header, then operations until the input ends (a missing operand
 * byte reads 0).
 *   header  IOAPIC ID; u40 RTC unix seconds; u32 RAM size in 64 KiB units;
 *           u16 CPUs; the sizes of fw_cfg's two files (a byte each); the
 *           number of extra fw_cfg files (a byte, mod 15).
 *   op      a byte (mod OP_COUNT, see the enum), then its operands.
 *
 * Invariants: no crash, leak or undefined behaviour (ASan, UBSan); each port
 * handler claims exactly its own ports and leaves the value alone
 * otherwise; every interrupt report changes its line (no repeated edge),
 * and the PIT's, RTC's and PM's lines agree with their state; the PIC's
 * ELCR holds only its settable bits, level inputs are in IRR while high,
 * and an INTA gives base + 0..7 of the master, base + 0..7 of the slave
 * (cascade) or the master's spurious IR7 when nothing was pending; the
 * IOAPIC's MSIs are to 0xfee00000-0xfeefffff with only the destination and
 * logical bits, data with only vector, delivery mode, assert and trigger,
 * and come exactly when an unmasked entry sees its edge or its level with
 * Remote IRR clear; Remote IRR only on level entries; an unmasked level
 * entry with an active pin has Remote IRR; IOAPIC reads return what its
 * registers hold; the PM registers keep only their defined bits, SCI_EN
 * stays set and S5 powers off exactly when written; fw_cfg's data port
 * returns the bytes of the selected item (compared with a model built here);
 * every next_event_ns is UINT64_MAX or at most one period ahead (PIT:
 * 65537 / 1193182 s; RTC: 500 ms periodic, 1 s update, 1 day alarm; PM
 * timer: 2^31 / 3579545 s), never UINT64_MAX while a periodic source is
 * enabled, and is kept: advancing to it raises the interrupt.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../guest-loader/acpi_pm.h"
#include "../../guest-loader/fw_cfg.h"
#include "../../guest-loader/ioapic.h"
#include "../../guest-loader/pic.h"
#include "../../guest-loader/pit.h"
#include "../../guest-loader/rtc.h"
#include "fuzz_check.h"
#include "fuzz_input.h"

#define NEVER        UINT64_MAX
#define NOW_MAX      (1ull << 60) /* 36 years */
#define NS_PER_MS    1000000ull
#define NS_PER_S     1000000000ull
#define SLACK_NS     NS_PER_MS
#define PIT_BOUND    (65537ull * NS_PER_S / PIT_HZ + 1 + SLACK_NS) /* mode 4: n + 1 clocks */
#define RTC_PERIODIC (NS_PER_S / 2 + SLACK_NS)                     /* rate 15: 16384 / 32768 Hz */
#define RTC_UPDATE   (NS_PER_S + SLACK_NS)
#define RTC_ALARM    (86401ull * NS_PER_S + SLACK_NS)
#define PM_BOUND     ((1ull << 31) * NS_PER_S / ACPI_PM_TIMER_HZ + 1 + SLACK_NS)
#define GSI_PIT      2
#define MSI_ADDR_OK  0x000ff004ull /* destination 19:12, logical 2 */
#define MSI_DATA_OK  0xc7ffu       /* vector, delivery mode, assert, trigger */
#define MSI_ASSERT   0x4000u
#define MSI_LEVEL    0x8000u
#define RTE_RESERVED 0x00fffffffffe0000ull /* bits 55:17 */
#define IOAPIC_VER   0x00170020u           /* 24 entries, version 0x20 */
#define EXTRA_DATA   16

enum {
    OP_PORT8,       /* sel (bit 7: u16 port, else a table entry), flags, value: see op_port8 */
    OP_PM,          /* sel (bit 7: u16 port, else 0x600 + bits 3:0), flags, u32 */
    OP_FW_CFG,      /* flags (bit 7: u16 port; else bit 0 data port), u32 */
    OP_IOAPIC_MMIO, /* flags (bit 0 write, bits 3:1 length - 1), u16 offset, u64 data */
    OP_IOAPIC_REG,  /* index, flags (bit 0 write), u32: IOREGSEL, then IOWIN */
    OP_PIC_IRQ,     /* irq (any), level */
    OP_IOAPIC_IRQ,  /* gsi (any), level */
    OP_ISA_IRQ,     /* irq, level: to both, as board.c does */
    OP_IOAPIC_EOI,  /* vector */
    OP_ADVANCE,     /* shift, u16: now += u16 << (shift % 44) */
    OP_NEXT,        /* time to the earliest next event, as the VMM's run loop */
    OP_INTA,        /* flags (bit 0: only when pic_output says so) */
    OP_COUNT
};

/* flags of OP_PM and OP_FW_CFG: bit 1 in, bits 3:2 size (1, 2, 4, 4). */
static unsigned size_of(uint8_t flags)
{
    static const unsigned sizes[4] = {1, 2, 4, 4};
    return sizes[(flags >> 2) & 3];
}

struct board;

/* A device's interrupt output: the ISA IRQ it must use. */
struct line_ctx {
    struct board *b;
    unsigned irq;
};

struct board {
    uint64_t now;
    struct pic_pair pic;
    struct ioapic ioapic;
    struct pit pit;
    struct rtc rtc;
    struct acpi_pm pm;
    struct fw_cfg fw;
    struct line_ctx pit_line, rtc_line, pm_line;
    bool line[16];      /* the devices' IRQ lines as last reported */
    unsigned rises[16]; /* rising reports */
    unsigned msis;
    uint32_t msi_data;
    uint8_t port61; /* the bits of port 0x61 a read gives back */
    /* fw_cfg as the guest must see it */
    uint64_t ram;
    uint16_t cpus;
    uint16_t selector;
    uint32_t offset;
    unsigned files;
    uint8_t *file_data[2];
    uint32_t file_size[2];
    uint8_t dir[FW_CFG_DIR_SIZE];
};

static const uint8_t extra_data[EXTRA_DATA] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* ---- wiring ---- */

static void send_msi(void *ctx, uint64_t address, uint32_t data)
{
    struct board *b = ctx;
    REQUIRE(address >= 0xfee00000ull && address <= 0xfeefffffull);
    REQUIRE((address & ~MSI_ADDR_OK) == 0xfee00000ull);
    REQUIRE((data & ~MSI_DATA_OK) == 0 && (data & MSI_ASSERT));
    b->msis++;
    b->msi_data = data;
}

/* The MSIs sent since the count was since: send_msi counts them in the
 * board the IOAPIC's ctx names. */
static unsigned msis_since(const struct ioapic *io, unsigned since)
{
    return ((const struct board *)io->ctx)->msis - since;
}

static void isa_irq(struct board *b, unsigned irq, bool level)
{
    pic_set_irq(&b->pic, irq, level);
    ioapic_set_irq(&b->ioapic, irq == 0 ? GSI_PIT : irq, level);
}

static void device_irq(void *ctx, unsigned irq, bool level)
{
    struct line_ctx *l = ctx;
    struct board *b = l->b;
    REQUIRE(irq == l->irq);
    REQUIRE(level != b->line[irq]); /* a report is a change */
    b->line[irq] = level;
    if (level)
        b->rises[irq]++;
    isa_irq(b, irq, level);
}

/* ---- fw_cfg's model ---- */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> 8 * (n - 1 - i));
}

/* Adds a file to the device and to the model's directory. */
static void add_file(struct board *b, const char *name, const uint8_t *data, uint32_t size)
{
    int sel = fw_cfg_add_file(&b->fw, name, data, size);
    REQUIRE(sel == (int)(FW_CFG_FILE_FIRST + b->files));
    uint8_t *e = b->dir + 4 + FW_CFG_DIR_ENTRY * b->files;
    put_be(e, size, 4);
    put_be(e + 4, (uint64_t)sel, 2);
    memcpy(e + 8, name, strlen(name));
    b->files++;
    put_be(b->dir, b->files, 4);
}

/* The byte at b->offset of the selected item, or 0 past its end (and then
 * the offset stays). */
static uint8_t fw_next(struct board *b)
{
    uint8_t small[8];
    const uint8_t *data = small;
    uint32_t size = 0;
    unsigned key = b->selector & ~FW_CFG_WRITE_CHANNEL;
    if (b->selector & FW_CFG_ARCH_LOCAL)
        key = 0xffff;
    switch (key) {
    case FW_CFG_SIGNATURE:
        memcpy(small, "QEMU", 4);
        size = 4;
        break;
    case FW_CFG_ID:
        put_le(small, FW_CFG_ID_TRADITIONAL, 4);
        size = 4;
        break;
    case FW_CFG_RAM_SIZE:
        put_le(small, b->ram, 8);
        size = 8;
        break;
    case FW_CFG_NB_CPUS:
    case FW_CFG_MAX_CPUS:
        put_le(small, b->cpus, 2);
        size = 2;
        break;
    case FW_CFG_FILE_DIR:
        data = b->dir;
        size = 4 + FW_CFG_DIR_ENTRY * b->files;
        break;
    default:
        if (key >= FW_CFG_FILE_FIRST && key < FW_CFG_FILE_FIRST + b->files) {
            unsigned n = key - FW_CFG_FILE_FIRST;
            data = n < 2 ? b->file_data[n] : extra_data;
            size = n < 2 ? b->file_size[n] : n - 2;
        }
        break;
    }
    if (b->offset >= size)
        return 0;
    return data[b->offset++];
}

/* ---- invariants ---- */

static bool pin_active(const struct ioapic *io, unsigned pin)
{
    return ((io->pins >> pin) & 1) != !!(io->rte[pin] & IOAPIC_RTE_ACTIVE_LOW);
}

static void check_pic(const struct pic_pair *p)
{
    static const uint8_t elcr_mask[2] = {0xf8, 0xde};
    for (unsigned i = 0; i < 2; i++) {
        const struct pic_chip *c = &p->chip[i];
        REQUIRE((c->base & 7) == 0 && c->lowest < 8);
        REQUIRE(c->init_step == 0 || (c->init_step >= 2 && c->init_step <= 4));
        REQUIRE(c->elcr_mask == elcr_mask[i] && (c->elcr & ~c->elcr_mask) == 0);
        REQUIRE((c->irr & c->elcr) == (c->lines & c->elcr)); /* level: IRR follows the line */
    }
}

static void check_ioapic(const struct ioapic *io)
{
    REQUIRE(io->id <= 15);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->rte[pin];
        REQUIRE((e & RTE_RESERVED) == 0 && !(e & IOAPIC_RTE_DELIVS));
        REQUIRE(!(e & IOAPIC_RTE_REMOTE_IRR) || (e & IOAPIC_RTE_LEVEL));
        if ((e & IOAPIC_RTE_LEVEL) && !(e & IOAPIC_RTE_MASKED) && pin_active(io, pin))
            REQUIRE(e & IOAPIC_RTE_REMOTE_IRR); /* it was delivered */
    }
}

static void check_pit(const struct board *b)
{
    const struct pit *p = &b->pit;
    for (unsigned i = 0; i < PIT_CHANNELS; i++) {
        const struct pit_channel *c = &p->ch[i];
        REQUIRE(c->mode <= 7 && c->access >= 1 && c->access <= 3);
        REQUIRE(c->count >= 1 && c->count <= 0x10000 && c->n >= 1 && c->n <= 0x10000);
        if (c->count_latched && c->bcd) {
            for (unsigned d = 0; d < 4; d++)
                REQUIRE(((c->latch >> 4 * d) & 0xf) <= 9);
        }
    }
    REQUIRE((p->port61 & ~PIT_61_WRITE) == 0);
    REQUIRE(p->irq_level == b->line[0]);
}

static void check_rtc(const struct board *b)
{
    const struct rtc *r = &b->rtc;
    uint8_t c = r->cmos[RTC_REG_C];
    REQUIRE(r->index < RTC_CMOS_SIZE);
    REQUIRE((c & 0x0f) == 0 && !(r->cmos[RTC_REG_A] & RTC_A_UIP));
    REQUIRE(r->irq_high == !!(c & RTC_C_IRQF) && r->irq_high == b->line[RTC_IRQ]);
}

static void check_pm(const struct board *b)
{
    const struct acpi_pm *pm = &b->pm;
    REQUIRE((pm->cnt & ACPI_PM1_SCI_EN) && (pm->cnt & ~ACPI_PM1_CNT_KEPT) == 0);
    REQUIRE((pm->en & ~ACPI_PM1_EN_MASK) == 0 && (pm->sts & ~ACPI_PM1_TMR_STS) == 0);
    REQUIRE(pm->sci == ((pm->sts & pm->en) != 0));
    REQUIRE(pm->sci == b->line[ACPI_SCI_IRQ]);
}

static unsigned pit_mode0(const struct pit *p)
{
    return p->ch[0].mode >= 6 ? p->ch[0].mode - 4u : p->ch[0].mode;
}

/* Each next event is NEVER or within one period of now; a periodic source
 * that is on always has one. */
static void check_next(const struct board *b)
{
    uint64_t now = b->now;
    uint64_t pit = pit_next_event_ns(&b->pit, now);
    const struct pit_channel *c0 = &b->pit.ch[0];
    REQUIRE(pit == NEVER || pit <= now + PIT_BOUND);
    if (c0->loaded && c0->gate && (pit_mode0(&b->pit) == 2 || pit_mode0(&b->pit) == 3))
        REQUIRE(pit != NEVER);

    const struct rtc *r = &b->rtc;
    uint64_t rtc = rtc_next_event_ns(r, now);
    uint8_t a = r->cmos[RTC_REG_A], rb = r->cmos[RTC_REG_B];
    bool on = (a & RTC_A_DV_MASK) == RTC_A_DV_RUNNING && !(r->cmos[RTC_REG_C] & RTC_C_IRQF);
    if (on && (rb & RTC_B_PIE) && (a & RTC_A_RS_MASK))
        REQUIRE(rtc != NEVER && rtc <= now + RTC_PERIODIC);
    if (on && (rb & RTC_B_UIE) && !(rb & RTC_B_SET))
        REQUIRE(rtc != NEVER && rtc <= now + RTC_UPDATE);
    REQUIRE(rtc == NEVER || rtc <= now + RTC_ALARM);

    const struct acpi_pm *pm = &b->pm;
    uint64_t tmr = acpi_pm_next_event_ns(pm, now);
    REQUIRE(tmr == NEVER || tmr <= now + PM_BOUND);
    if ((pm->en & ACPI_PM1_TMR_STS) && !(pm->sts & ACPI_PM1_TMR_STS))
        REQUIRE(tmr != NEVER);
}

static void check_all(const struct board *b)
{
    check_pic(&b->pic);
    check_ioapic(&b->ioapic);
    check_pit(b);
    check_rtc(b);
    check_pm(b);
    check_next(b);
}

/* ---- operations ---- */

static const uint16_t ports8[] = {PIC_MASTER_CMD,  PIC_MASTER_DATA, PIC_SLAVE_CMD, PIC_SLAVE_DATA,
                                  PIC_ELCR_MASTER, PIC_ELCR_SLAVE,  PIT_COUNTER0,  PIT_COUNTER0 + 1,
                                  PIT_COUNTER2,    PIT_CONTROL,     PIT_PORT_61,   RTC_PORT_INDEX,
                                  RTC_PORT_DATA};
#define PORTS8 (sizeof(ports8) / sizeof(ports8[0]))

static bool is_pic_port(uint16_t port)
{
    return port == PIC_MASTER_CMD || port == PIC_MASTER_DATA || port == PIC_SLAVE_CMD ||
           port == PIC_SLAVE_DATA || port == PIC_ELCR_MASTER || port == PIC_ELCR_SLAVE;
}

static bool is_pit_port(uint16_t port)
{
    return (port >= PIT_COUNTER0 && port <= PIT_CONTROL) || port == PIT_PORT_61;
}

/* An 8-bit access, offered to each byte device: only the owner claims it.
 * flags: bit 0 in; bit 1: the PIT's access carries a time value * 4 us
 * before now (pit.h: an earlier time counts as the latest one seen). */
static void op_port8(struct board *b, struct input *in)
{
    uint8_t sel = get8(in);
    uint16_t port = sel & 0x80 ? get16(in) : ports8[sel % PORTS8];
    uint8_t flags = get8(in);
    bool rd = flags & 1;
    uint8_t value = get8(in), v_pic = value, v_pit = value, v_rtc = value;
    uint64_t lag = (uint64_t)value << 12,
             pit_now = flags & 2 && lag < b->now ? b->now - lag : b->now;
    const struct pic_chip *chip = &b->pic.chip[port == PIC_SLAVE_CMD || port == PIC_SLAVE_DATA];
    bool poll = chip->poll && is_pic_port(port) && port < PIC_ELCR_MASTER;
    uint8_t rtc_index = b->rtc.index;

    REQUIRE(pic_io(&b->pic, port, rd, &v_pic) == is_pic_port(port));
    REQUIRE(pit_io(&b->pit, port, rd, &v_pit, pit_now) == is_pit_port(port));
    REQUIRE(rtc_io(&b->rtc, port, rd, &v_rtc, b->now) ==
            (port == RTC_PORT_INDEX || port == RTC_PORT_DATA));
    REQUIRE(is_pic_port(port) || v_pic == value);
    REQUIRE(is_pit_port(port) || v_pit == value);
    REQUIRE(port == RTC_PORT_INDEX || port == RTC_PORT_DATA || v_rtc == value);
    if (!rd) {
        if (port == PIT_PORT_61)
            b->port61 = value & PIT_61_WRITE;
        return;
    }
    if (poll) /* a poll word: I (bit 7) and the level, or 0 */
        REQUIRE(v_pic == 0 || (v_pic & ~0x07u) == 0x80);
    if (port == PIT_CONTROL)
        REQUIRE(v_pit == 0xff);
    if (port == PIT_PORT_61)
        REQUIRE((v_pit & PIT_61_WRITE) == b->port61 && (v_pit & 0xc0) == 0);
    if (port == RTC_PORT_INDEX)
        REQUIRE(v_rtc == 0xff);
    if (port == RTC_PORT_DATA && rtc_index == RTC_REG_D)
        REQUIRE(v_rtc == RTC_D_VRT);
    if (port == RTC_PORT_DATA && rtc_index == RTC_REG_C)
        REQUIRE((v_rtc & 0x0f) == 0 && b->rtc.cmos[RTC_REG_C] == 0 && !b->rtc.irq_high);
}

static uint8_t pm_byte(const struct acpi_pm *pm, unsigned off, uint32_t timer)
{
    if (off < 2)
        return (uint8_t)(pm->sts >> 8 * off);
    if (off < 4)
        return (uint8_t)(pm->en >> 8 * (off - 2));
    if (off < 6)
        return (uint8_t)(pm->cnt >> 8 * (off - 4));
    if (off >= 8 && off < 12)
        return (uint8_t)(timer >> 8 * (off - 8));
    return 0;
}

static void op_pm(struct board *b, struct input *in)
{
    uint8_t sel = get8(in), flags = get8(in);
    uint16_t port = sel & 0x80 ? get16(in) : (uint16_t)(ACPI_PM_BASE + (sel & 0x0f));
    bool rd = flags & 2;
    unsigned size = size_of(flags), off = port - ACPI_PM_BASE;
    uint32_t value = get32(in), v = value;
    bool mine = port >= ACPI_PM_BASE && off < 12 && (off < 6 || off >= 8);
    /* PM1_CNT as this write leaves it, before the kept bits are taken */
    uint16_t cnt = b->pm.cnt;
    bool cnt_written = false, off_expected, poweroff = false;
    for (unsigned i = 0; i < size && mine && !rd; i++) {
        if (off + i == 4 || off + i == 5) {
            unsigned sh = 8 * (off + i - 4);
            cnt = (uint16_t)((cnt & ~(0xffu << sh)) | ((value >> 8 * i) & 0xffu) << sh);
            cnt_written = true;
        }
    }
    off_expected = cnt_written && (cnt & ACPI_PM1_SLP_EN) &&
                   ((cnt & ACPI_PM1_SLP_TYP) >> ACPI_PM1_SLP_TYP_SHL) == ACPI_SLP_TYP_S5;
    REQUIRE(acpi_pm_io(&b->pm, port, size, rd, &v, b->now, &poweroff) == mine);
    REQUIRE(poweroff == off_expected);
    if (!mine || !rd) {
        REQUIRE(v == value);
        return;
    }
    uint32_t expect = 0, timer = acpi_pm_timer(b->now);
    for (unsigned i = 0; i < size; i++)
        expect |= (uint32_t)pm_byte(&b->pm, off + i, timer) << 8 * i;
    REQUIRE(v == expect);
}

static void op_fw_cfg(struct board *b, struct input *in)
{
    uint8_t flags = get8(in);
    uint16_t port = flags & 0x80 ? get16(in) : flags & 1 ? FW_CFG_PORT_DATA : FW_CFG_PORT_SEL;
    bool rd = flags & 2;
    unsigned size = size_of(flags);
    uint32_t value = get32(in), v = value;
    bool mine = port == FW_CFG_PORT_SEL || port == FW_CFG_PORT_DATA;
    REQUIRE(fw_cfg_io(&b->fw, port, size, rd, &v) == mine);
    if (!mine || (!rd && port == FW_CFG_PORT_DATA)) {
        REQUIRE(v == value);
        return;
    }
    if (port == FW_CFG_PORT_SEL) {
        if (rd) {
            REQUIRE(v == 0);
        } else if (size == 2) {
            b->selector = (uint16_t)value;
            b->offset = 0;
        }
        return;
    }
    uint32_t expect = 0;
    for (unsigned i = 0; i < size; i++)
        expect |= (uint32_t)fw_next(b) << 8 * i;
    REQUIRE(v == expect);
}

/* The indirect register index reads as (ioapic.h). */
static uint32_t ioapic_reg(const struct ioapic *io, uint8_t index)
{
    if (index == IOAPIC_REG_ID || index == IOAPIC_REG_ARB)
        return (uint32_t)io->id << 24;
    if (index == IOAPIC_REG_VER)
        return IOAPIC_VER;
    if (index < IOAPIC_REG_RTE || index >= IOAPIC_REG_RTE + 2 * IOAPIC_PINS)
        return 0;
    uint64_t e = io->rte[(index - IOAPIC_REG_RTE) / 2];
    return (uint32_t)(index & 1 ? e >> 32 : e);
}

static uint8_t ioapic_byte(const struct ioapic *io, uint64_t at)
{
    uint32_t v = 0;
    if ((at & ~3ull) == IOAPIC_IOREGSEL)
        v = io->regsel;
    else if ((at & ~3ull) == IOAPIC_IOWIN)
        v = ioapic_reg(io, io->regsel);
    return (uint8_t)(v >> 8 * (at % 4));
}

/* One MMIO access of len bytes (exactly sized: ASan sees an access past
 * it), with what it must do. */
static void ioapic_access(struct board *b, uint64_t offset, unsigned len, bool write, uint64_t v)
{
    struct ioapic *io = &b->ioapic;
    uint8_t *data = malloc(len);
    REQUIRE(data != NULL);
    memcpy(data, &v, len);
    if (!write) {
        ioapic_mmio(io, offset, len, false, data);
        for (unsigned i = 0; i < len; i++)
            REQUIRE(data[i] == ioapic_byte(io, offset + i));
        free(data);
        return;
    }
    struct ioapic before;
    memcpy(&before, io, sizeof(before));
    uint8_t index = io->regsel;
    unsigned msis = b->msis;
    bool takes = len == 4 && offset % 4 == 0;
    ioapic_mmio(io, offset, len, true, data);
    free(data);
    uint32_t v32 = (uint32_t)v;
    if (!takes || (offset != IOAPIC_IOREGSEL && offset != IOAPIC_IOWIN && offset != IOAPIC_EOI)) {
        REQUIRE(memcmp(&before, io, sizeof(before)) == 0 && msis_since(io, msis) == 0);
        return;
    }
    if (offset == IOAPIC_IOREGSEL) {
        REQUIRE(io->regsel == (v32 & 0xff) && msis_since(io, msis) == 0);
    } else if (offset == IOAPIC_EOI) {
        REQUIRE(msis_since(io, msis) == 0 ||
                ((uint8_t)b->msi_data == (uint8_t)v32 && (b->msi_data & MSI_LEVEL)));
    } else if (index == IOAPIC_REG_ID) {
        REQUIRE(io->id == ((v32 >> 24) & 0xf));
    } else if (index >= IOAPIC_REG_RTE && index < IOAPIC_REG_RTE + 2 * IOAPIC_PINS) {
        unsigned n = (index - IOAPIC_REG_RTE) / 2;
        uint64_t old = before.rte[n], e;
        e = index & 1 ? (old & 0xffffffffull) | (uint64_t)v32 << 32 : (old & ~0xffffffffull) | v32;
        uint64_t kept = ~(IOAPIC_RTE_REMOTE_IRR | IOAPIC_RTE_DELIVS | RTE_RESERVED);
        REQUIRE((io->rte[n] & kept) == (e & kept));
        REQUIRE(msis_since(io, msis) <= 1);
    } else {
        REQUIRE(memcmp(&before, io, sizeof(before)) == 0 && msis_since(io, msis) == 0);
    }
}

/* A pin's new level: an MSI exactly for an unmasked entry's active edge, or
 * its active level while Remote IRR is clear. */
static void op_ioapic_irq(struct board *b, unsigned gsi, bool level)
{
    struct ioapic *io = &b->ioapic;
    unsigned msis = b->msis;
    if (gsi >= IOAPIC_PINS) {
        struct ioapic before;
        memcpy(&before, io, sizeof(before));
        ioapic_set_irq(io, gsi, level);
        REQUIRE(memcmp(&before, io, sizeof(before)) == 0 && b->msis == msis);
        return;
    }
    uint64_t e = io->rte[gsi];
    bool was = pin_active(io, gsi);
    ioapic_set_irq(io, gsi, level);
    bool now = pin_active(io, gsi), on = !(e & IOAPIC_RTE_MASKED), expect;
    if (e & IOAPIC_RTE_LEVEL)
        expect = on && now && !(e & IOAPIC_RTE_REMOTE_IRR);
    else
        expect = on && now && !was;
    REQUIRE(b->msis == msis + (expect ? 1u : 0u));
}

static void op_pic_irq(struct board *b, unsigned irq, bool level)
{
    struct pic_pair before;
    memcpy(&before, &b->pic, sizeof(before));
    pic_set_irq(&b->pic, irq, level);
    if (irq >= PIC_IRQS || irq == PIC_CASCADE_IRQ)
        REQUIRE(memcmp(&before, &b->pic, sizeof(before)) == 0);
}

/* INTA: the master's IR0-7 (not IR2 when cascaded), the slave's IR0-7 (a
 * cascaded IR2, the slave's IR7 if it had nothing), or the master's
 * spurious IR7 when INT was low. */
static void op_inta(struct board *b, uint8_t flags)
{
    const struct pic_chip *m = &b->pic.chip[0], *s = &b->pic.chip[1];
    bool out = pic_output(&b->pic);
    if ((flags & 1) && !out)
        return;
    uint8_t mbase = m->base, sbase = s->base;
    bool single = m->single;
    int v = pic_acknowledge(&b->pic);
    REQUIRE(v >= 0 && v <= 0xff);
    if (!out) {
        REQUIRE(v == mbase + 7);
        return;
    }
    bool from_master = v >= mbase && v < mbase + 8 && (single || v != mbase + PIC_CASCADE_IRQ);
    bool from_slave = !single && v >= sbase && v < sbase + 8;
    REQUIRE(from_master || from_slave);
}

/* Time moves to now (never back); what each device promised for a time at
 * or before it must happen. */
static void advance_to(struct board *b, uint64_t now)
{
    uint64_t pit = pit_next_event_ns(&b->pit, b->now);
    uint64_t rtc = rtc_next_event_ns(&b->rtc, b->now);
    uint64_t tmr = acpi_pm_next_event_ns(&b->pm, b->now);
    unsigned pit_rises = b->rises[0];
    b->now = now < b->now ? b->now : now > NOW_MAX ? NOW_MAX : now;
    pit_advance(&b->pit, b->now);
    rtc_advance(&b->rtc, b->now);
    acpi_pm_advance(&b->pm, b->now);
    if (pit <= b->now)
        REQUIRE(b->rises[0] > pit_rises);
    if (rtc <= b->now)
        REQUIRE(b->rtc.cmos[RTC_REG_C] & RTC_C_IRQF);
    if (tmr <= b->now)
        REQUIRE((b->pm.sts & ACPI_PM1_TMR_STS) && b->pm.sci);
}

static void op_next(struct board *b)
{
    uint64_t next = pit_next_event_ns(&b->pit, b->now);
    uint64_t t = rtc_next_event_ns(&b->rtc, b->now);
    next = t < next ? t : next;
    t = acpi_pm_next_event_ns(&b->pm, b->now);
    next = t < next ? t : next;
    if (next != NEVER)
        advance_to(b, next);
}

static void run_op(struct board *b, struct input *in)
{
    switch (get8(in) % OP_COUNT) {
    case OP_PORT8:
        op_port8(b, in);
        break;
    case OP_PM:
        op_pm(b, in);
        break;
    case OP_FW_CFG:
        op_fw_cfg(b, in);
        break;
    case OP_IOAPIC_MMIO: {
        uint8_t flags = get8(in);
        uint64_t offset = get16(in) % IOAPIC_SIZE;
        ioapic_access(b, offset, 1 + ((flags >> 1) & 7), flags & 1, get64(in));
        break;
    }
    case OP_IOAPIC_REG: {
        uint8_t index = get8(in), flags = get8(in);
        ioapic_access(b, IOAPIC_IOREGSEL, 4, true, index);
        ioapic_access(b, IOAPIC_IOWIN, 4, flags & 1, get32(in));
        break;
    }
    case OP_PIC_IRQ: {
        unsigned irq = get8(in);
        op_pic_irq(b, irq, get8(in) & 1);
        break;
    }
    case OP_IOAPIC_IRQ: {
        unsigned gsi = get8(in);
        op_ioapic_irq(b, gsi, get8(in) & 1);
        break;
    }
    case OP_ISA_IRQ: {
        unsigned irq = get8(in);
        isa_irq(b, irq, get8(in) & 1);
        break;
    }
    case OP_IOAPIC_EOI: {
        uint8_t vector = get8(in);
        unsigned msis = b->msis;
        ioapic_eoi(&b->ioapic, vector);
        REQUIRE(b->msis == msis || ((uint8_t)b->msi_data == vector && (b->msi_data & MSI_LEVEL)));
        break;
    }
    case OP_ADVANCE: {
        unsigned shift = get8(in) % 44;
        uint64_t delta = (uint64_t)get16(in) << shift;
        advance_to(b, delta > NOW_MAX - b->now ? NOW_MAX : b->now + delta);
        break;
    }
    case OP_NEXT:
        op_next(b);
        break;
    default:
        op_inta(b, get8(in));
        break;
    }
}

/* The devices as board_init() sets them up, and fw_cfg's files: the VMM's
 * two, then a full directory's worth of extras, each refusal checked. */
static void setup(struct board *b, struct input *in)
{
    memset(b, 0, sizeof(*b));
    uint8_t ioapic_id = get8(in);
    uint64_t unix_secs = get32(in) | (uint64_t)get8(in) << 32;
    b->ram = (uint64_t)get32(in) << 16;
    b->cpus = get16(in);
    for (unsigned i = 0; i < 2; i++) {
        b->file_size[i] = get8(in);
        b->file_data[i] = malloc(b->file_size[i]); /* exact: ASan sees a read past it */
        REQUIRE(b->file_data[i] != NULL || b->file_size[i] == 0);
        for (uint32_t j = 0; j < b->file_size[i]; j++)
            b->file_data[i][j] = (uint8_t)(j * 7 + i + 1);
    }
    unsigned extras = get8(in) % 15;
    b->pit_line = (struct line_ctx){b, 0};
    b->rtc_line = (struct line_ctx){b, RTC_IRQ};
    b->pm_line = (struct line_ctx){b, ACPI_SCI_IRQ};
    pic_init(&b->pic);
    ioapic_init(&b->ioapic, ioapic_id, send_msi, b);
    pit_init(&b->pit, device_irq, &b->pit_line);
    rtc_init(&b->rtc, unix_secs, 0, device_irq, &b->rtc_line);
    rtc_set_memory_size(&b->rtc, b->ram);
    acpi_pm_init(&b->pm, device_irq, &b->pm_line);
    fw_cfg_init(&b->fw, b->cpus, b->ram);
    put_be(b->dir, 0, 4);
    add_file(b, "etc/keel/vm-name", b->file_data[0], b->file_size[0]);
    add_file(b, "etc/acpi/rsdp", b->file_data[1], b->file_size[1]);
    REQUIRE(fw_cfg_add_file(&b->fw, "etc/acpi/rsdp", extra_data, 1) == -1);
    REQUIRE(fw_cfg_add_file(&b->fw, "", extra_data, 1) == -1);
    char name[FW_CFG_NAME_SIZE + 1];
    memset(name, 'n', FW_CFG_NAME_SIZE);
    name[FW_CFG_NAME_SIZE] = '\0'; /* 56 characters: one too many */
    REQUIRE(fw_cfg_add_file(&b->fw, name, extra_data, 1) == -1);
    for (unsigned i = 0; i < extras; i++) {
        if (i == 0)
            name[FW_CFG_NAME_SIZE - 1] = '\0'; /* 55: the longest */
        else
            snprintf(name, sizeof(name), "opt/fuzz/%u", i);
        add_file(b, name, extra_data, b->files - 2);
    }
    if (b->files == FW_CFG_MAX_FILES)
        REQUIRE(fw_cfg_add_file(&b->fw, "opt/one-too-many", extra_data, 1) == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct board b;
    struct input in = {data, size};
    setup(&b, &in);
    check_all(&b);
    while (in.n > 0) {
        run_op(&b, &in);
        check_all(&b);
    }
    free(b.file_data[0]);
    free(b.file_data[1]);
    return 0;
}
