/* printk: formats a message, splits it into lines, and writes each line with
 * its "[uptime cN] " prefix under the console lock. */
#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "fmt.h"
#include "percpu.h"
#include "printk.h"
#include "serial.h"
#include "spinlock.h"
#include "time.h"

#define PRINTK_LINE_MAX  512
#define PANIC_LOCK_SPINS 50000000ull

static struct spinlock console_lock = SPINLOCK_INIT;
static int console_loglevel = 6;
static volatile bool panic_mode;

void printk_set_loglevel(int level)
{
    console_loglevel = level;
}

void printk_enter_panic_mode(void)
{
    panic_mode = true;
}

static const char *level_tag(int level)
{
    if (level == LOG_ERR)
        return "error: ";
    if (level == LOG_WARNING)
        return "warning: ";
    return "";
}

/* Takes the console lock; in panic mode gives up waiting after a while so a
 * CPU stopped while holding it cannot silence the panic report. */
static bool console_acquire(void)
{
    if (!panic_mode) {
        spin_lock(&console_lock);
        return true;
    }
    for (uint64_t i = 0; i < PANIC_LOCK_SPINS; i++) {
        if (spin_trylock(&console_lock))
            return true;
        cpu_relax();
    }
    return false;
}

static void emit_line(int level, const char *text, size_t len)
{
    char prefix[48];
    uint64_t ns = uptime_ns();
    int n = fmt_snprintf(
        prefix, sizeof(prefix), "[%5llu.%06llu c%u] %s", (unsigned long long)(ns / 1000000000ull),
        (unsigned long long)(ns % 1000000000ull / 1000), this_cpu()->index, level_tag(level));
    serial_write(prefix, (size_t)n < sizeof(prefix) ? (size_t)n : sizeof(prefix) - 1);
    serial_write(text, len);
    serial_write("\n", 1);
}

void vprintk(int level, const char *fmt, va_list ap)
{
    if (level > console_loglevel)
        return;
    char buf[PRINTK_LINE_MAX];
    int total = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t len = (size_t)total < sizeof(buf) ? (size_t)total : sizeof(buf) - 1;

    uint64_t flags = irq_save();
    bool locked = console_acquire();
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || buf[i] == '\n') {
            if (i > start || i < len)
                emit_line(level, buf + start, i - start);
            start = i + 1;
        }
    }
    if (locked)
        spin_unlock(&console_lock);
    irq_restore(flags);
}

void printk(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(level, fmt, ap);
    va_end(ap);
}

void printk_diag(int level, const struct diag *d)
{
    for (unsigned i = 0; i < d->count && i < DIAG_MAX; i++)
        printk(level, "%s", d->msg[i]);
    if (d->count > DIAG_MAX)
        printk(level, "(%u more messages like these not shown)", d->count - DIAG_MAX);
}
