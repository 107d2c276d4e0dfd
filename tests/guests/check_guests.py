#!/usr/bin/env python3
"""Run the test guests without Keel: on bare QEMU and on the platform model.

Usage: python3 tests/guests/check_guests.py [--build-dir build/guests]
                                            [--results build/test-results]

Bare QEMU (TCG, the image as its -bios) runs the -DBARE_METAL builds in
<build-dir>/bare/: mode switches, IDTs, the checks that need no hypervisor,
the triple fault, the bench loops. mock_platform.py (needs Debian's
python3-unicorn) runs the real images with every check, and once per
--break feature to see that the matching check fails. Results go to
<results>/guests.txt as ``PASS guests.<case>`` / ``FAIL guests.<case>:
<reason>`` lines (tests/summary.py sums them up); logs to <build-dir>/logs/.
Exit status 1 if a case failed.
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
QEMU = ["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-cpu", "max",
        "-display", "none", "-no-reboot", "-m", "64M",
        "-global", "isa-debugcon.iobase=0xe9",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
TIMEOUT = 120
SELFTEST_CHECKS = 31
HV_ONLY_CHECKS = 23     # HV_CHECKs in selftest.asm: skipped by -DBARE_METAL

# mock_platform.py --break FEATURE -> the result selftest must report.
BREAK_RESULTS = {
    "port-id": 1, "str-out": 3, "str-in": 4, "cpuid": 10, "alias": 12,
    "inject-late": 16, "rdmsr": 18, "irq-ignore-if": 19, "irq-vector": 0x1041,
    "mmio-id": 21, "mmio-1": 22, "mmio-2": 23, "mmio-4": 24, "mmio-other": 28,
    "beyond-alias": 29, "beyond": 30, "sse": 31, "gpr": 31, "mxcsr": 31, "x87": 31,
}


class Results:
    def __init__(self):
        self.lines = []

    def record(self, case, reason=None):
        line = "PASS guests.%s" % case if reason is None else \
            "FAIL guests.%s: %s" % (case, reason)
        print(line)
        self.lines.append(line)


def run_qemu(image, log, extra=()):
    """Run image as QEMU's firmware; return (exit status, debug-port log)."""
    log.unlink(missing_ok=True)
    cmd = QEMU + ["-bios", str(image), "-debugcon", "file:%s" % log] + list(extra)
    try:
        status = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                timeout=TIMEOUT).returncode
    except subprocess.TimeoutExpired:
        status = "timeout"
    text = log.read_text(errors="replace") if log.exists() else ""
    return status, text


def qemu_cases(build, logs, results):
    bare = build / "bare"
    # isa-debug-exit: the guest writes 0 (pass) or 1 (fail) -> status 1 or 3.
    status, text = run_qemu(bare / "selftest.bin", logs / "qemu-selftest.log")
    skips = len(re.findall(r"^skip check \d+", text, re.M))
    lines = text.splitlines()
    if status != 1 or "pass" not in lines:
        results.record("qemu.selftest", "status %s, log ends %r" % (status, lines[-2:]))
    elif [m for m in ("real", "protected", "long") if m not in lines]:
        results.record("qemu.selftest", "a mode-switch line is missing")
    elif skips != HV_ONLY_CHECKS:
        results.record("qemu.selftest", "%d checks skipped, not %d" % (skips, HV_ONLY_CHECKS))
    else:
        results.record("qemu.selftest")

    # Without -DBARE_METAL, bare QEMU must fail check 1: the checks are not vacuous.
    status, text = run_qemu(build / "selftest.bin", logs / "qemu-selftest-full.log")
    if status == 3 and re.search(r"^FAIL: result 0x1, check 1 ", text, re.M):
        results.record("qemu.selftest_needs_keel")
    else:
        results.record("qemu.selftest_needs_keel", "status %s, log %r" % (status, text[-200:]))

    qlog = logs / "qemu-triple_fault.int.log"
    status, text = run_qemu(bare / "triple_fault.bin", logs / "qemu-triple_fault.log",
                            ["-d", "int,cpu_reset", "-D", str(qlog)])
    qtext = qlog.read_text(errors="replace") if qlog.exists() else ""
    if status == 0 and "triple fault now" in text and "no triple fault" not in text \
            and "Triple fault" in qtext:
        results.record("qemu.triple_fault")
    else:
        results.record("qemu.triple_fault", "status %s, log %r" % (status, text[-200:]))

    # -icount: the TSC counts instructions, so the loops' costs are exact.
    status, text = run_qemu(bare / "bench.bin", logs / "qemu-bench.log",
                            ["-icount", "shift=0,sleep=off", "-rtc", "clock=vm"])
    figures = dict(re.findall(r"^bench: (\w+).* (\d+) ticks per iteration$", text, re.M))
    want = {"cpuid": "4", "out": "3", "empty": "3"}     # instructions per iteration
    if status == 1 and figures == want:
        results.record("qemu.bench")
    else:
        results.record("qemu.bench", "status %s, figures %s, not %s" % (status, figures, want))


def mock_python():
    """A Python that has the unicorn module (Debian's is for /usr/bin/python3)."""
    for python in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(python) and subprocess.run(
                [python, "-c", "import unicorn"], capture_output=True).returncode == 0:
            return python
    return None


def run_mock(python, image, log, breaks=()):
    cmd = [python, str(HERE / "mock_platform.py"), str(image)]
    for feature in breaks:
        cmd += ["--break", feature]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT).stdout
    except subprocess.TimeoutExpired:
        out = "mock: timed out\n"
    log.write_text(out)
    match = re.search(r"^mock: end=(\S+) result=(\S+) checkpoint=(\S+) exits=\d+ bench=(\S+)$",
                      out, re.M)
    return match.groups() if match else ("no-summary", None, None, None), out


def mock_cases(build, logs, results):
    python = mock_python()
    if python is None:
        print("SKIP guests.mock.*: no python3 with the unicorn module "
              "(apt-get install python3-unicorn)")
        return
    (end, result, checkpoint, _), out = run_mock(python, build / "selftest.bin",
                                                 logs / "mock-selftest.log")
    lines = out.splitlines()
    if (end, result, checkpoint) == ("result", "0", str(SELFTEST_CHECKS)) \
            and all(m in lines for m in ("real", "protected", "long", "pass")):
        results.record("mock.selftest")
    else:
        results.record("mock.selftest", "end %s, result %s, checkpoint %s" % (end, result, checkpoint))

    (end, result, checkpoint, _), out = run_mock(python, build / "triple_fault.bin",
                                                 logs / "mock-triple_fault.log")
    if (end, result, checkpoint) == ("shutdown", "None", "1") and "triple fault now" in out:
        results.record("mock.triple_fault")
    else:
        results.record("mock.triple_fault", "end %s, result %s, checkpoint %s" % (end, result, checkpoint))

    (end, result, checkpoint, bench), _ = run_mock(python, build / "bench.bin",
                                                   logs / "mock-bench.log")
    ports = sorted(p.split(":")[0] for p in (bench or "").split(","))
    if (end, result) == ("result", "0") and ports == ["0x518", "0x519", "0x51a"]:
        results.record("mock.bench")
    else:
        results.record("mock.bench", "end %s, result %s, bench %s" % (end, result, bench))

    for feature, want in BREAK_RESULTS.items():
        (end, result, checkpoint, _), _ = run_mock(python, build / "selftest.bin",
                                                   logs / ("mock-break-%s.log" % feature),
                                                   [feature])
        if (end, result) == ("result", str(want)):
            results.record("mock.break_%s" % feature.replace("-", "_"))
        else:
            results.record("mock.break_%s" % feature.replace("-", "_"),
                           "end %s, result %s, not %d" % (end, result, want))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=Path("build/guests"))
    parser.add_argument("--results", type=Path, default=Path("build/test-results"))
    args = parser.parse_args()
    logs = args.build_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    results = Results()
    qemu_cases(args.build_dir, logs, results)
    mock_cases(args.build_dir, logs, results)
    (args.results / "guests.txt").write_text("".join(l + "\n" for l in results.lines))
    failed = sum(l.startswith("FAIL") for l in results.lines)
    print("guests: %d passed, %d failed" % (len(results.lines) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
