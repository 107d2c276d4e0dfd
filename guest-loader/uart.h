/*
 * A 16550A UART as a PC's COM1 presents it (National Semiconductor PC16550D
 * data sheet, "Registers"), enough for a guest's console output: the
 * transmitter is always empty and never interrupts, the receiver is always
 * empty except in loopback mode, where a written byte comes back (Linux's
 * probe uses this). Bytes written to THR are gathered into lines and handed
 * to emit(); the device has no interrupt line. Pure: no hypercalls.
 */
#ifndef KEEL_VMM_UART_H
#define KEEL_VMM_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_COM1_BASE 0x3f8
#define UART_REGISTERS 8
#define UART_LINE_MAX  160 /* a longer line is emitted in pieces of this size */

/* Register offsets from the base (DLAB is LCR bit 7). */
#define UART_RBR_THR_DLL 0
#define UART_IER_DLM     1
#define UART_IIR_FCR     2
#define UART_LCR         3
#define UART_MCR         4
#define UART_LSR         5
#define UART_MSR         6
#define UART_SCR         7

struct uart {
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    uint8_t rbr;  /* the byte waiting in the receiver (loopback only) */
    bool rx_full; /* rbr holds a byte: LSR.DR */
    char line[UART_LINE_MAX];
    size_t len;
    /* Called with each complete line, without its newline (len may be 0). */
    void (*emit)(void *ctx, const char *line, size_t len);
    void *ctx;
};

void uart_init(struct uart *u, void (*emit)(void *ctx, const char *line, size_t len), void *ctx);
/* reg is the offset from the base, 0..7 (others read all ones). */
uint8_t uart_read(struct uart *u, unsigned reg);
void uart_write(struct uart *u, unsigned reg, uint8_t value);
/* Emits what is gathered of an unfinished line. */
void uart_flush(struct uart *u);

#endif
