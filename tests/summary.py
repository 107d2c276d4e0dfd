#!/usr/bin/env python3
"""Sum up every test result file: build/test-results/*.txt.

Each suite writes one line per test, ``PASS <name>`` or
``FAIL <name>: <reason>``.  This prints the FAIL lines again and ends with
the line ``N passed, M failed``.  Exit status is 1 if anything failed or
if no test ran at all.

Usage: python3 tests/summary.py [RESULTS_DIR]   (default: build/test-results)
"""

import argparse
import sys
from pathlib import Path
from typing import List

REPO_ROOT = Path(__file__).resolve().parents[1]


def result_lines(results_dir: Path) -> List[str]:
    """Return the lines of all *.txt files in results_dir, by file name."""
    lines = []
    for path in sorted(results_dir.glob("*.txt")):
        lines.extend(path.read_text(errors="replace").splitlines())
    return lines


def main(argv: List[str]) -> int:
    """Print the failures and the totals; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dir", type=Path, nargs="?",
                        default=REPO_ROOT / "build" / "test-results")
    args = parser.parse_args(argv)
    lines = result_lines(args.results_dir)
    passed = sum(line.startswith("PASS ") for line in lines)
    failures = [line for line in lines if line.startswith("FAIL ")]
    for line in failures:
        print(line)
    if passed + len(failures) == 0:
        print(f"no test results in {args.results_dir}")
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
