/* Emulator power-off ports; on real hardware ACPI S5 comes with the AML
 * interpreter later, until then the CPUs halt with a message. */
#include "cpu.h"
#include "poweroff.h"
#include "printk.h"
#include "serial.h"
#include "smp.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT  0x8900

void machine_poweroff(uint8_t status)
{
    pr_info("keel: powering off (status %u)", status);
    serial_flush(); /* emulators stop at once: let the last line out first */
    outb(QEMU_DEBUG_EXIT_PORT, status);
    for (const char *s = "Shutdown"; *s; s++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    pr_info("keel: no emulator power-off device answered; halting all CPUs (turn the machine "
            "off by hand)");
    irq_disable();
    smp_stop_others();
    cpu_stop();
}
