/* panic(): the one way the core gives up. Prints the reason, stops the other
 * CPUs so they cannot scribble over the report or the machine, then halts. */
#include "panic.h"
#include "cpu.h"
#include "fmt.h"
#include "percpu.h"
#include "printk.h"

static volatile int panic_owner = -1;
static void (*stop_others_fn)(void);

bool panic_in_progress(void)
{
    return panic_owner >= 0;
}

void panic_set_stop_others(void (*stop_others)(void))
{
    stop_others_fn = stop_others;
}

void panic(const char *fmt, ...)
{
    irq_disable();
    int me = (int)this_cpu()->index;
    int expected = -1;
    if (!__atomic_compare_exchange_n(&panic_owner, &expected, me, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST)) {
        /* Another CPU is already panicking (or this one, recursively). */
        cpu_stop();
    }
    printk_enter_panic_mode();
    va_list ap;
    va_start(ap, fmt);
    char msg[256];
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk(LOG_EMERG, "PANIC on cpu%d: %s", me, msg);
    if (stop_others_fn)
        stop_others_fn();
    printk(LOG_EMERG, "keel: all CPUs stopped");
    cpu_stop();
}
