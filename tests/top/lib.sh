# tests/top/lib.sh - shared by the forkboard-top test scripts.
#
# Builds on tests/server/lib.sh (t_ok/t_fail/t_eq/t_check, t_finish's
# cmocka-style summary that scripts/check counts, the EXIT trap that
# kills by pid whatever a failed script left).  Adds fx_start/fx_stop: a
# live pool (tests/top/fixture) to inspect, and a proof that stopping it
# left no process and no segment.

# shellcheck source=../server/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../server/lib.sh"
TOP_BIN=$FB_TOP_BUILDDIR/examples/top/forkboard-top
FX_BIN=$FB_TOP_BUILDDIR/tests/top/fixture
PAGE=$(getconf PAGESIZE)
FX_N=0

# run_top ARGS...: forkboard-top under a time limit; stdout in $T/out,
# stderr in $T/err, status in $TOP_RC.
run_top() {
	timeout -k 5 30 "$TOP_BIN" "$@" >"$T/out" 2>"$T/err"
	TOP_RC=$?
}

# fx_start ARGS...: start a fixture, wait for its ready line, set FX_PID,
# FX_SHMID, FX_KEY, FX_MASTER, FX_WORKERS (space-separated), FX_LINE.
fx_start() {
	local out=$T/fx.$((++FX_N)) i
	"$FX_BIN" "$@" >"$out" 2>&1 &
	FX_PID=$!
	BG_PIDS+=("$FX_PID")
	for ((i = 0; i < 200; i++)); do
		grep -q '^ready ' "$out" && break
		kill -0 "$FX_PID" 2>/dev/null || break
		sleep 0.05
	done
	FX_LINE=$(grep '^ready ' "$out") || {
		echo "fixture $* did not get ready:" >&2
		cat "$out" >&2
		return 1
	}
	FX_SHMID=$(sed -n 's/.* shmid=\([0-9]*\).*/\1/p' <<<"$FX_LINE")
	FX_KEY=$(sed -n 's/.* key=\(0x[0-9a-f]*\).*/\1/p' <<<"$FX_LINE")
	FX_MASTER=$(sed -n 's/.* master=\([0-9]*\).*/\1/p' <<<"$FX_LINE")
	FX_WORKERS=$(sed -n 's/.* workers=\([0-9,]*\).*/\1/p' <<<"$FX_LINE" |
		tr , ' ')
}

# fx_stop [PID SHMID WORKERS]: stop the fixture; it must exit 0 and leave
# no worker and no segment.
fx_stop() {
	local pid=${1:-$FX_PID} shmid=${2:-$FX_SHMID} workers=${3-$FX_WORKERS}
	local rc i w left
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	t_eq "fixture $pid exits 0 on SIGTERM" 0 "$rc"
	for ((i = 0; i < 100; i++)); do
		left=
		for w in $workers; do
			kill -0 "$w" 2>/dev/null && left+=" $w"
		done
		grep -qE "^ *[0-9]+ +$shmid " /proc/sysvipc/shm && left+=" shm"
		[[ -z $left ]] && break
		sleep 0.05
	done
	t_eq "fixture $pid left no worker and no segment" "" "$left"
}

# jqv FILTER: a value from the JSON in $T/out.
jqv() {
	jq -r "$1" "$T/out"
}

# t_skip_rest REASON: what follows cannot run here.  Says SKIPPED (never
# a pass: scripts/check counts an automake SKIP as a failure), prints the
# summary of what did run, exits 77 (or 1 if something already failed).
t_skip_rest() {
	local rc
	echo "[  SKIPPED ] $T_NAME: $1 (not a pass)"
	(t_finish)
	rc=$?
	((rc != 0)) && exit "$rc"
	exit 77
}
