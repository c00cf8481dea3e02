# tests/server/redis_lib.sh - a real redis-server and several
# forkboard-server consumers for the redis_*.sh tests.  Sourced after
# lib.sh (whose t_* checks and summary lines it uses).
#
# Redis listens on a unix socket in the test's directory (no port to
# collide with), or also on TCP when REDIS_TCP is set (a free port is
# picked by binding port 0 first).  Everything started is stopped by pid
# in the EXIT trap; cons_stop proves a consumer exits 0 and leaves no
# worker, no SysV segment.

REDIS_BIN=$(command -v redis-server)
RCLI_BIN=$(command -v redis-cli)
[[ -n $REDIS_BIN && -n $RCLI_BIN ]] || { echo "redis-server/redis-cli missing (scripts/deps)"; exit 1; }
REDIS_PID=
RSOCK=$T/redis.sock
RURL=unix:$RSOCK
CONS_PID=()
CONS_PORT=()
CONS_WORKERS=()

rcli() { "$RCLI_BIN" -s "$RSOCK" "$@"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# redis_start [ARGS...]: start (or restart, same socket and data) Redis.
redis_start() {
	local i
	mkdir -p "$T/redis"
	"$REDIS_BIN" --port "${REDIS_PORT:-0}" --unixsocket "$RSOCK" \
		--unixsocketperm 700 --dir "$T/redis" --save '' \
		--daemonize no --logfile "$T/redis.log" "$@" &
	REDIS_PID=$!
	BG_PIDS+=("$REDIS_PID")
	for ((i = 0; i < 100; i++)); do
		[[ $(rcli PING 2>/dev/null) == PONG ]] && return 0
		sleep 0.05
	done
	echo "redis-server did not start" >&2
	tail "$T/redis.log" >&2
	return 1
}

# redis_stop: SHUTDOWN (an AOF is synced first) and wait for the pid.
redis_stop() {
	local i
	[[ -n $REDIS_PID ]] || return 0
	kill -TERM "$REDIS_PID" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$REDIS_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

# cons_start I [PREFIX...] -- ARGS...: consumer I (0, 1, ...); PREFIX is a
# command to run it under (ip netns exec NS), ARGS go to the server.
cons_start() {
	local i=$1 pf=$T/cport.$1 k pre=()
	shift
	while (($# > 0)) && [[ $1 != -- ]]; do pre+=("$1"); shift; done
	shift
	rm -f "$pf"
	"${pre[@]}" "$SRV_BIN" -l 127.0.0.1:0 --port-file "$pf" \
		--error-log "$T/cons$i.log" "$@" >>"$T/stdout.log" 2>>"$T/stderr.log" &
	CONS_PID[$i]=$!
	SRV_PIDS+=("${CONS_PID[$i]}")
	for ((k = 0; k < 100; k++)); do
		[[ -s $pf ]] && break
		kill -0 "${CONS_PID[$i]}" 2>/dev/null || { cat "$T/cons$i.log" >&2; return 1; }
		sleep 0.1
	done
	[[ -s $pf ]] || return 1
	CONS_PORT[$i]=$(cat "$pf")
	CONS_WORKERS[$i]=$(pgrep -P "${CONS_PID[$i]}" | tr '\n' ' ')
}

# cons_status I FIELD [PREFIX...]: a field of /status's "redis" object.
cons_status() {
	local i=$1 f=$2
	shift 2
	"$@" curl -sS -m 5 "http://127.0.0.1:${CONS_PORT[$i]}/status" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["redis"][sys.argv[1]])' "$f"
}

# submit_bg KIND: forkboard-submit --redis of $T/lines as KIND tasks, in
# the background (SUB; results in $T/got, errors in $T/sub.err).
submit_bg() {
	timeout 120 "$SUBMIT_BIN" --redis "$RURL" --stream jobs -q "$1" \
		<"$T/lines" >"$T/got" 2>"$T/sub.err" &
	SUB=$!
	BG_PIDS+=("$SUB")
}

# sleep_lines: $N sleep tasks of 1 to 3 ms in $T/lines, and what each
# must answer in $T/expected.
sleep_lines() {
	python3 -c "
for i in range($N): print(i % 3 + 1)" >"$T/lines"
	sed 's/.*/slept & ms/' "$T/lines" >"$T/expected"
}

# acked_at_least I MIN [PREFIX...]: wait (up to about 12 s) until
# consumer I has acknowledged MIN entries; leaves the count in ACKED.
acked_at_least() {
	local i=$1 min=$2 k
	shift 2
	for ((k = 0; k < 600; k++)); do
		ACKED=$(cons_status "$i" acked "$@" 2>/dev/null || echo 0)
		((ACKED >= min)) && return 0
		sleep 0.02
	done
	return 1
}

# Workers of consumer I, and its segments, are gone (after its end).
cons_gone() {
	local i=$1 pid=${CONS_PID[$1]} w k left
	for ((k = 0; k < 60; k++)); do
		left=
		for w in ${CONS_WORKERS[$i]} $(pgrep -P "$pid" 2>/dev/null); do
			kill -0 "$w" 2>/dev/null && left+="$w "
		done
		[[ -z $left ]] && break
		sleep 0.05
	done
	t_eq "consumer $i: no worker left" "" "$left"
	t_eq "consumer $i: no segment left" "" "$(shm_of "$pid")"
}

# cons_stop I [SIGNAL]: TERM by default (graceful: exit 0).
cons_stop() {
	local i=$1 sig=${2:-TERM} pid=${CONS_PID[$1]} k rc
	CONS_WORKERS[$i]+=" $(pgrep -P "$pid" | tr '\n' ' ')"
	kill -"$sig" "$pid"
	for ((k = 0; k < 300; k++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && { t_fail "consumer $i stops on SIG$sig"; kill -KILL "$pid"; }
	wait "$pid"
	rc=$?
	if [[ $sig == TERM ]]; then
		t_eq "consumer $i exits 0 on SIGTERM" 0 "$rc"
	else
		t_eq "consumer $i killed by SIG$sig" "$((128 + $(kill -l "$sig")))" "$rc"
	fi
	cons_gone "$i"
}

# sha256 of each line of FILE, one per line, what the tasks must return.
expect_sha() {
	python3 -c 'import hashlib,sys
for l in open(sys.argv[1], "rb"): print(hashlib.sha256(l.rstrip(b"\n")).hexdigest())' "$1"
}

# Consumers' descriptors: the same before and after reconnects.
fds_of() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# expect_claimed WHO CONSUMER T0 VIS: the entries pending on CONSUMER
# (group pool of stream jobs) are all claimed by others within VIS ms
# plus 1.5 s of T0 (date +%s.%N); prints the time taken.
expect_claimed() {
	local who=$1 name=$2 t0=$3 vis=$4 k p at= ms
	for ((k = 0; k < 400; k++)); do
		p=$(rcli XINFO CONSUMERS jobs pool | awk -v c="$name" 'prev=="name"{n=$0} prev=="pending" && n==c{print; exit} {prev=$0}')
		if [[ -z $p || $p == 0 ]]; then at=$(date +%s.%N); break; fi
		sleep 0.05
	done
	if [[ -z $at ]]; then
		t_fail "$who consumer's entries claimed" "still pending after 20 s"
		return
	fi
	ms=$(python3 -c "print(int(($at - $t0) * 1000))")
	echo "# $who consumer's entries claimed by the others after $ms ms (visibility $vis ms)"
	t_check "claimed within visibility + 1.5 s ($ms ms)" test "$ms" -le $((vis + 1500))
}
