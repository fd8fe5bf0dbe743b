#!/usr/bin/python3
"""Check advisor/catalog/hardware.json and calibration.json (format version 1).

Standard library only. Usage:
    /usr/bin/python3 advisor/catalog/check_catalog.py [hardware.json [calibration.json]]

Checks:
  * every numeric figure is an object {value, unit, source, ...}: the source is a key of
    `sources` or null, and a null source or a null value carries a non-empty note;
  * no bare numbers outside figure objects (except the few condition fields listed below);
  * each figure's unit is one the field allows (bytes in B, power in W or mW, ...);
  * ids are unique and well formed, kinds and engine types come from fixed sets;
  * every source has an http(s) URL and a title;
  * calibration points name an existing target and one of its engines, a positive
    latency, a known precision (or a note saying why there is none) and a known source.
Prints a summary and exits 1 on the first run with errors.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
KINDS = {"sbc", "accelerator", "mcu", "server"}
ENGINE_TYPES = {"cpu", "gpu", "npu", "tpu", "vpu", "dsp"}
PRECISIONS = {"int8", "int16", "fp16", "fp32"}
POINT_KINDS = {"latency", "amortized_throughput"}

# field name -> allowed units (catalog and calibration figures)
UNITS = {
    "cores": {"count"},
    "clock_mhz": {"MHz"},
    "peak_int8": {"TOPS", "GOPS"},
    "peak_int8_dense": {"TOPS", "GOPS"},
    "ai_peak_int8": {"TOPS", "GOPS"},
    "peak_fp16": {"TOPS", "TFLOPS", "GFLOPS"},
    "peak_fp32": {"TFLOPS", "GFLOPS"},
    "derated": {"TOPS", "GOPS"},
    "measured_int8": {"TOPS", "GOPS"},
    "measured_fp32": {"TFLOPS", "GFLOPS"},
    "measured_fp32_depthwise_heavy": {"TFLOPS", "GFLOPS"},
    "factor": {"ratio"},
    "bandwidth": {"GB/s"},
    "idle_w": {"W"}, "typical_w": {"W"}, "peak_w": {"W"}, "supply_w": {"W"},
    "min_mode_w": {"W"}, "power_w": {"W"},
    "active_mw": {"mW"}, "sleep_mw": {"mW"}, "light_sleep_mw": {"mW"},
    "usd": {"USD"}, "system_usd": {"USD"},
    "throttle_c": {"degC"}, "throttle_max_c": {"degC"}, "junction_max_c": {"degC"},
    "macs": {"MACs"}, "params": {"params"}, "model_size": {"KB", "B"},
}
# bare numbers allowed only under these keys (conditions of a calibration point, not figures)
BARE_NUMBER_KEYS = {"format_version", "latency_ms", "threads", "batch", "throughput_ips", "input_shape"}


class Checker:
    def __init__(self):
        self.errors = []
        self.figures = 0
        self.sourced = 0
        self.null_source = 0
        self.null_value = 0
        self.derived = 0
        self.measured_later = 0

    def err(self, where, msg):
        self.errors.append("%s: %s" % (where, msg))

    def unit_for(self, key):
        if key.endswith("_bytes"):
            return {"B"}
        return UNITS.get(key)

    def figure(self, where, key, fig, sources):
        self.figures += 1
        for k in ("value", "unit", "source"):
            if k not in fig:
                self.err(where, "figure lacks '%s'" % k)
                return
        v, unit, src = fig["value"], fig["unit"], fig["source"]
        note = fig.get("note")
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            self.err(where, "value must be a number or null")
        allowed = self.unit_for(key)
        if allowed is None:
            self.err(where, "no unit rule for field '%s'" % key)
        elif unit not in allowed:
            self.err(where, "unit '%s' not allowed for '%s' (expected %s)" % (unit, key, "/".join(sorted(allowed))))
        if src is None:
            self.null_source += 1
            if not (isinstance(note, str) and note.strip()):
                self.err(where, "null source without a note")
        elif src not in sources:
            self.err(where, "unknown source '%s'" % src)
        else:
            self.sourced += 1
        if v is None:
            self.null_value += 1
            if not (isinstance(note, str) and note.strip()):
                self.err(where, "missing value without a note")
        if fig.get("derived"):
            self.derived += 1
            if src is None:
                self.err(where, "a derived figure must name the source of its inputs")
        if fig.get("measured_later"):
            self.measured_later += 1
            if v is not None:
                self.err(where, "measured_later figures must have a null value until measured")
        if key == "factor" and v is not None and not (0 < v <= 1):
            self.err(where, "factor must be in (0, 1]")
        if v is not None and key not in ("factor",) and v < 0:
            self.err(where, "negative figure")

    def walk(self, where, node, sources, key=None):
        """Visit every value; dicts with 'value' are figures, bare numbers are errors."""
        if isinstance(node, dict):
            if "value" in node:
                self.figure(where, key, node, sources)
                return
            for k, v in node.items():
                if k == "sources":
                    continue
                self.walk("%s.%s" % (where, k), v, sources, k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self.walk("%s[%d]" % (where, i), v, sources, key)
        elif isinstance(node, bool) or node is None or isinstance(node, str):
            return
        elif isinstance(node, (int, float)):
            if key not in BARE_NUMBER_KEYS:
                self.err(where, "bare number %r outside a figure object" % node)


def check_sources(c, sources):
    if not isinstance(sources, dict) or not sources:
        c.err("sources", "missing or empty")
        return
    for sid, s in sources.items():
        if not ID_RE.match(sid):
            c.err("sources." + sid, "bad source id")
        if not isinstance(s.get("url"), str) or not re.match(r"^https?://", s["url"]):
            c.err("sources." + sid, "url must be http(s)")
        if not (isinstance(s.get("title"), str) and s["title"].strip()):
            c.err("sources." + sid, "title missing")


def check_catalog(c, cat):
    if cat.get("format") != "outpost-hardware-catalog":
        c.err("hardware", "format must be 'outpost-hardware-catalog'")
    if cat.get("format_version") != 1:
        c.err("hardware", "format_version must be 1")
    sources = cat.get("sources", {})
    check_sources(c, sources)
    targets = cat.get("targets")
    if not isinstance(targets, list) or not targets:
        c.err("hardware", "targets missing")
        return {}
    by_id = {}
    for t in targets:
        tid = t.get("id", "?")
        w = "targets[%s]" % tid
        if not ID_RE.match(tid):
            c.err(w, "bad id")
        if tid in by_id:
            c.err(w, "duplicate id")
        by_id[tid] = t
        for k in ("name", "kind", "engines", "memory", "power", "cost", "thermal"):
            if k not in t:
                c.err(w, "missing '%s'" % k)
        if t.get("kind") not in KINDS:
            c.err(w, "kind must be one of %s" % sorted(KINDS))
        engines = t.get("engines") or []
        if not engines:
            c.err(w, "no engines")
        for i, e in enumerate(engines):
            we = "%s.engines[%d]" % (w, i)
            if e.get("type") not in ENGINE_TYPES:
                c.err(we, "engine type must be one of %s" % sorted(ENGINE_TYPES))
            for k in ("peak_int8", "peak_fp32", "sustained", "precisions", "runtimes"):
                if k not in e:
                    c.err(we, "missing '%s'" % k)
            sus = e.get("sustained") or {}
            if not (isinstance(sus.get("reason"), str) and sus["reason"].strip()):
                c.err(we, "sustained needs a reason")
            for p in e.get("precisions", []):
                if p not in PRECISIONS:
                    c.err(we, "unknown precision '%s'" % p)
            rs = e.get("runtimes_source")
            if rs is not None and rs not in sources:
                c.err(we, "unknown runtimes_source '%s'" % rs)
        power = t.get("power") or {}
        needed = ("clock_mhz", "active_mw", "sleep_mw") if t.get("kind") == "mcu" else ("idle_w", "typical_w", "peak_w")
        for k in needed:
            if k not in power:
                c.err(w + ".power", "missing '%s'" % k)
        if "usd" not in (t.get("cost") or {}):
            c.err(w + ".cost", "missing 'usd'")
        if "ram_bytes" not in (t.get("memory") or {}):
            c.err(w + ".memory", "missing 'ram_bytes'")
        c.walk(w, t, sources)
    for t in targets:
        h = t.get("host_target")
        if h is not None and h not in by_id:
            c.err("targets[%s]" % t.get("id"), "host_target '%s' not in catalog" % h)
    return by_id


def check_calibration(c, cal, by_id, sources):
    if cal.get("format") != "outpost-calibration-points":
        c.err("calibration", "format must be 'outpost-calibration-points'")
    if cal.get("format_version") != 1:
        c.err("calibration", "format_version must be 1")
    seen = set()
    points = cal.get("points") or []
    if not points:
        c.err("calibration", "no points")
    for p in points:
        pid = p.get("id", "?")
        w = "points[%s]" % pid
        if not ID_RE.match(pid):
            c.err(w, "bad id")
        if pid in seen:
            c.err(w, "duplicate id")
        seen.add(pid)
        t = by_id.get(p.get("target"))
        if t is None:
            c.err(w, "target '%s' not in catalog" % p.get("target"))
        else:
            types = {e.get("type") for e in t.get("engines", [])}
            if p.get("engine") not in types:
                c.err(w, "engine '%s' not among %s's engines %s" % (p.get("engine"), t["id"], sorted(types)))
        if p.get("kind") not in POINT_KINDS:
            c.err(w, "kind must be one of %s" % sorted(POINT_KINDS))
        ms = p.get("latency_ms")
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or ms <= 0:
            c.err(w, "latency_ms must be a positive number")
        prec = p.get("precision")
        if prec is None:
            if not p.get("precision_note"):
                c.err(w, "null precision needs precision_note")
        elif prec not in PRECISIONS:
            c.err(w, "unknown precision '%s'" % prec)
        for k in ("model", "runtime", "source"):
            if not p.get(k):
                c.err(w, "missing '%s'" % k)
        if p.get("source") and p["source"] not in sources:
            c.err(w, "unknown source '%s'" % p["source"])
        shape = p.get("input_shape")
        if shape is None:
            if not p.get("input_shape_note"):
                c.err(w, "null input_shape needs input_shape_note")
        elif not (isinstance(shape, list) and all(isinstance(x, int) and x > 0 for x in shape)):
            c.err(w, "input_shape must be a list of positive integers")
        iss = p.get("input_shape_source")
        if iss is not None and iss not in sources:
            c.err(w, "unknown input_shape_source '%s'" % iss)
        th = p.get("threads")
        if th is not None and (isinstance(th, bool) or not isinstance(th, int) or th < 1):
            c.err(w, "threads must be a positive integer or null")
        for k in ("macs", "params"):
            if k not in p:
                c.err(w, "missing '%s' (use a null figure with a note when the source does not state it)" % k)
        c.walk(w, p, sources)
    return len(points)


def main(argv):
    hw_path = argv[1] if len(argv) > 1 else os.path.join(HERE, "hardware.json")
    cal_path = argv[2] if len(argv) > 2 else os.path.join(HERE, "calibration.json")
    c = Checker()
    try:
        cat = json.load(open(hw_path, encoding="utf-8"))
        cal = json.load(open(cal_path, encoding="utf-8"))
    except (OSError, ValueError) as e:
        print("error: %s" % e)
        return 1
    by_id = check_catalog(c, cat)
    cat_figs, cat_src, cat_null = c.figures, c.sourced, c.null_source
    npoints = check_calibration(c, cal, by_id, cat.get("sources", {}))
    pts = cal.get("points") or []
    pts_src = sum(1 for p in pts if p.get("source") in cat.get("sources", {}))
    print("catalog: %d targets, %d sources, %d figures (%d with a source, %d with source null)"
          % (len(by_id), len(cat.get("sources", {})), cat_figs, cat_src, cat_null))
    print("calibration: %d points (%d with a source); %d model figures (MACs/params/size)"
          % (npoints, pts_src, c.figures - cat_figs))
    print("all figures: %d, sourced %d, source null %d, value null (missing) %d, derived %d, measured later %d"
          % (c.figures, c.sourced, c.null_source, c.null_value, c.derived, c.measured_later))
    if c.errors:
        print("%d error(s):" % len(c.errors))
        for e in c.errors:
            print("  " + e)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
