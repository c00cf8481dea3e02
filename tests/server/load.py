#!/usr/bin/env python3
"""load.py URL BODY COUNT THREADS [SECONDS]: POST BODY to URL COUNT times
over THREADS keep-alive connections (or until SECONDS passed); print the
count of each status ("200:812 503:3"), "err:N" for failed connections."""
import http.client
import sys
import threading
import time
import urllib.parse

url, body, count, threads = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), int(sys.argv[4])
limit = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
u = urllib.parse.urlsplit(url)
lock = threading.Lock()
counts = {}
left = [count]
t_end = time.time() + limit


def take():
    with lock:
        if left[0] <= 0 or time.time() > t_end:
            return False
        left[0] -= 1
        return True


def note(k):
    with lock:
        counts[k] = counts.get(k, 0) + 1


def run():
    c = None
    while take():
        try:
            if c is None:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            c.request("POST", u.path, body)
            r = c.getresponse()
            r.read()
            note(str(r.status))
            if r.getheader("Connection", "").lower() == "close":
                c.close()
                c = None
        except Exception as e:
            note("err")
            if c is not None:
                c.close()
            c = None


ts = [threading.Thread(target=run) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(" ".join("%s:%d" % kv for kv in sorted(counts.items())))
