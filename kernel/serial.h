/* 16550-compatible UART driver for the core's console. */
#ifndef KEEL_SERIAL_H
#define KEEL_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8

struct serial_info {
    uint16_t port;
    bool present;        /* scratch register answered */
    unsigned fifo_depth; /* 1 (no FIFO), 16 (16550A) or 64 (16750) */
};

/* Programs the UART at port for 115200 8N1 and detects its FIFO. */
struct serial_info serial_init(uint16_t port);

/* Writes len bytes, turning "\n" into "\r\n". Never waits without bound. */
void serial_write(const char *s, size_t len);

/* Takes one received byte if there is one (never waits). */
bool serial_read_byte(char *c);

/* Waits (boundedly) until the UART has shifted out every byte, e.g. before
 * the machine powers off. */
void serial_flush(void);

#endif
