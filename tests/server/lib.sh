# tests/server/lib.sh - shared by the forkboard-server test scripts.
#
# Each script sources this, starts servers with srv_start (127.0.0.1, port
# 0, the port read back from --port-file), checks things with t_ok/t_fail,
# and ends with t_finish, which prints cmocka-style summary lines (what
# scripts/check counts) and exits non-zero on any failure.  An EXIT trap
# kills whatever a failed script left running (by pid, never by name), and
# srv_stop proves the server left no worker process, no SysV segment and
# exits 0.

set -u
: "${FB_TOP_BUILDDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build-srv" && pwd)}"
: "${FB_TOP_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
SRV_BIN=$FB_TOP_BUILDDIR/examples/server/forkboard-server
SUBMIT_BIN=$FB_TOP_BUILDDIR/examples/server/forkboard-submit
THUMB_SO=$FB_TOP_BUILDDIR/examples/server/modules/.libs/thumb.so
T=$(mktemp -d /tmp/fbsrv-test.XXXXXX)
export LC_ALL=C
T_NAME=$(basename "$0" .sh)
t_pass=0
t_failed=()
SRV_PID=
SRV_PIDS=()
SRV_WORKERS=()

t_ok() {
	t_pass=$((t_pass + 1))
	echo "[       OK ] $T_NAME: $1"
}

t_fail() {
	t_failed+=("$1")
	echo "[  FAILED  ] $T_NAME: $1${2:+: $2}"
}

# t_check NAME COND-COMMAND...: ok if the command succeeds.
t_check() {
	local name=$1
	shift
	if "$@"; then t_ok "$name"; else t_fail "$name" "$*"; fi
}

# t_eq NAME EXPECTED ACTUAL
t_eq() {
	if [[ "$2" == "$3" ]]; then
		t_ok "$1"
	else
		t_fail "$1" "expected '$2', got '$3'"
	fi
}

# Segments created by pid $1 (cpid column of /proc/sysvipc/shm).
shm_of() {
	awk -v p="$1" 'NR > 1 && $5 == p { print $2 }' /proc/sysvipc/shm
}

# srv_start ARGS...: start a server; sets SRV_PID, PORT, URL.
srv_start() {
	local pf=$T/port.$RANDOM i
	rm -f "$pf"
	"$SRV_BIN" -l 127.0.0.1:0 --port-file "$pf" --error-log "$T/error.log" \
		"$@" >>"$T/stdout.log" 2>>"$T/stderr.log" &
	SRV_PID=$!
	SRV_PIDS+=("$SRV_PID")
	for ((i = 0; i < 100; i++)); do
		[[ -s $pf ]] && break
		if ! kill -0 "$SRV_PID" 2>/dev/null; then
			echo "server exited at start:" >&2
			cat "$T/stderr.log" "$T/error.log" >&2 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
	[[ -s $pf ]] || { echo "no port file after 10 s" >&2; return 1; }
	PORT=$(cat "$pf")
	URL=http://127.0.0.1:$PORT
	srv_workers
}

# Remember the worker pids now alive (to prove later they are gone).
srv_workers() {
	local w
	for w in $(pgrep -P "$SRV_PID"); do SRV_WORKERS+=("$w"); done
}

# srv_stop [SIGNAL]: stop the server, expect exit 0, no worker or segment
# left behind.
srv_stop() {
	local sig=${1:-TERM} pid=$SRV_PID rc i w shm
	[[ -n $pid ]] || return 0
	srv_workers
	shm=$(shm_of "$pid")
	local child=0
	[[ $(ps -o ppid= -p "$pid" | tr -d ' ') == "$$" ]] && child=1
	kill -"$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		t_fail "server $pid stops on SIG$sig" "still running after 10 s"
		kill -KILL "$pid"
	fi
	SRV_PID=
	if ((child)); then
		wait "$pid"
		rc=$?
		t_eq "server exits 0 on SIG$sig" 0 "$rc"
	else
		# A daemon is not our child: its exit status is not ours to
		# read; the error log's last line says it.
		t_check "daemon logged exit 0 on SIG$sig" bash -c "tail -1 '${ERRLOG:-$T/error.log}' | grep -q 'exit 0'"
	fi
	for ((i = 0; i < 40; i++)); do
		local alive=0
		for w in "${SRV_WORKERS[@]}"; do
			kill -0 "$w" 2>/dev/null && alive=1
		done
		((alive == 0)) && break
		sleep 0.05
	done
	local left=()
	for w in "${SRV_WORKERS[@]}"; do
		kill -0 "$w" 2>/dev/null && left+=("$w")
	done
	t_eq "no worker left after SIG$sig" "" "${left[*]-}"
	local segs=()
	for w in $shm; do
		grep -qE "^ *[0-9]+ +$w " /proc/sysvipc/shm && segs+=("$w")
	done
	t_eq "no segment left after SIG$sig" "" "${segs[*]-}"
	SRV_WORKERS=()
}

# Open descriptors of pid $1.
fd_count() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# json FIELD: read a top-level field of /status with python3.
status_field() {
	curl -sS -m 5 "$URL/status${2:-}" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

t_finish() {
	local p
	for p in "${SRV_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	echo "[==========] $T_NAME: $((t_pass + ${#t_failed[@]})) test(s) ran."
	echo "[  PASSED  ] $t_pass test(s)."
	if ((${#t_failed[@]} > 0)); then
		echo "[  FAILED  ] ${#t_failed[@]} test(s), listed below:"
		for p in "${t_failed[@]}"; do echo "[  FAILED  ] $p"; done
		echo "--- error log ---"
		tail -n 40 "$T/error.log" "$T/stderr.log" 2>/dev/null
		exit 1
	fi
	rm -rf "$T"
	exit 0
}

cleanup() {
	local p
	for p in "${SRV_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${BG_PIDS[@]-}"; do
		[[ -n $p ]] && kill -KILL "$p" 2>/dev/null
	done
	return 0
}
BG_PIDS=()
trap cleanup EXIT
