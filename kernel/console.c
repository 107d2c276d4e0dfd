/* Console selection. A missing UART leaves the console silent, not hung. */
#include "console.h"
#include "printk.h"
#include "serial.h"

void console_init(enum console_port port)
{
    if (port == CONSOLE_NONE)
        return;
    uint16_t io = port == CONSOLE_COM2 ? COM2_PORT : COM1_PORT;
    struct serial_info info = serial_init(io);
    if (info.present)
        pr_debug("console: 16550 at 0x%x, %s", io,
                 info.fifo_depth > 1 ? (info.fifo_depth == 64 ? "64-byte FIFO" : "16-byte FIFO")
                                     : "no FIFO");
}
