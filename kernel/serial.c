/* 16550 UART: register layout and FIFO detection per the National
 * Semiconductor PC16550D data sheet (FCR, IIR bits 7:6, LSR bit 5). */
#include "serial.h"
#include "cpu.h"

#define UART_THR 0 /* transmit holding (write) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2 /* FIFO control (write) */
#define UART_IIR 2 /* interrupt identification (read) */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define LCR_DLAB            0x80
#define LCR_8N1             0x03
#define MCR_DTR_RTS         0x03
#define FCR_ENABLE_CLEAR_64 0xe7 /* enable, clear RX/TX, 64-byte (16750), trigger 14 */
#define IIR_FIFO_MASK       0xc0
#define IIR_FIFO_64         0x20
#define LSR_THRE            0x20
#define LSR_DATA_READY      0x01
#define UART_RBR            0    /* receive buffer (read) */
#define LSR_TEMT            0x40 /* transmitter empty: FIFO and shift register */
#define BAUD_DIVISOR_115200 1
#define THRE_SPIN_LIMIT     200000 /* a missing or stuck UART must not hang the core */

static struct serial_info active;

struct serial_info serial_init(uint16_t port)
{
    struct serial_info info = {.port = port};
    outb(port + UART_SCR, 0x5a);
    if (inb(port + UART_SCR) != 0x5a) {
        active = info;
        return info;
    }
    info.present = true;
    outb(port + UART_IER, 0);
    outb(port + UART_LCR, LCR_DLAB);
    outb(port + UART_DLL, BAUD_DIVISOR_115200);
    outb(port + UART_DLM, 0);
    outb(port + UART_LCR, LCR_8N1);
    outb(port + UART_MCR, MCR_DTR_RTS);
    outb(port + UART_FCR, FCR_ENABLE_CLEAR_64);
    uint8_t iir = inb(port + UART_IIR);
    if ((iir & IIR_FIFO_MASK) == IIR_FIFO_MASK)
        info.fifo_depth = (iir & IIR_FIFO_64) ? 64 : 16;
    else
        info.fifo_depth = 1;
    active = info;
    return info;
}

static bool wait_transmitter_empty(uint16_t port)
{
    for (unsigned i = 0; i < THRE_SPIN_LIMIT; i++) {
        if (inb(port + UART_LSR) & LSR_THRE)
            return true;
        cpu_relax();
    }
    return false;
}

void serial_write(const char *s, size_t len)
{
    if (!active.present)
        return;
    unsigned room = 0;
    for (size_t i = 0; i < len; i++) {
        bool crlf = s[i] == '\n';
        for (int k = crlf ? 0 : 1; k < 2; k++) {
            if (room == 0) {
                if (!wait_transmitter_empty(active.port)) {
                    active.present = false; /* stuck: stop writing rather than hang */
                    return;
                }
                room = active.fifo_depth;
            }
            outb(active.port + UART_THR, k == 0 ? '\r' : (uint8_t)s[i]);
            room--;
        }
    }
}

void serial_flush(void)
{
    if (!active.present)
        return;
    for (unsigned i = 0; i < THRE_SPIN_LIMIT * 16; i++) {
        if (inb(active.port + UART_LSR) & LSR_TEMT)
            return;
        cpu_relax();
    }
}

bool serial_read_byte(char *c)
{
    if (!active.present || !(inb(active.port + UART_LSR) & LSR_DATA_READY))
        return false;
    *c = (char)inb(active.port + UART_RBR);
    return true;
}
