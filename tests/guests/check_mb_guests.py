#!/usr/bin/env python3
"""Check the SMP and interrupt test guests without Keel (make mb-guests-check).

Static: in every guest that starts APs, the real-mode trampoline (the bytes
from ``trampoline`` to ``trampoline_end`` in the NASM listing) fits in the
page at 0x8000 and is position-independent: decoded with ndisasm, its only
memory operand is the LGDT's, an offset inside the trampoline (reached
through CS = the SIPI vector << 8), and it leaves through a far jump to
``ap_entry32`` in the image.

Bare QEMU: the -DBARE_QEMU builds (build/mb-guests/bare/) boot as QEMU's
``-kernel``; SeaBIOS leaves ACPI tables, the PM timer, fw_cfg, the PIC, PIT,
IOAPIC and local APICs of QEMU's "pc" machine, which is the platform the
VMM imitates. Each run must print its lines and end through isa-debug-exit
with status 0. What QEMU 7.2's TCG lacks (the TSC-deadline timer, x2APIC,
re-enabling a disabled APIC) the guests skip with a note. This checks the
guests, not Keel. Writes build/test-results/mb-guests.txt.
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "boot"))
import harness  # noqa: E402

GUEST_DIR = Path(__file__).resolve().parent
LOAD_ADDR = 0x100000
TRAMPOLINE_ADDR = 0x8000
PAGE = 4096
NEVER = re.compile(r"(?!)")
FAIL = re.compile(r"FAIL")
TIMEOUT = 120

# (name, guest, -smp, command line, extra QEMU arguments, lines expected)
RUNS = [
    ("smp-1", "mb_smp", 1, "mb_smp", [],
     [r"mb_smp: cpu 0 apic id 0", r"mb_smp: 1 of 1 CPUs started",
      r"mb_smp: one CPU: INIT/SIPI to all excluding self started nothing"]),
    ("smp-2", "mb_smp", 2, "mb_smp", [],
     [r"mb_smp: cpu 1 apic id 1", r"mb_smp: 2 of 2 CPUs started", r"mb_smp: cross-vCPU IPIs ok"]),
    ("smp-4", "mb_smp", 4, "mb_smp", [],
     [r"mb_smp: cpu 3 apic id 3", r"mb_smp: 4 of 4 CPUs started", r"mb_smp: cross-vCPU IPIs ok"]),
    ("lapic", "mb_lapic", 1, "mb_lapic", [],
     [r"mb_lapic: one-shot timer ok", r"mb_lapic: periodic timer ok", r"mb_lapic: self-IPI ok",
      r"mb_lapic: TPR masking ok", r"mb_lapic: all checks passed"]),
    ("pit", "mb_pit", 1, "mb_pit", [],
     [r"mb_pit: PIT through the PIC ok", r"mb_pit: IOAPIC version 0x20 with 24 pins ok",
      r"mb_pit: PIT through the IOAPIC ok"]),
    ("idle", "mb_idle", 1, "mb_idle", [], [r"mb_idle: \d+ ticks while idle in HLT"]),
    ("ticker", "mb_ticker", 1, "mb_ticker", [], [r"mb_ticker: \d+ ticks in 1000 ms"]),
    ("spin-2", "mb_spin", 2, "mb_spin ms=500", [],
     [r"mb_spin: cpu 0 \d+ iterations in 500 ms", r"mb_spin: cpu 1 \d+ iterations in 500 ms"]),
    ("ipibench-icount", "mb_ipibench", 2, "mb_ipibench",
     ["-icount", "shift=0,sleep=off", "-rtc", "clock=vm"],
     [r"bench-ipi: one-way \d+, round-trip \d+", r"bench-timer: "]),
]


def listing_labels(listing: str) -> dict:
    """Image offsets of the labels of a ``nasm -f bin -l`` listing: a label
    alone on its line takes the offset of the next line that has one (the
    last expansion of a macro wins over its definition's text)."""
    labels, pending = {}, []
    for line in listing.splitlines():
        offset = re.match(r"\s*\d+\s+([0-9A-F]{8})\s", line)
        if offset:
            for label in pending:
                labels[label] = int(offset.group(1), 16)
            pending = []
        label = re.match(r"\s*\d+\s+(?:[0-9A-F]{8}\s+\S+\s+)?(?:<\d+>\s+)?(\w+):", line)
        if label:
            if offset:
                labels[label.group(1)] = int(offset.group(1), 16)
            else:
                pending.append(label.group(1))
    return labels


def check_trampoline(guest: str) -> str:
    """Return what is wrong with the guest's trampoline, or ''."""
    with tempfile.TemporaryDirectory() as tmp:
        image, lst = Path(tmp) / "g.bin", Path(tmp) / "g.lst"
        subprocess.run(["nasm", "-f", "bin", "-Werror", f"-I{GUEST_DIR}/", "-o", str(image),
                        "-l", str(lst), str(GUEST_DIR / f"{guest}.asm")], check=True)
        labels = listing_labels(lst.read_text())
        data = image.read_bytes()
    start, end = labels.get("trampoline"), labels.get("trampoline_end")
    entry = labels.get("ap_entry32")
    if None in (start, end, entry):
        return "no trampoline/trampoline_end/ap_entry32 labels in the listing"
    size = end - start
    if not 0 < size <= PAGE or TRAMPOLINE_ADDR % PAGE or TRAMPOLINE_ADDR + PAGE > 0x100000:
        return f"trampoline of {size} bytes does not fit the page at {TRAMPOLINE_ADDR:#x}"
    code = subprocess.run(["ndisasm", "-b16", "-"], input=data[start:end], check=True,
                          capture_output=True).stdout.decode()
    far_jump = re.search(r"jmp dword 0x8:0x([0-9a-f]+)", code)
    if far_jump is None or int(far_jump.group(1), 16) != LOAD_ADDR + entry:
        return f"the trampoline does not end with a far jump to ap_entry32:\n{code}"
    operands = re.findall(r"\[([^\]]*)\]", code.split(far_jump.group(0))[0])
    if len(operands) != 1 or not 0 <= int(operands[0], 16) < size or "lgdt" not in code:
        return f"the trampoline's memory operands are not one LGDT inside it: {operands}"
    gdt_desc = data[start + int(operands[0], 16):]
    base = int.from_bytes(gdt_desc[2:6], "little")
    if base != LOAD_ADDR + labels.get("gdt", -1):
        return f"the trampoline's GDT base {base:#x} is not the image's gdt"
    return ""


def run_bare(build: Path, logs: Path, run) -> str:
    """Boot one bare guest under QEMU; return what is wrong, or ''."""
    name, guest, smp, cmdline, extra, expected = run
    log = logs / f"mb-bare-{name}.log"
    argv = harness.qemu_argv(log, smp=smp, memory="64M", kernel=build / "mb-guests" / "bare" /
                             f"{guest}.bin", append=cmdline.encode()) + extra
    result = harness.run_until(argv, log, logs / f"mb-bare-{name}.out", done=NEVER, fail=FAIL,
                               timeout=TIMEOUT)
    if result.status != "exited":
        return f"{result.status}: {harness.tail_hint(result.text)}"
    for pattern in expected:
        if re.search(pattern, result.text) is None:
            return f"no line matching /{pattern}/: {harness.tail_hint(result.text)}"
    if result.exit_code != 1:  # isa-debug-exit: (status << 1) | 1
        return f"QEMU exited with {result.exit_code}, not 1 (status 0)"
    return ""


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build", type=Path)
    args = parser.parse_args(argv)
    logs, results = args.build_dir / "test-logs", args.build_dir / "test-results"
    logs.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    lines = []
    for guest in ("mb_smp", "mb_spin", "mb_ipibench"):
        problem = check_trampoline(guest)
        lines.append(f"FAIL mb-guests.trampoline-{guest}: {problem}" if problem
                     else f"PASS mb-guests.trampoline-{guest}")
        print(lines[-1], flush=True)
    for run in RUNS:
        problem = run_bare(args.build_dir, logs, run)
        lines.append(f"FAIL mb-guests.bare-{run[0]}: {problem}" if problem
                     else f"PASS mb-guests.bare-{run[0]}")
        print(lines[-1], flush=True)
    (results / "mb-guests.txt").write_text("".join(line + "\n" for line in lines))
    return 1 if any(line.startswith("FAIL") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
