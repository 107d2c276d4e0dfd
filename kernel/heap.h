/* The core's small heap: power-of-two size classes up to 2 KiB carved from
 * frames, larger requests served as whole frames. */
#ifndef KEEL_HEAP_H
#define KEEL_HEAP_H

#include <stddef.h>

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

#endif
