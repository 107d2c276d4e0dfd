/* Switching the machine off, with a status where an emulator can take one. */
#ifndef KEEL_POWEROFF_H
#define KEEL_POWEROFF_H

#include <stdint.h>

/* Hands status to QEMU's isa-debug-exit device (port 0xf4: QEMU exits with
 * (status << 1) | 1) and asks Bochs to shut down (port 0x8900), then halts
 * every CPU if the machine is still on. */
__attribute__((noreturn)) void machine_poweroff(uint8_t status);

#endif
