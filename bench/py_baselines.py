#!/usr/bin/env python3
"""Python baselines for fb-bench: no-op task throughput of
multiprocessing.Pool.map (chunksize=1 and the default) and of
concurrent.futures.ProcessPoolExecutor.map (chunksize=1).

The task is the same as forkboard's no-op: a 64-byte payload goes in and
comes back as the result.  Pools are started (and warmed up) before the
clock starts; each measurement maps batches until --secs have passed.

Output, one per line: "python VERSION", then "NAME TASKS_PER_SECOND".
"""
import argparse
import concurrent.futures
import multiprocessing
import platform
import sys
import time

BATCH = 2000


def noop(payload):
    return payload


def measure(run, secs):
    """Call run(items) on batches until secs passed; return tasks/s."""
    items = [bytes(64)] * BATCH
    done = 0
    t0 = time.perf_counter()
    while True:
        results = run(items)
        done += len(results)
        if results[-1] != items[-1]:
            raise SystemExit("wrong result")
        elapsed = time.perf_counter() - t0
        if elapsed >= secs:
            return done / elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--secs", type=float, default=0.5)
    args = ap.parse_args()

    print("python", platform.python_version(), flush=True)
    # "fork", as forkboard does; it is also the cheapest start method.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(args.workers) as pool:
        pool.map(noop, [bytes(64)] * 100, chunksize=1)
        rate = measure(lambda it: pool.map(noop, it, chunksize=1), args.secs)
        print("pool_map_cs1", round(rate, 1), flush=True)
        rate = measure(lambda it: pool.map(noop, it), args.secs)
        print("pool_map_auto", round(rate, 1), flush=True)
    with concurrent.futures.ProcessPoolExecutor(
            args.workers, mp_context=ctx) as ex:
        list(ex.map(noop, [bytes(64)] * 100))
        rate = measure(lambda it: list(ex.map(noop, it)), args.secs)
        print("executor", round(rate, 1), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
