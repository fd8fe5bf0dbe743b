#!/usr/bin/python3
"""Executed instructions of bare-metal Cortex-M firmware, counted under QEMU.

    scripts/mcu_icount.py FIRMWARE.elf BOARD [PLUGIN] [--timeout S] [--json]

BOARD is a qemu-system-arm machine: mps2-an386 (Cortex-M4) or mps3-an547 (Cortex-M55), or
any other M-profile board the firmware is linked for. PLUGIN is the counting plugin
(tools/qemu_icount); by default $OUTPOST_QEMU_ICOUNT, else the first of
build/{release,debug,asan}/tools/qemu_icount/libqemu_icount.so that exists.

The firmware must define the functions outpost_mcu_mark_begin and outpost_mcu_mark_end (not
inlined, symbols not stripped), call them around each inference, and end with semihosting
SYS_EXIT, reason ADP_Stopped_ApplicationExit (0x20026) on success. Every run of the code between
the two calls is one window (docs/mcu-instruction-counting.md).

Prints the plugin's report on stdout, one `key value...` line each:
    total N          instructions of the whole run
    begin A, end A   the markers' addresses (hexadecimal)
    windows K        number of windows
    in_windows N     instructions inside the windows, summed
    window I N       instructions of window I (1-based)
or, with --json, the same as one JSON object. Whatever the firmware writes through semihosting
goes to stderr.

Fails (exit status 1, with the reason on stderr) when a marker is missing from the ELF, when the
firmware exits with another status than 0 or does not exit within --timeout seconds, when no
window was closed, or when the windows do not pair up (a begin inside a window, an end outside
one, or an exit inside one).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

MARKERS = ("outpost_mcu_mark_begin", "outpost_mcu_mark_end")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Failure(Exception):
    pass


def find_plugin():
    env = os.environ.get("OUTPOST_QEMU_ICOUNT")
    if env:
        return env
    for preset in ("release", "debug", "asan"):
        path = os.path.join(ROOT, "build", preset, "tools", "qemu_icount", "libqemu_icount.so")
        if os.path.exists(path):
            return path
    raise Failure("no counting plugin given and none built: build the target qemu_icount "
                  "(cmake --build --preset release --target qemu_icount) or pass its path")


def marker_addresses(elf, nm):
    if shutil.which(nm) is None:
        raise Failure(f"{nm} not found (Debian: apt-get install binutils-arm-none-eabi)")
    result = subprocess.run([nm, elf], capture_output=True, text=True)
    if result.returncode != 0:
        raise Failure(f"{nm} {elf} failed: {result.stderr.strip()}")
    found = {}
    for line in result.stdout.splitlines():
        fields = line.split()
        # Defined symbols: "ADDRESS TYPE NAME". A marker must be code (T/t).
        if len(fields) == 3 and fields[2] in MARKERS and fields[1] in ("T", "t"):
            found[fields[2]] = int(fields[0], 16)
    missing = [name for name in MARKERS if name not in found]
    if missing:
        raise Failure(f"{elf} has no function {' or '.join(missing)}: the firmware must define "
                      "both markers, not inlined, and keep its symbols")
    return found[MARKERS[0]], found[MARKERS[1]]


def qemu_opt(value):
    # QEMU option values escape a comma by doubling it.
    return value.replace(",", ",,")


def parse_report(text):
    report = {"windows_list": []}
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "window" and len(fields) == 3:
            report["windows_list"].append(int(fields[2]))
        elif len(fields) == 2 and fields[0] in ("begin", "end"):
            report[fields[0]] = int(fields[1], 16)
        elif len(fields) == 2:
            report[fields[0]] = int(fields[1])
        else:
            raise Failure(f"unexpected line in the plugin's report: {line!r}")
    return report


def run(args):
    if not os.path.isfile(args.elf):
        raise Failure(f"no such firmware: {args.elf}")
    plugin = args.plugin or find_plugin()
    if not os.path.isfile(plugin):
        raise Failure(f"no such plugin: {plugin}")
    if shutil.which(args.qemu) is None:
        raise Failure(f"{args.qemu} not found (Debian: apt-get install qemu-system-arm)")
    begin, end = marker_addresses(args.elf, args.nm)

    with tempfile.TemporaryDirectory(prefix="mcu_icount.") as tmp:
        out = os.path.join(tmp, "counts.txt")
        plugin_arg = ",".join([qemu_opt(os.path.abspath(plugin)), f"begin={begin:#x}",
                               f"end={end:#x}", "out=" + qemu_opt(out)])
        cmd = [args.qemu, "-M", args.board, "-nographic", "-monitor", "none", "-serial", "none",
               "-semihosting-config", "enable=on,target=native",
               "-kernel", args.elf, "-plugin", plugin_arg]
        try:
            # Guest output (semihosting) and QEMU's messages go to stderr; stdout is the report.
            status = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=sys.stderr,
                                    timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            raise Failure(f"the firmware did not exit within {args.timeout} s "
                          "(it must end with semihosting SYS_EXIT)")
        if status != 0:
            raise Failure(f"{args.board}: the firmware exited with status {status} "
                          "(semihosting SYS_EXIT with a reason other than "
                          "ADP_Stopped_ApplicationExit, a QEMU error, or a signal)\n"
                          f"command: {' '.join(cmd)}")
        text = open(out).read() if os.path.exists(out) else ""
    report = parse_report(text)
    if "total" not in report:
        raise Failure("the plugin wrote no report (QEMU did not exit normally)")
    if report.get("open_window"):
        raise Failure(f"the firmware exited inside a window ({report['open_window']} "
                      "instructions after outpost_mcu_mark_begin without its end)")
    if report.get("unmatched_end") or report.get("repeated_begin"):
        raise Failure("the markers do not pair up: "
                      f"{report.get('repeated_begin', 0)} begin(s) inside a window, "
                      f"{report.get('unmatched_end', 0)} end(s) outside one")
    if report.get("windows", 0) == 0:
        raise Failure("outpost_mcu_mark_begin/end were never reached: no window counted")
    return report, text


def main():
    parser = argparse.ArgumentParser(
        description="Count the instructions bare-metal Cortex-M firmware executes under QEMU, "
                    "in total and between its markers.")
    parser.add_argument("elf", help="firmware ELF with outpost_mcu_mark_begin/end")
    parser.add_argument("board", help="qemu-system-arm machine (mps2-an386, mps3-an547, ...)")
    parser.add_argument("plugin", nargs="?", help="libqemu_icount.so (default: see above)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds (default 600)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--qemu", default="qemu-system-arm")
    parser.add_argument("--nm", default="arm-none-eabi-nm")
    args = parser.parse_args()
    try:
        report, text = run(args)
    except Failure as e:
        print(f"mcu_icount: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"board": args.board, "total": report["total"],
                          "windows": report["windows"], "in_windows": report["in_windows"],
                          "window_instructions": report["windows_list"]}))
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
