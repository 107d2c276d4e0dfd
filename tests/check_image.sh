#!/bin/sh
# Checks that the image carries both multiboot headers where loaders look:
# multiboot1 within the first 8 KiB (4-byte aligned), multiboot2 within the
# first 32 KiB (8-byte aligned). Fails the build otherwise.
img="$1"
python3 - "$img" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read(32768)
def find(magic, limit, align):
    for off in range(0, min(limit, len(data)) - 4, align):
        if struct.unpack_from('<I', data, off)[0] == magic:
            return off
    return None
mb1 = find(0x1BADB002, 8192, 4)
mb2 = find(0xE85250D6, 32768, 8)
if mb1 is None or mb2 is None:
    sys.exit(f"check_image: {sys.argv[1]}: multiboot1 header {'missing' if mb1 is None else 'ok'}, "
             f"multiboot2 header {'missing' if mb2 is None else 'ok'}")
PY
