/* phys_reader backed by the core's direct map: a range is readable only if
 * every page of it is mapped. */
#ifndef KEEL_PHYSMEM_READER_H
#define KEEL_PHYSMEM_READER_H

#include "phys_reader.h"

extern const struct phys_reader early_phys_reader;  /* before the core's tables: 0-4 GiB */
extern const struct phys_reader direct_phys_reader; /* after: what the direct map holds */

#endif
