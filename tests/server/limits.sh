#!/usr/bin/env bash
# limits.sh - queue full (503), slow clients, header size, the connection
# cap, EMFILE, and clients that leave early (nothing may leak).
. "$(dirname "$0")/lib.sh"

code_of() {
	curl -sS -m 10 -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@"
}

# --- queue full: 1 worker, 1 slot, 1 waiting; the third is refused. ---
srv_start -w 1 --slots 1 --queue 1 || { t_fail start; t_finish; }
curl -sS -m 10 -o /dev/null --data-binary 600 "$URL/v1/tasks/sleep" &
BG_PIDS+=($!)
sleep 0.2
curl -sS -m 10 -o /dev/null --data-binary 10 "$URL/v1/tasks/sleep" &
BG_PIDS+=($!)
sleep 0.2
t_eq "queue full 503" 503 "$(code_of --data-binary 1 "$URL/v1/tasks/sleep")"
t_check "503 has Retry-After" grep -qi '^Retry-After: 1' "$T/hdr"
t_eq "listen queue shows the waiting task" 1 "$(status_field 'listen queue')"
wait "${BG_PIDS[@]}"
BG_PIDS=()
t_eq "listen queue full counted" 1 "$(status_field 'listen queue full')"
t_eq "max listen queue" 1 "$(status_field 'max listen queue')"
srv_stop

# --- slow client, big headers ---
srv_start -w 1 --read-timeout 1 --max-header 1024 || { t_fail start; t_finish; }
res=$(python3 - "$PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /v1/tasks/noop HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
try:
    d = s.recv(100)
    print("closed" if d == b"" else "answered", round(time.time() - t0))
except socket.timeout:
    print("still open")
EOF
)
case $res in
"closed "[12]|"answered "[12]) t_ok "slow client cut after --read-timeout ($res)" ;;
*) t_fail "slow client cut after --read-timeout" "$res" ;;
esac
big=$(head -c 4000 /dev/zero | tr '\0' a)
c=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL/healthz" 2>/dev/null)
case $c in 4*|000) t_ok "oversized headers refused ($c)" ;; *) t_fail "oversized headers refused" "$c" ;; esac
t_eq "serves after both" 200 "$(code_of "$URL/healthz")"
srv_stop

# --- connection cap ---
srv_start -w 1 --max-conns 2 || { t_fail start; t_finish; }
res=$(python3 - "$PORT" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=1.5)
    s.sendall(req)
    return s
a = conn(); a.recv(1000)
b = conn(); b.recv(1000)
time.sleep(0.1)
c = conn()
try:
    c.recv(1000); third = "answered"
except socket.timeout:
    third = "waited"
a.close()
c.settimeout(3)
try:
    r = c.recv(1000)
    after = "answered" if r.startswith(b"HTTP/1.1 200") else "bad"
except socket.timeout:
    after = "waited"
print(third, after)
EOF
)
t_eq "connection cap holds the third connection, then serves it" "waited answered" "$res"
srv_stop

# --- EMFILE: few descriptors, many connections ---
(ulimit -n 48 && exec "$SRV_BIN" -l 127.0.0.1:0 -w 1 --port-file "$T/pe" \
	--error-log "$T/error.log" >>"$T/stdout.log" 2>&1) &
SRV_PID=$!
SRV_PIDS+=("$SRV_PID")
for ((i = 0; i < 100; i++)); do [[ -s $T/pe ]] && break; sleep 0.1; done
PORT=$(cat "$T/pe")
URL=http://127.0.0.1:$PORT
srv_workers
python3 - "$PORT" <<'EOF'
import socket, sys, time
socks = []
for i in range(80):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
time.sleep(0.5)
for s in socks:
    s.close()
EOF
sleep 0.5
t_check "EMFILE logged and listeners paused" grep -q 'pausing the listeners' "$T/error.log"
t_eq "serves after EMFILE" 200 "$(code_of "$URL/healthz")"
t_check "EMFILE counted in /metrics" grep -q '^forkboard_accept_emfile_total [1-9]' <(curl -sS "$URL/metrics")
srv_stop

# --- 10 000 clients that leave while their task waits or runs ---
srv_start -w 2 --queue 20000 || { t_fail start; t_finish; }
curl -sS -o /dev/null --data-binary x "$URL/v1/tasks/noop"
fd0=$(fd_count "$SRV_PID")
python3 - "$PORT" <<'EOF'
import socket, sys
port = int(sys.argv[1])
body = b"2"
req = (b"POST /v1/tasks/sleep HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
open_ = []
for i in range(10000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    open_.append(s)
    if len(open_) >= 50:
        for o in open_:
            o.close()
        open_ = []
for o in open_:
    o.close()
EOF
for ((i = 0; i < 200; i++)); do
	q=$(curl -sS "$URL/status" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["listen queue"] + d["tasks in pool"], d["connections"])')
	[[ $q == "0 1" ]] && break
	sleep 0.1
done
t_eq "nothing pending after the clients left (connections: only ours)" "0 1" "$q"
sleep 0.2
curl -sS -o /dev/null --data-binary x "$URL/v1/tasks/noop"
t_eq "descriptors back to where they were" "$fd0" "$(fd_count "$SRV_PID")"
ab=$(curl -sS "$URL/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["outcomes"]["abandoned"])')
t_check "abandoned tasks counted ($ab)" test "$ab" -gt 0
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$SRV_PID/status")
# ASan keeps freed memory in quarantine (256 MiB by default).
lim=65536
grep -q libasan "/proc/$SRV_PID/maps" && lim=$((320 * 1024))
t_check "master RSS under $((lim / 1024)) MiB after 10 000 clients ($rss kB)" test "$rss" -lt "$lim"
t_eq "serves after" 200 "$(code_of --data-binary x "$URL/v1/tasks/noop")"
srv_stop

t_finish
