#!/usr/bin/env bash
# status.sh - GET /status (and ?full), /metrics (promtool lint), /healthz,
# --status-allow.
. "$(dirname "$0")/lib.sh"

srv_start -w 2 || { t_fail start; t_finish; }
for i in 1 2 3; do curl -sS -o /dev/null --data-binary x "$URL/v1/tasks/sha256"; done
curl -sS -o /dev/null --data-binary abc "$URL/v1/tasks/primes"
curl -sS -o /dev/null --data-binary 2000 "$URL/v1/tasks/sleep" &
BG_PIDS+=($!)

curl -sS -D "$T/hdr" "$URL/status" >"$T/status.json"
t_check "status is JSON" grep -qi '^Content-Type: application/json' "$T/hdr"
python3 - "$T/status.json" >"$T/status.out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["pool", "start time", "start since", "accepted conn", "listen queue",
        "max listen queue", "listen queue len", "idle processes",
        "active processes", "total processes", "max active processes",
        "listen queue full", "outcomes", "kinds"]
missing = [k for k in need if k not in d]
print("missing", missing)
print("total", d["total processes"])
print("done", d["kinds"]["sha256"]["outcomes"]["done"])
print("failed", d["outcomes"]["failed"])
print("workers" in d)
EOF
t_eq "PHP-FPM style fields present" "missing []" "$(sed -n 1p "$T/status.out")"
t_eq "total processes" "total 2" "$(sed -n 2p "$T/status.out")"
t_eq "per-kind counts" "done 3" "$(sed -n 3p "$T/status.out")"
t_eq "outcome counts" "failed 1" "$(sed -n 4p "$T/status.out")"
t_eq "no workers without ?full" False "$(sed -n 5p "$T/status.out")"

# Until a worker shows the sleep task (no sleep-and-hope; bounded).
for ((i = 0; i < 100; i++)); do
	curl -sS "$URL/status?full" >"$T/full.json"
	grep -q '"current task": *"sleep"' "$T/full.json" && break
	sleep 0.05
done
python3 - "$T/full.json" >"$T/full.out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
w = d["workers"]
print(len(w))
print(sorted(w[0].keys()))
print(any(x["state"] == "busy" and x["current task"] == "sleep" for x in w))
b = d["board"]
print(sorted(k for k in ("shmid", "key", "size", "pages", "mode", "nattch", "creator pid") if k in b))
print(b["mode"], len(b["slot map"]) == d["slots"], b["nattch"] >= 3)
EOF
t_eq "?full: one record per worker" 2 "$(sed -n 1p "$T/full.out")"
t_eq "?full: worker fields" "['current task', 'current task age', 'generation', 'index', 'inflight', 'last exit', 'pid', 'restarts', 'rss', 'state', 'tasks']" "$(sed -n 2p "$T/full.out")"
t_eq "?full: the busy worker runs sleep" True "$(sed -n 3p "$T/full.out")"
t_eq "?full: board IPC_STAT fields" "['creator pid', 'key', 'mode', 'nattch', 'pages', 'shmid', 'size']" "$(sed -n 4p "$T/full.out")"
t_eq "?full: mode, slot map, nattch" "0600 True True" "$(sed -n 5p "$T/full.out")"
wait "${BG_PIDS[@]}"
BG_PIDS=()

curl -sS -D "$T/mhdr" "$URL/metrics" >"$T/metrics.txt"
t_check "metrics content type" grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/mhdr"
t_check "counter ends in _total" grep -q '^forkboard_tasks_total{kind="sha256",outcome="done"} 3$' "$T/metrics.txt"
t_check "unseen label sets exported as 0" grep -q '^forkboard_tasks_total{kind="gzip",outcome="crashed"} 0$' "$T/metrics.txt"
t_check "histogram in seconds" grep -q '^forkboard_task_duration_seconds_bucket{kind="sha256",le="+Inf"} 3$' "$T/metrics.txt"
t_check "workers labelled by index" grep -q '^forkboard_worker_tasks_total{worker="1"}' "$T/metrics.txt"
t_check "no pid label" bash -c "! grep -q 'pid=' '$T/metrics.txt'"
if command -v promtool >/dev/null; then
	if promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1; then
		t_ok "promtool check metrics"
	else
		t_fail "promtool check metrics" "$(head -5 "$T/promtool.out")"
	fi
else
	t_fail "promtool check metrics" "promtool missing (apt-get install prometheus)"
fi

t_eq "healthz" ok "$(curl -sS "$URL/healthz")"
t_eq "HEAD healthz" 200 "$(curl -sS -I -o /dev/null -w '%{http_code}' "$URL/healthz")"
srv_stop

# --status-allow: a network that does not hold 127.0.0.1.
srv_start -w 1 --status-allow 10.0.0.0/8 --status-allow ::1/128 || { t_fail start; t_finish; }
t_eq "status refused outside --status-allow" 403 "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/status")"
t_eq "metrics refused outside --status-allow" 403 "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/metrics")"
t_eq "board page refused outside --status-allow" 403 "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/")"
t_eq "healthz still open" 200 "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/healthz")"
t_eq "tasks still open" 200 "$(curl -sS -o /dev/null -w '%{http_code}' --data-binary x "$URL/v1/tasks/noop")"
srv_stop
srv_start -w 1 --status-allow 127.0.0.0/8 || { t_fail start; t_finish; }
t_eq "status allowed inside --status-allow" 200 "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/status")"
srv_stop
"$SRV_BIN" --status-allow 300.1.1.1/8 2>"$T/allow.err"
t_check "bad --status-allow refused" grep -q 'bad network' "$T/allow.err"

t_finish
