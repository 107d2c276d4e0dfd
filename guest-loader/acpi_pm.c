/* The ACPI PM1 registers and PM timer (acpi_pm.h). */
#include "acpi_pm.h"
#include "kstring.h"

#define NS_PER_SEC     1000000000ull
#define TMR_TOGGLE_SHL 31 /* TMR_STS: bit 31 of the 32-bit count changed (TMR_VAL_EXT) */
#define BLOCK_SIZE     12 /* 0x600-0x60b: event block, control block, a gap, the timer */
#define GAP_START      6  /* 0x606-0x607 belong to no block */
#define GAP_END        8

/* The timer's full count at now_ns: floor(now_ns * f / 1e9) computed per
 * whole second and remainder, so no product exceeds 64 bits. */
static uint64_t timer_ticks(uint64_t now_ns)
{
    return now_ns / NS_PER_SEC * ACPI_PM_TIMER_HZ +
           now_ns % NS_PER_SEC * ACPI_PM_TIMER_HZ / NS_PER_SEC;
}

/* The first nanosecond at which timer_ticks() reaches ticks. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
    uint64_t rem = ticks % ACPI_PM_TIMER_HZ;
    return ticks / ACPI_PM_TIMER_HZ * NS_PER_SEC +
           (rem * NS_PER_SEC + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;
}

uint32_t acpi_pm_timer(uint64_t now_ns)
{
    return (uint32_t)timer_ticks(now_ns);
}

static void update_sci(struct acpi_pm *pm)
{
    bool level = (pm->cnt & ACPI_PM1_SCI_EN) && (pm->sts & pm->en) != 0;
    if (level == pm->sci)
        return;
    pm->sci = level;
    pm->irq(pm->ctx, ACPI_SCI_IRQ, level);
}

void acpi_pm_advance(struct acpi_pm *pm, uint64_t now_ns)
{
    uint64_t t = timer_ticks(now_ns);
    if (t <= pm->ticks)
        return;
    if (t >> TMR_TOGGLE_SHL != pm->ticks >> TMR_TOGGLE_SHL)
        pm->sts |= ACPI_PM1_TMR_STS;
    pm->ticks = t;
    update_sci(pm);
}

uint64_t acpi_pm_next_event_ns(const struct acpi_pm *pm, uint64_t now_ns)
{
    (void)now_ns; /* counted from the last update: what fell due since is due now */
    if (!(pm->en & ACPI_PM1_TMR_STS) || !(pm->cnt & ACPI_PM1_SCI_EN) ||
        (pm->sts & ACPI_PM1_TMR_STS))
        return UINT64_MAX;
    return ticks_to_ns(((pm->ticks >> TMR_TOGGLE_SHL) + 1) << TMR_TOGGLE_SHL);
}

void acpi_pm_init(struct acpi_pm *pm, irq_line_fn irq, void *ctx)
{
    memset(pm, 0, sizeof(*pm));
    pm->cnt = ACPI_PM1_SCI_EN; /* no SMI_CMD: the platform is always in ACPI mode */
    pm->irq = irq;
    pm->ctx = ctx;
}

/* The byte at offset off of the blocks, as read. */
static uint8_t read_byte(const struct acpi_pm *pm, unsigned off, uint32_t timer)
{
    switch (off) {
    case 0:
    case 1:
        return (uint8_t)(pm->sts >> 8 * off);
    case 2:
    case 3:
        return (uint8_t)(pm->en >> 8 * (off - 2));
    case 4:
    case 5:
        return (uint8_t)(pm->cnt >> 8 * (off - 4));
    case 8:
    case 9:
    case 10:
    case 11:
        return (uint8_t)(timer >> 8 * (off - 8));
    default:
        return 0;
    }
}

/* Applies a write of byte b at offset off; *cnt gathers PM1_CNT. */
static void write_byte(struct acpi_pm *pm, unsigned off, uint8_t b, uint16_t *cnt)
{
    if (off < 2) /* PM1_STS: write 1 to clear */
        pm->sts &= (uint16_t) ~(b << 8 * off);
    else if (off < 4)
        pm->en =
            (uint16_t)((pm->en & ~(0xff << 8 * (off - 2))) | b << 8 * (off - 2)) & ACPI_PM1_EN_MASK;
    else if (off < 6)
        *cnt = (uint16_t)((*cnt & ~(0xff << 8 * (off - 4))) | b << 8 * (off - 4));
    /* the timer is read-only */
}

bool acpi_pm_io(struct acpi_pm *pm, uint16_t port, unsigned size, bool in, uint32_t *value,
                uint64_t now_ns, bool *poweroff)
{
    if (port < ACPI_PM_BASE || port >= ACPI_PM_BASE + BLOCK_SIZE)
        return false;
    unsigned off = port - ACPI_PM_BASE;
    if (off >= GAP_START && off < GAP_END)
        return false;
    if (size != 1 && size != 2 && size != 4)
        size = 1;
    acpi_pm_advance(pm, now_ns);
    if (in) {
        uint32_t timer = acpi_pm_timer(now_ns), v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= (uint32_t)read_byte(pm, off + i, timer) << 8 * i;
        *value = v;
        return true;
    }
    uint16_t cnt = pm->cnt;
    bool cnt_written = false;
    for (unsigned i = 0; i < size; i++) {
        write_byte(pm, off + i, (uint8_t)(*value >> 8 * i), &cnt);
        cnt_written |= off + i == 4 || off + i == 5;
    }
    if (cnt_written) {
        unsigned slp_typ = (cnt & ACPI_PM1_SLP_TYP) >> ACPI_PM1_SLP_TYP_SHL;
        if ((cnt & ACPI_PM1_SLP_EN) && slp_typ == ACPI_SLP_TYP_S5 && poweroff != NULL)
            *poweroff = true;
        pm->cnt = (cnt & ACPI_PM1_CNT_KEPT) | ACPI_PM1_SCI_EN;
    }
    update_sci(pm);
    return true;
}
