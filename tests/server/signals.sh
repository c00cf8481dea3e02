#!/usr/bin/env bash
# signals.sh - TERM (graceful, under load), QUIT, HUP (rolling restart
# under load, zero failures), TTIN/TTOU, workers SIGKILLed under load with
# retries, daemon mode, pidfile refusal, -u, USR1 log reopen.
. "$(dirname "$0")/lib.sh"
LOAD=$(dirname "$0")/load.py

pids_of_workers() {
	curl -sS "$URL/status?full" | python3 -c '
import json,sys
print(" ".join(str(w["pid"]) for w in json.load(sys.stdin)["workers"] if w["state"] in ("idle", "busy")))'
}

# --- TERM under load: every in-flight request is answered ---
srv_start -w 2 || { t_fail start; t_finish; }
cps=()
for i in $(seq 12); do
	curl -sS -m 10 -o /dev/null -w '%{http_code}\n' --data-binary 400 \
		"$URL/v1/tasks/sleep" >>"$T/term.out" 2>&1 &
	cps+=($!)
done
BG_PIDS+=("${cps[@]}")
sleep 0.2
kill -TERM "$SRV_PID"
sleep 0.05
t_eq "TERM closes the listener: connection refused" 7 "$(curl -sS -m 2 -o /dev/null "$URL/healthz" 2>/dev/null; echo $?)"
wait "${cps[@]}"
t_eq "graceful stop: all 12 in-flight requests answered 200" 12 "$(grep -c '^200$' "$T/term.out")"
srv_stop TERM

# --- QUIT: immediate, even with a long task running ---
srv_start -w 1 || { t_fail start; t_finish; }
curl -sS -m 10 -o /dev/null --data-binary 8000 "$URL/v1/tasks/sleep" &
BG_PIDS+=($!)
sleep 0.2
t0=$(date +%s%N)
srv_stop QUIT
t_check "QUIT stops within 3 s" test $((($(date +%s%N) - t0) / 1000000)) -lt 3000

# --- HUP under load: a new pool, zero failed requests ---
srv_start -w 2 || { t_fail start; t_finish; }
before=$(pids_of_workers)
python3 "$LOAD" "$URL/v1/tasks/sleep" 5 600 6 >"$T/hup.out" &
lp=$!
BG_PIDS+=($lp)
for i in 1 2 3; do sleep 0.3; kill -HUP "$SRV_PID"; done
wait "$lp"
res=$(cat "$T/hup.out")
t_eq "HUP under load: zero failed requests" "200:600" "$res"
srv_workers
t_eq "HUP: three rolling restarts" 3 "$(status_field 'rolling restarts')"
t_eq "HUP: generation 4" 4 "$(status_field 'pool generation')"
after=$(pids_of_workers)
common=$(comm -12 <(tr ' ' '\n' <<<"$before" | sort) <(tr ' ' '\n' <<<"$after" | sort))
t_eq "HUP: every worker replaced" "" "$common"
for w in $before; do
	for ((i = 0; i < 40; i++)); do kill -0 "$w" 2>/dev/null || break; sleep 0.05; done
done
t_check "HUP: old workers gone" bash -c "! kill -0 ${before// / 2>/dev/null || ! kill -0 } 2>/dev/null"

# --- TTIN / TTOU ---
kill -TTIN "$SRV_PID"; sleep 0.3
t_eq "TTIN: one more worker" 3 "$(status_field 'total processes')"
srv_workers
kill -TTOU "$SRV_PID"; sleep 0.2
kill -TTOU "$SRV_PID"; sleep 0.5
t_eq "TTOU twice: one worker" 1 "$(status_field 'total processes')"
kill -TTOU "$SRV_PID"; sleep 0.2
t_eq "TTOU never goes below one" 1 "$(status_field 'total processes')"
t_eq "serves after resizing" 200 "$(curl -sS -o /dev/null -w '%{http_code}' --data-binary x "$URL/v1/tasks/noop")"
srv_stop

# --- workers SIGKILLed every 50 ms under load, with retries ---
srv_start -w 2 --retries 5 || { t_fail start; t_finish; }
python3 "$LOAD" "$URL/v1/tasks/sleep" 3 400 4 >"$T/kill.out" &
lp=$!
BG_PIDS+=($lp)
kills=0
while kill -0 "$lp" 2>/dev/null; do
	for w in $(pids_of_workers | tr ' ' '\n' | shuf -n 1); do
		SRV_WORKERS+=("$w")
		kill -KILL "$w" 2>/dev/null && kills=$((kills + 1))
	done
	sleep 0.05
done
wait "$lp"
t_eq "SIGKILLed workers ($kills kills): zero failed requests" "200:400" "$(cat "$T/kill.out")"
srv_workers
srv_stop

# --- daemon mode, pidfile, -u, USR1 ---
# A directory the unprivileged user can reach (mktemp's is 0700 root).
P=$(mktemp -d /tmp/fbsrv-pub.XXXXXX)
chmod 1777 "$P"
"$SRV_BIN" -d -l 127.0.0.1:0 -w 1 -p "$P/pid" -u nobody --port-file "$P/port" \
	--access-log "$P/access.log" --error-log "$P/error.log" >"$T/d.out" 2>&1
t_eq "-d returns at once, exit 0" 0 "$?"
for ((i = 0; i < 100; i++)); do [[ -s $P/port && -s $P/pid ]] && break; sleep 0.1; done
SRV_PID=$(cat "$P/pid")
SRV_PIDS+=("$SRV_PID")
PORT=$(cat "$P/port")
URL=http://127.0.0.1:$PORT
srv_workers
t_check "daemon runs, pidfile names it" kill -0 "$SRV_PID"
t_check "daemon printed its address before detaching" grep -q "listening on 127.0.0.1:$PORT" "$T/d.out"
t_eq "daemon is a session leader" "$SRV_PID" "$(ps -o sid= -p "$SRV_PID" | tr -d ' ')"
"$SRV_BIN" -l 127.0.0.1:0 -w 1 -p "$P/pid" >/dev/null 2>"$T/second.err"
t_eq "second instance refused" 1 "$?"
t_check "refusal names the running pid" grep -q "already running, pid $SRV_PID" "$T/second.err"
t_eq "-u: master runs as nobody" "$(id -u nobody)" "$(awk '/^Uid:/ { print $2 }' "/proc/$SRV_PID/status")"
w=$(pgrep -P "$SRV_PID" | head -1)
t_eq "-u: workers run as nobody" "$(id -u nobody)" "$(awk '/^Uid:/ { print $2 }' "/proc/$w/status")"
t_eq "daemon serves" HI "$(curl -sS --data-binary hi "$URL/v1/tasks/upper")"
mv "$P/access.log" "$P/access.log.1"
kill -USR1 "$SRV_PID"
sleep 0.2
curl -sS -o /dev/null --data-binary hi "$URL/v1/tasks/upper"
t_check "USR1: old log kept its lines" grep -q 'POST /v1/tasks/upper' "$P/access.log.1"
t_check "USR1: new log reopened and written" grep -q 'POST /v1/tasks/upper" 200' "$P/access.log"
t_check "USR1 logged" grep -q 'logs reopened' "$P/error.log"
ERRLOG=$P/error.log srv_stop TERM
t_check "pidfile removed at exit" test ! -e "$P/pid"
rm -rf "$P"

t_finish
