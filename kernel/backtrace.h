/* Frame-pointer backtraces of the core (built with -fno-omit-frame-pointer). */
#ifndef KEEL_BACKTRACE_H
#define KEEL_BACKTRACE_H

#include <stdint.h>

/* Prints "backtrace:" and up to 16 return addresses starting at rip, walking
 * the RBP chain. Every frame pointer is checked to lie in the core's image or
 * direct map before it is read. Resolve with `addr2line -e build/keel.elf`. */
void backtrace_print(uint64_t rip, uint64_t rbp);

#endif
