"""Boot an image under QEMU TCG or Bochs and watch its serial log.

The pieces here know how to start each emulator headless, how to stop it
(the whole process group, always under a hard time limit), and how to read
the serial log while the guest runs.  They know nothing about Keel's
messages: the caller passes the patterns that end a run.

Emulator facts this module relies on (see DESIGN.md section 8):

- QEMU writes COM1 straight to the file given with ``-serial file:``;
  ``-no-reboot`` turns a triple fault into an exit.
- Bochs never exits on a hung guest, and its ``term`` display library catches
  SIGTERM (it logs "sig 15 caught" and runs on), so it is stopped with
  SIGKILL after a short grace period.
- Debian's Bochs is built with its debugger, which waits at a prompt unless
  ``-rc`` feeds it ``c`` and ``quit``.
- Bochs's sound plugin aborts ("buffer overflow detected") on a machine
  without an ALSA card, so the speaker is off and the sound drivers are
  ``dummy``.
"""

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Pattern, Sequence

QEMU = "qemu-system-x86_64"
BOCHS = "bochs"
BOCHS_BIOS = Path("/usr/share/bochs/BIOS-bochs-latest")
VGA_BIOS_CANDIDATES = (
    Path("/usr/share/vgabios/vgabios.bin"),
    Path("/usr/share/bochs/VGABIOS-lgpl-latest"),
)

POLL_SECONDS = 0.2
"""How often the serial log is read while the emulator runs."""

SETTLE_SECONDS = 1.0
"""After a failure pattern, how long the guest may go on printing (a panic
report has more lines after the word PANIC)."""

KILL_GRACE_SECONDS = 2.0
"""Between SIGTERM and SIGKILL to the emulator's process group."""

SAFETY_MARGIN_SECONDS = 30
"""The ``timeout`` wrapper ends the emulator this long after the harness's
own deadline, in case the harness itself is killed without cleaning up."""

_ANSI_ESCAPE = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>78])")

_running_lock = threading.Lock()
_running: "set[subprocess.Popen]" = set()


@dataclass
class RunResult:
    """What one emulator run produced.

    status is ``done`` (the done pattern appeared), ``failed`` (a failure
    pattern appeared), ``exited`` (the emulator ended on its own before
    either) or ``timeout``.  text is the serial log with terminal escapes
    and carriage returns removed.
    """

    status: str
    seconds: float
    text: str
    exit_code: Optional[int]
    emulator_output: str


def normalize_serial(raw: bytes) -> str:
    """Return the serial log as text: ANSI escapes and CRs gone, bytes kept.

    GRUB draws its menu with escape sequences; the kernel ends lines with
    CR LF.  Undecodable bytes are replaced rather than raising.
    """
    cleaned = _ANSI_ESCAPE.sub(b"", raw).replace(b"\r", b"")
    return cleaned.decode("utf-8", errors="replace")


def tail_hint(text: str, lines: int = 4, width: int = 160) -> str:
    """Return the last non-empty lines of text, joined on one line.

    Non-printable characters are shown escaped so the hint stays one
    readable line even when the guest echoed garbage.
    """
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    shown = []
    for line in kept[-lines:]:
        printable = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
        shown.append(printable[:width])
    return " | ".join(shown) if shown else "(no output)"


def emulator_complaint(output: str) -> str:
    """Return the line of an emulator's stdout+stderr that says why it quit.

    Bochs puts its reason on the line after "Bochs is exiting with the
    following message:"; QEMU's last line is its error.  QEMU with
    ``-no-reboot`` exits silently with status 0 on a triple fault.
    """
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for index, line in enumerate(lines[:-1]):
        if "exiting with the following message" in line:
            return lines[index + 1]
    return lines[-1] if lines else "no message: a triple fault or a reset?"


def read_text(path: Path) -> str:
    """Return the normalized contents of a serial log, '' if absent."""
    try:
        return normalize_serial(path.read_bytes())
    except FileNotFoundError:
        return ""


def stop_process_group(proc: subprocess.Popen) -> None:
    """End proc and everything in its process group: TERM, then KILL."""
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def stop_all_running() -> None:
    """End every emulator this module started that is still running.

    Meant for a signal handler of the test driver: the emulators run in
    their own sessions and would outlive an interrupted driver.
    """
    with _running_lock:
        procs = list(_running)
    for proc in procs:
        stop_process_group(proc)


def _scan(text: str, done: Pattern, fail: Optional[Pattern]) -> Optional[str]:
    """Return 'done' or 'failed' if the log shows either, else None."""
    if done.search(text):
        return "done"
    if fail is not None and fail.search(text):
        return "failed"
    return None


def run_until(argv: Sequence, serial_log: Path, output_path: Path, *,
              done: Pattern, fail: Optional[Pattern], timeout: float,
              env: Optional[dict] = None, cwd: Optional[Path] = None) -> RunResult:
    """Run argv until the serial log matches done or fail, or timeout.

    The serial log is deleted first so an old run can never pass.  The
    emulator runs in a new session with stdin from /dev/null and its
    stdout+stderr in output_path, wrapped in ``timeout`` as a last resort.
    Arguments may be bytes (a command line with non-printable bytes).
    """
    serial_log.unlink(missing_ok=True)
    hard_limit = str(int(timeout) + SAFETY_MARGIN_SECONDS)
    wrapped = ["timeout", "--kill-after=5", hard_limit, *argv]
    start = time.monotonic()
    with open(output_path, "wb") as output:
        proc = subprocess.Popen(wrapped, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)
    with _running_lock:
        _running.add(proc)
    try:
        status = _watch(proc, serial_log, done, fail, start + timeout)
    finally:
        stop_process_group(proc)
        with _running_lock:
            _running.discard(proc)
    seconds = time.monotonic() - start
    exit_code = proc.returncode if status == "exited" else None
    return RunResult(status, seconds, read_text(serial_log), exit_code,
                     output_path.read_bytes().decode("utf-8", errors="replace"))


def _watch(proc: subprocess.Popen, serial_log: Path, done: Pattern,
           fail: Optional[Pattern], deadline: float) -> str:
    """Poll the log until a pattern shows, the process ends, or deadline.

    The log is read again after the process ends, so a guest that prints its
    last line and powers off still counts as done.
    """
    while True:
        exited = proc.poll() is not None
        status = _scan(read_text(serial_log), done, fail)
        if status == "failed":
            time.sleep(SETTLE_SECONDS)
        if status is not None:
            return status
        if exited:
            return "exited"
        if time.monotonic() >= deadline:
            return "timeout"
        time.sleep(POLL_SECONDS)


def qemu_argv(serial_log: Path, *, smp: int, memory: str,
              iso: Optional[Path] = None, kernel: Optional[Path] = None,
              append: Optional[bytes] = None,
              initrd: Optional[str] = None, machine: str = "pc",
              cpu: str = "max") -> list:
    """Return the QEMU TCG command line for an ISO or a ``-kernel`` boot.

    Exactly one of iso and kernel is given; append and initrd go with
    kernel; machine and cpu are QEMU's -machine and -cpu values.  isa-debug-exit on port 0xf4 lets the guest power off with a
    status.
    """
    if (iso is None) == (kernel is None):
        raise ValueError("give exactly one of iso and kernel")
    argv = [QEMU, "-machine", machine, "-accel", "tcg", "-cpu", cpu,
            "-display", "none", "-no-reboot", "-serial", f"file:{serial_log}",
            "-smp", str(smp), "-m", memory,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if iso is not None:
        return argv + ["-cdrom", str(iso)]
    argv += ["-kernel", str(kernel)]
    if append is not None:
        argv += [b"-append", append]
    if initrd is not None:
        argv += ["-initrd", initrd]
    return argv


def vga_bios() -> Path:
    """Return the first VGA BIOS image that exists on this machine."""
    for path in VGA_BIOS_CANDIDATES:
        if path.exists():
            return path
    raise FileNotFoundError("no VGA BIOS among " + ", ".join(map(str, VGA_BIOS_CANDIDATES)))


BOCHSRC_TEMPLATE = """\
# Generated by tests/boot/harness.py; headless, never waits at a prompt.
cpu: model={model}, count={cpus}, ips={ips}, reset_on_triple_fault=0
memory: guest={memory_mib}, host={memory_mib}
romimage: file={bios}
vgaromimage: file={vga_bios}
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev={serial_log}
display_library: term
clock: sync=none, time0=946684800
mouse: enabled=0
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
log: {event_log}
"""
"""Bochs configuration.  ``clock: sync=none`` makes emulated time follow the
instruction count (deterministic; ``ips`` sets how many instructions make an
emulated second).  ``panic: action=fatal`` makes Bochs exit instead of asking;
with ``reset_on_triple_fault=0`` a triple fault is such a panic.  Errors are
only reported: Bochs logs every EPT violation as an error."""

BOCHS_IPS = 50_000_000
"""Close to what Bochs reaches here, so emulated and wall time roughly agree."""


def run_bochs(iso: Path, serial_log: Path, work_prefix: Path, *, cpus: int,
              memory_mib: int, model: str, done: Pattern,
              fail: Optional[Pattern], timeout: float) -> RunResult:
    """Boot iso from the CD-ROM under Bochs until done, fail or timeout.

    Writes <work_prefix>.bochsrc, .rc (the debugger's ``c`` and ``quit``),
    .bochs.txt (Bochs's own event log) and .out (its stdout and stderr).
    Paths must not contain commas or spaces (bochsrc syntax).
    """
    bochsrc = Path(f"{work_prefix}.bochsrc")
    rc_file = Path(f"{work_prefix}.rc")
    event_log = Path(f"{work_prefix}.bochs.txt")
    bochsrc.write_text(BOCHSRC_TEMPLATE.format(
        model=model, cpus=cpus, ips=BOCHS_IPS, memory_mib=memory_mib,
        bios=BOCHS_BIOS, vga_bios=vga_bios(), iso=iso.resolve(),
        serial_log=serial_log.resolve(), event_log=event_log.resolve()))
    rc_file.write_text("c\nquit\n")
    env = dict(os.environ, TERM="xterm")
    argv = [BOCHS, "-q", "-f", str(bochsrc), "-rc", str(rc_file)]
    return run_until(argv, serial_log, Path(f"{work_prefix}.out"),
                     done=done, fail=fail, timeout=timeout, env=env)
