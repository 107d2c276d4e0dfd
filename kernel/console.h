/* The core's console: where printk output goes (console= option). */
#ifndef KEEL_CONSOLE_H
#define KEEL_CONSOLE_H

#include "cmdline.h"

/* Opens the console on the chosen port and logs what was found. */
void console_init(enum console_port port);

#endif
