#!/usr/bin/env bash
# basic.sh - every built-in kind, the result headers, and the mapping of
# outcomes to HTTP statuses; TCP v4, v6 and unix sockets.
. "$(dirname "$0")/lib.sh"

# code_of ARGS...: the HTTP status of a curl request.
code_of() {
	curl -sS -m 10 -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@"
}
hdr() {
	tr -d '\r' <"$T/hdr" | awk -v h="$1:" 'tolower($1) == tolower(h) { $1 = ""; sub(/^ /, ""); print }'
}

srv_start -w 2 --slot-size 64k --task-timeout 1500 || { t_fail start; t_finish; }

printf 'hello world' >"$T/in"
t_eq "sha256 200" 200 "$(code_of --data-binary @"$T/in" "$URL/v1/tasks/sha256")"
t_eq "sha256 value" "$(sha256sum <"$T/in" | cut -d' ' -f1)" "$(cat "$T/body")"
t_check "header X-Task-Worker" test -n "$(hdr X-Task-Worker)"
t_check "header X-Task-Worker-Pid is a worker" kill -0 "$(hdr X-Task-Worker-Pid)"
t_eq "header X-Task-Attempts" 1 "$(hdr X-Task-Attempts)"
t_eq "header X-Task-Outcome" done "$(hdr X-Task-Outcome)"
t_check "header X-Task-Queued-Ms" test -n "$(hdr X-Task-Queued-Ms)"
t_check "header X-Task-Run-Ms" test -n "$(hdr X-Task-Run-Ms)"

code_of --data-binary @"$T/in" "$URL/v1/tasks/crc32" >/dev/null
t_eq "crc32 value" "$(python3 -c 'import zlib,sys; print("%08x" % zlib.crc32(open(sys.argv[1],"rb").read()))' "$T/in")" "$(cat "$T/body")"
head -c 20000 /dev/urandom >"$T/rand"
t_eq "gzip 200" 200 "$(code_of --data-binary @"$T/rand" "$URL/v1/tasks/gzip")"
t_check "gzip round trip" cmp -s "$T/rand" <(gunzip -c "$T/body")
printf 'one two\nthree\n' >"$T/wc"
code_of --data-binary @"$T/wc" "$URL/v1/tasks/wc" >/dev/null
t_eq "wc value" "2 3 14" "$(cat "$T/body")"
code_of --data-binary 'Hello, World' "$URL/v1/tasks/upper" >/dev/null
t_eq "upper value" "HELLO, WORLD" "$(cat "$T/body")"
code_of --data-binary '1000000' "$URL/v1/tasks/primes" >/dev/null
t_eq "primes value" 78498 "$(cat "$T/body")"
code_of --data-binary '20' "$URL/v1/tasks/sleep" >/dev/null
t_eq "sleep value" "slept 20 ms" "$(cat "$T/body")"
t_eq "noop 200" 200 "$(code_of --data-binary '' "$URL/v1/tasks/noop")"
t_eq "noop empty" 0 "$(stat -c %s "$T/body")"

# Statuses.
t_eq "unknown kind 404" 404 "$(code_of --data-binary x "$URL/v1/tasks/nosuch")"
t_check "404 names the known kinds" grep -q 'known: sha256' "$T/body"
t_eq "unknown path 404" 404 "$(code_of "$URL/nowhere")"
t_eq "wrong method 405" 405 "$(code_of -X PUT --data-binary x "$URL/v1/tasks/noop")"
t_check "405 has Allow" test -n "$(hdr Allow)"
t_eq "status by POST 405" 405 "$(code_of --data-binary x "$URL/status")"
t_eq "handler failure 422" 422 "$(code_of --data-binary 'abc' "$URL/v1/tasks/primes")"
t_eq "422 X-Task-Status" 22 "$(hdr X-Task-Status)"
head -c 70000 /dev/zero >"$T/big"
t_eq "body over the slot 413" 413 "$(code_of --data-binary @"$T/big" "$URL/v1/tasks/noop")"
t_check "413 names the limit" grep -q 65536 "$T/body"
t_eq "timed out 504" 504 "$(code_of --data-binary '3000' "$URL/v1/tasks/sleep")"
t_eq "504 outcome" timedout "$(hdr X-Task-Outcome)"

# A crash: SIGSEGV the worker running a sleep.
code_of --data-binary '1000' "$URL/v1/tasks/sleep" >"$T/crash.code" &
cpid=$!
busy=
for ((i = 0; i < 50; i++)); do
	busy=$(curl -sS "$URL/status?full" | python3 -c '
import json,sys
for w in json.load(sys.stdin)["workers"]:
    if w["state"] == "busy": print(w["pid"])')
	[[ -n $busy ]] && break
	sleep 0.02
done
[[ -n $busy ]] && kill -SEGV "$busy"
wait "$cpid"
t_eq "worker crashed 502" 502 "$(cat "$T/crash.code")"
t_eq "502 names the signal" SIGSEGV "$(hdr X-Task-Signal)"
t_check "502 body says why" grep -q 'killed by SIGSEGV' "$T/body"
t_eq "serves after a crash" 200 "$(code_of --data-binary x "$URL/v1/tasks/noop")"

# Malformed requests.
python3 - "$PORT" >"$T/raw" <<'EOF'
import socket, sys
port = int(sys.argv[1])
def send(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    try:
        r = s.recv(200)
    except socket.timeout:
        r = b"timeout"
    s.close()
    return r.split(b"\r\n")[0].decode("latin1") or "closed"
print(send(b"GARBAGE\r\n\r\n"))
print(send(b"GET / HTTP/9.9\r\n\r\n"))
print(send(b"POST /v1/tasks/noop HTTP/1.1\r\nContent-Length: -5\r\n\r\n"))
print(send(bytes(range(256)) * 4))
EOF
while read -r line; do
	case $line in
	"HTTP/1."*" 4"*|closed) t_ok "malformed request: $line" ;;
	*) t_fail "malformed request" "$line" ;;
	esac
done <"$T/raw"
t_eq "serves after garbage" 200 "$(code_of --data-binary x "$URL/v1/tasks/noop")"
srv_stop TERM

# IPv6 and unix sockets.
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
	"$SRV_BIN" -l '[::1]:0' -l "unix:$T/sock" -w 1 --port-file "$T/p6" \
		--error-log "$T/error.log" >"$T/v6.out" 2>&1 &
	SRV_PID=$!
	SRV_PIDS+=("$SRV_PID")
	for ((i = 0; i < 100; i++)); do [[ -s $T/p6 ]] && break; sleep 0.1; done
	srv_workers
	t_check "prints the v6 address" grep -q "listening on \[::1\]:$(cat "$T/p6")" "$T/v6.out"
	t_eq "IPv6 request" HELLO "$(curl -sS -m 5 --data-binary hello "http://[::1]:$(cat "$T/p6")/v1/tasks/upper")"
	t_eq "unix socket request" HELLO "$(curl -sS -m 5 --unix-socket "$T/sock" --data-binary hello http://x/v1/tasks/upper)"
	srv_stop TERM
	t_check "unix socket removed at exit" test ! -e "$T/sock"
fi

# Bad options are refused with a message, exit 2.
"$SRV_BIN" -w 0 >/dev/null 2>"$T/opt.err"
t_eq "bad -w exit 2" 2 "$?"
t_check "bad -w message" grep -q "not a number" "$T/opt.err"
"$SRV_BIN" -l nonsense >/dev/null 2>"$T/opt.err"
t_eq "bad -l exit 1" 1 "$?"
t_check "bad -l message" grep -q "bad listen address" "$T/opt.err"

# The man page is mdoc(7), mandoc -Tlint clean (the lines about the
# system's outdated mandoc.db are the machine's, not the page's).
if command -v mandoc >/dev/null; then
	# From man/, where the pages it links to (.Xr forkboard 3) are.
	(cd "$FB_TOP_SRCDIR/man" && mandoc -Tlint forkboard-server.8) 2>&1 |
		grep -v 'mandoc.db' >"$T/lint.out"
	t_eq "man page: mandoc -Tlint clean" "" "$(cat "$T/lint.out")"
fi

t_finish
