#!/usr/bin/env python3
"""bench/http/report.py - the table, JSON and plot data of the HTTP
benchmark, from bench/http/run's results (one JSON object per wrk run).

    report.py --in results.jsonl --out DIR --secs S --mode full|smoke --status N

Writes DIR/http.json and DIR/http.dat; prints the table (run tees it to
DIR/http.txt).  Targets are informational: a MISS changes no exit status.
"""
import argparse
import json
import os
import sys
import time

SERVERS = [("forkboard", "forkboard-server, 2 workers"),
           ("bare", "bare libevent, inline"),
           ("gunicorn", "gunicorn, 2 sync workers"),
           ("phpfpm", "nginx + PHP-FPM, 2 children")]
TASKS = [("noop", "no-op"), ("sha256-64k", "sha256, 64 KiB body"),
         ("sha256-1m", "sha256, 1 MiB body")]
SHORT = {"noop": "no-op", "sha256-64k": "sha256 64KiB", "sha256-1m": "sha256 1MiB"}
CONNS = [16, 64]
PLACEMENTS = {"unpinned": "unpinned: servers and wrk share every CPU",
              "pinned": "pinned: every server process on CPU 0, wrk on CPU 1"}
# (name, task, numerator, denominator, op, target)
RATIOS = [("noop: forkboard / bare libevent", "noop", "forkboard", "bare", ">=", 0.7),
          ("noop: forkboard / gunicorn", "noop", "forkboard", "gunicorn", ">=", 3.0),
          ("noop: forkboard / nginx+PHP-FPM", "noop", "forkboard", "phpfpm", ">=", 3.0),
          ("sha256-64KiB: forkboard / bare libevent", "sha256-64k", "forkboard", "bare", ">=", 1.2),
          ("sha256-64KiB: forkboard / gunicorn", "sha256-64k", "forkboard", "gunicorn", ">=", 2.0),
          ("sha256-64KiB: forkboard / nginx+PHP-FPM (info)", "sha256-64k", "forkboard", "phpfpm", None, None),
          ("sha256-1MiB: forkboard / bare libevent (info)", "sha256-1m", "forkboard", "bare", None, None),
          ("sha256-1MiB: forkboard / gunicorn (info)", "sha256-1m", "forkboard", "gunicorn", None, None),
          ("sha256-1MiB: forkboard / nginx+PHP-FPM (info)", "sha256-1m", "forkboard", "phpfpm", None, None)]
P99_TARGET = 10.0   # forkboard-server's p99 / p50 at 64 connections (saturated)


def si(x):
    if x is None:
        return "-"
    for div, suf in ((1e6, "M"), (1e3, "k")):
        if x >= div:
            v = x / div
            return f"{v:.3g}{suf}" if v < 100 else f"{v:.0f}{suf}"
    return f"{x:.0f}"


def ms(us):
    return "-" if us is None else f"{us / 1000:.2f}"


def verdict(v, op, target):
    if v is None or op is None:
        return ""
    ok = v >= target if op == ">=" else v <= target
    return "PASS" if ok else "MISS"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--secs", type=int, required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--status", type=int, default=0)
    ap.add_argument("--versions", default="")
    a = ap.parse_args()

    cells = {}
    with open(a.inp) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                cells[(r["placement"], r["server"], r["task"], r["conns"])] = r["wrk"]
    placements = [p for p in PLACEMENTS if any(k[0] == p for k in cells)]

    def get(p, s, t, c, key):
        w = cells.get((p, s, t, c))
        return None if w is None else w[key]

    out = []
    out.append(f"forkboard HTTP servers (issue 9): {a.mode} mode, wrk -t2 -c16/-c64, "
               f"{a.secs} s per cell, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    out.append(f"{os.cpu_count()} CPUs; same request to every server: POST /v1/tasks/noop "
               "(empty body) or /v1/tasks/sha256 (hex digest)")
    if a.versions:
        out.append(a.versions)
    result = {"forkboard_http_bench": 1, "mode": a.mode, "secs_per_cell": a.secs,
              "wrk": {"threads": 2, "connections": CONNS}, "cpus": os.cpu_count(), "versions": a.versions,
              "failures": a.status, "judged_on": "unpinned", "placements": {}}
    dat = []
    for p in placements:
        out.append("")
        out.append(PLACEMENTS[p])
        hdr = f"  {'task':<20} {'server':<30}"
        for c in CONNS:
            hdr += f" | c{c:<3} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7}"
        out.append(hdr)
        pj = {"cells": {}, "ratios": {}}
        for t, tl in TASKS:
            for s, sl in SERVERS:
                row = f"  {tl:<20} {sl:<30}"
                for c in CONNS:
                    rps, p50, p99 = (get(p, s, t, c, k) for k in ("rps", "p50_us", "p99_us"))
                    tail = f"{p99 / p50:.1f}" if p50 and p99 is not None else "-"
                    row += f" | {'':4} {si(rps):>7} {ms(p50):>7} {ms(p99):>7} {tail:>7}"
                    if rps is not None:
                        pj["cells"][f"{t}.{s}.c{c}"] = cells[(p, s, t, c)]
                out.append(row)
                tl = ""
        out.append("")
        hdr = f"  {'ratio (req/s, same run)':<56}" + "".join(f" {'c' + str(c):>12}" for c in CONNS) + "   target"
        out.append(hdr)
        for name, t, num, den, op, target in RATIOS:
            row = f"  {name:<56}"
            pj["ratios"][name] = {}
            for c in CONNS:
                n, d = get(p, num, t, c, "rps"), get(p, den, t, c, "rps")
                v = n / d if n and d else None
                vd = verdict(v, op, target)
                row += f" {('-' if v is None else f'{v:.2f}') + (' ' + vd if vd else ''):>12}"
                pj["ratios"][name][f"c{c}"] = {"value": v, "target": target, "op": op,
                                               "verdict": vd or None}
            row += f"   {op} {target}" if op else "   (info)"
            out.append(row)
        for t, tl in TASKS:
            name = f"forkboard p99/p50 at 64 connections, {tl}"
            p50, p99 = get(p, "forkboard", t, 64, "p50_us"), get(p, "forkboard", t, 64, "p99_us")
            v = p99 / p50 if p50 and p99 is not None else None
            vd = verdict(v, "<=", P99_TARGET)
            out.append(f"  {name:<56} {'':>12} {('-' if v is None else f'{v:.1f}') + ' ' + vd:>12}"
                       f"   <= {P99_TARGET:g}")
            pj["ratios"][name] = {"c64": {"value": v, "target": P99_TARGET, "op": "<=",
                                          "verdict": vd or None}}
        verdicts = [r.get("verdict") for x in pj["ratios"].values() for r in x.values()
                    if r.get("verdict")]
        out.append(f"  targets: {verdicts.count('PASS')} PASS, {verdicts.count('MISS')} MISS"
                   + (" (judged here)" if p == "unpinned" else " (info: the issue's targets are judged unpinned)"))
        result["placements"][p] = pj
        # Plot data: one block per placement and connection count.
        for c in CONNS:
            dat.append(f"# {p} c{c}: task " + " ".join(s for s, _ in SERVERS))
            for t, tl in TASKS:
                dat.append(f'"{SHORT[t]}" ' + " ".join(f"{get(p, s, t, c, 'rps') or 0:.1f}"
                                                  for s, _ in SERVERS))
            dat.append("")
            dat.append("")
    out.append("")
    out.append("failures: " + ("none" if a.status == 0 else "YES (see the messages above)"))
    print("\n".join(out))
    with open(os.path.join(a.out, "http.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    with open(os.path.join(a.out, "http.dat"), "w") as f:
        f.write(f"# placements: {' '.join(placements)}\n")
        f.write("\n".join(dat) + "\n")


if __name__ == "__main__":
    sys.exit(main())
