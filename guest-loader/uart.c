/* The 16550A model of COM1 (uart.h). */
#include "kstring.h"
#include "uart.h"

#define LCR_DLAB    0x80
#define MCR_DTR     0x01
#define MCR_RTS     0x02
#define MCR_OUT1    0x04
#define MCR_OUT2    0x08
#define MCR_LOOP    0x10
#define MCR_MASK    0x1f
#define IER_MASK    0x0f
#define IIR_NO_INT  0x01
#define IIR_FIFO_ON 0xc0
#define FCR_ENABLE  0x01
#define FCR_KEPT    0xc9 /* enable, DMA mode, trigger level; the reset bits clear themselves */
#define LSR_DR      0x01
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define MSR_CTS     0x10
#define MSR_DSR     0x20
#define MSR_RI      0x40
#define MSR_DCD     0x80
#define RESET_LCR   0x03 /* 8N1 */

void uart_init(struct uart *u, void (*emit)(void *ctx, const char *line, size_t len), void *ctx)
{
    memset(u, 0, sizeof(*u));
    u->lcr = RESET_LCR;
    u->dll = 1; /* 115200 baud */
    u->emit = emit;
    u->ctx = ctx;
}

void uart_flush(struct uart *u)
{
    if (u->len == 0)
        return;
    u->emit(u->ctx, u->line, u->len);
    u->len = 0;
}

static void transmit(struct uart *u, uint8_t c)
{
    if (u->mcr & MCR_LOOP) { /* loopback: the byte comes back, nothing goes out */
        u->rbr = c;
        u->rx_full = true;
        return;
    }
    if (c == '\n') {
        u->emit(u->ctx, u->line, u->len);
        u->len = 0;
        return;
    }
    if (c == '\r')
        return;
    u->line[u->len++] = c == '\t' ? ' ' : (char)c;
    if (u->len == UART_LINE_MAX)
        uart_flush(u);
}

/* In loopback the modem inputs follow the modem outputs; otherwise the
 * other end is always there and ready. */
static uint8_t modem_status(const struct uart *u)
{
    if (!(u->mcr & MCR_LOOP))
        return MSR_CTS | MSR_DSR | MSR_DCD;
    uint8_t msr = 0;
    msr |= (u->mcr & MCR_RTS) ? MSR_CTS : 0;
    msr |= (u->mcr & MCR_DTR) ? MSR_DSR : 0;
    msr |= (u->mcr & MCR_OUT1) ? MSR_RI : 0;
    msr |= (u->mcr & MCR_OUT2) ? MSR_DCD : 0;
    return msr;
}

uint8_t uart_read(struct uart *u, unsigned reg)
{
    bool dlab = u->lcr & LCR_DLAB;
    switch (reg) {
    case UART_RBR_THR_DLL:
        if (dlab)
            return u->dll;
        u->rx_full = false;
        return u->rbr;
    case UART_IER_DLM:
        return dlab ? u->dlm : u->ier;
    case UART_IIR_FCR:
        return IIR_NO_INT | ((u->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0);
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        return LSR_THRE | LSR_TEMT | (u->rx_full ? LSR_DR : 0);
    case UART_MSR:
        return modem_status(u);
    case UART_SCR:
        return u->scr;
    default:
        return 0xff;
    }
}

void uart_write(struct uart *u, unsigned reg, uint8_t value)
{
    bool dlab = u->lcr & LCR_DLAB;
    switch (reg) {
    case UART_RBR_THR_DLL:
        if (dlab)
            u->dll = value;
        else
            transmit(u, value);
        break;
    case UART_IER_DLM:
        if (dlab)
            u->dlm = value;
        else
            u->ier = value & IER_MASK;
        break;
    case UART_IIR_FCR:
        u->fcr = value & FCR_KEPT;
        break;
    case UART_LCR:
        u->lcr = value;
        break;
    case UART_MCR:
        u->mcr = value & MCR_MASK;
        break;
    case UART_SCR:
        u->scr = value;
        break;
    default: /* LSR and MSR are read-only */
        break;
    }
}
