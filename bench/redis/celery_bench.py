"""bench/redis/celery_bench.py - the Celery side of bench/redis/run.

Celery 5 (Debian 12's python3-celery) with its Redis broker and Redis
result backend, a prefork worker of concurrency 2: what people use today.
Two tasks that do what forkboard's built-in kinds do: noop, and sha256 of
the payload (hex).  The producer submits N tasks either one apply_async
per task, or with chunks of 100 (the user groups tasks by hand), then
waits for every result and checks it.

  worker:   python3 -m celery -A celery_bench worker --pool prefork -c 2
  producer: python3 celery_bench.py URL MODE KIND N   (prints seconds)
"""
import hashlib
import os
import sys
import time

from celery import Celery

URL = os.environ.get("FB_CELERY_URL", "redis://127.0.0.1:6379/0")
app = Celery("celery_bench", broker=URL, backend=URL)
app.conf.update(task_serializer="json", result_serializer="json",
                accept_content=["json"], worker_prefetch_multiplier=4,
                broker_connection_retry_on_startup=True)


@app.task
def noop(payload=""):
    return ""


@app.task
def sha256(payload):
    return hashlib.sha256(payload.encode()).hexdigest()


def main():
    mode, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    payload = "x" * (64 * 1024) if kind == "sha256" else ""
    want = hashlib.sha256(payload.encode()).hexdigest() if kind == "sha256" else ""
    task = sha256 if kind == "sha256" else noop
    t0 = time.monotonic()
    if mode == "per-task":
        results = [task.apply_async((payload,)) for _ in range(n)]
        values = [r.get(timeout=600) for r in results]
    else:
        res = task.chunks([(payload,)] * n, 100).apply_async()
        values = [v for chunk in res.get(timeout=600) for v in chunk]
    secs = time.monotonic() - t0
    bad = sum(1 for v in values if v != want)
    if len(values) != n or bad:
        print("celery: %d results, %d wrong" % (len(values), bad), file=sys.stderr)
        sys.exit(1)
    print("%.4f" % secs)


if __name__ == "__main__":
    main()
