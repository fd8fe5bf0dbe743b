#!/usr/bin/python3
"""The instruction-counting plugin's test (ctest label `mcu`): counts exactly what the test
firmware's assembly executes (tests/mcu_icount/firmware.c), the same on every run and board,
and scripts/mcu_icount.py fails clearly on a failing or unmarked firmware."""

import argparse
import os
import subprocess
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--script", required=True, help="scripts/mcu_icount.py")
parser.add_argument("--plugin", required=True)
parser.add_argument("--firmware", required=True)
parser.add_argument("--failing-firmware", required=True, help="exits with a failure reason")
parser.add_argument("--unmarked-firmware", required=True, help="without outpost_mcu_mark_end")
parser.add_argument("--n1", type=int, required=True, help="WINDOW1_ITERATIONS")
parser.add_argument("--n2", type=int, required=True, help="WINDOW2_ITERATIONS")
parser.add_argument("--nm", required=True)
parser.add_argument("--qemu", required=True)
args = parser.parse_args()

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def count(elf, board):
    cmd = [sys.executable, args.script, elf, board, args.plugin, "--nm", args.nm,
           "--qemu", args.qemu, "--timeout", "60"]
    return subprocess.run(cmd, capture_output=True, text=True)


def parse(text):
    report = {"window": []}
    for line in text.splitlines():
        fields = line.split()
        if fields[0] == "window":
            report["window"].append(int(fields[2]))
        elif fields[0] not in ("begin", "end"):
            report[fields[0]] = int(fields[1])
    return report


# What the firmware's assembly executes (the counts are in its comments): the marker's bx lr
# and the closing bl in every window; the loop's subs/bne per iteration; the SVC and its
# handler's bx lr; the trapping division, the 4-instruction fault handler, an add and a
# 3-instruction IT block.
expected_windows = [2 * args.n1 + 2, 2 * args.n2 + 4, 11]
outside = 23
expected_total = sum(expected_windows) + outside

runs = {}
for name, board in (("mps2-an386 run 1", "mps2-an386"), ("mps2-an386 run 2", "mps2-an386"),
                    ("mps3-an547", "mps3-an547")):
    result = count(args.firmware, board)
    check(result.returncode == 0, f"{name}: mcu_icount.py exits 0 ({result.stderr.strip()})")
    if result.returncode != 0:
        continue
    runs[name] = result.stdout
    report = parse(result.stdout)
    print(result.stdout.rstrip())
    check(report["window"] == expected_windows,
          f"{name}: windows {report['window']} == expected {expected_windows}")
    check(report.get("windows") == 3 and report.get("in_windows") == sum(expected_windows),
          f"{name}: windows 3, in_windows {sum(expected_windows)}")
    check(report.get("total") == expected_total,
          f"{name}: total {report.get('total')} == expected {expected_total}")

outputs = set(runs.values())
check(len(runs) == 3 and len(outputs) == 1,
      "two runs on mps2-an386 and one on mps3-an547 give identical reports")

result = count(args.failing_firmware, "mps2-an386")
check(result.returncode == 1 and "exited with status 1" in result.stderr,
      "a firmware exiting with a failure reason fails: " + result.stderr.strip().splitlines()[0]
      if result.stderr.strip() else "a firmware exiting with a failure reason fails")

result = count(args.unmarked_firmware, "mps2-an386")
check(result.returncode == 1 and "outpost_mcu_mark_end" in result.stderr,
      "a firmware without a marker fails: " + result.stderr.strip())

# The plugin refuses arguments it does not know (QEMU then stops before running the guest).
result = subprocess.run([args.qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none",
                         "-serial", "none", "-semihosting-config", "enable=on,target=native",
                         "-kernel", args.firmware, "-plugin", args.plugin + ",bogus=1"],
                        capture_output=True, text=True, timeout=60)
check(result.returncode != 0 and "bad argument 'bogus=1'" in result.stderr,
      "the plugin refuses an unknown argument")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
