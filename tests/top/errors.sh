#!/usr/bin/env bash
# What forkboard-top says of what it cannot show: a segment that is not a
# board, a board of another layout version, a missing shmid, usage
# errors, and a board its user may not read (an unprivileged run).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

fx_start -N || t_fail "plain segment starts"
plain=$FX_SHMID plain_pid=$FX_PID
fx_start -V 3 || t_fail "version-3 segment starts"
old=$FX_SHMID old_pid=$FX_PID

run_top --once -m "$plain"
t_eq "not a board: exit 1" 1 "$TOP_RC"
t_eq "not a board: message" "forkboard-top: shmid $plain: not a forkboard board" "$(cat "$T/err")"
run_top --once -m "$old"
t_eq "other version: exit 1" 1 "$TOP_RC"
t_eq "other version: message" \
	"forkboard-top: shmid $old: forkboard board layout version 3, this forkboard-top reads 4" \
	"$(cat "$T/err")"
run_top --json
t_eq "no selector: the plain segment is skipped quietly" 0 \
	"$(jqv "[.boards[], .errors[] | select(.shmid == $plain)] | length")"
t_eq "no selector: the old board is named in errors" \
	"forkboard board layout version 3, this forkboard-top reads 4" \
	"$(jqv ".errors[] | select(.shmid == $old) | .error")"
fx_stop "$plain_pid" "$plain" ""
fx_stop "$old_pid" "$old" ""

run_top --once -m 2147480000
t_eq "missing shmid: exit 1" 1 "$TOP_RC"
t_eq "missing shmid: message" "forkboard-top: no segment with shmid 2147480000" "$(cat "$T/err")"
for args in "-m abc" "-k zz" "-p 0" "-d 0" "-n 0" "--once --json" "extra" "--bogus"; do
	# shellcheck disable=SC2086  # split on purpose
	run_top $args
	t_eq "usage error ($args): exit 2" 2 "$TOP_RC"
	t_check "usage error ($args): says usage" grep -q "^usage: forkboard-top" "$T/err"
done

# An unprivileged user: the permission message, naming who may read it.
if [[ $(id -u) -ne 0 ]]; then
	t_skip_rest "the unprivileged run needs root (setpriv)"
fi
fx_start || { t_fail "fixture starts"; t_finish; }
mkdir -m 755 "$T/bin" && cp "$TOP_BIN" "$T/bin/" && chmod 755 "$T" "$T/bin/forkboard-top"
timeout -k 5 30 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$T/bin/forkboard-top" --once -m "$FX_SHMID" >"$T/out" 2>"$T/err"
t_eq "nobody: exit 1" 1 "$?"
t_eq "nobody: permission message" \
	"forkboard-top: shmid $FX_SHMID: permission denied: the board is mode 0600, owned by uid 0 (root); run as root or as that user" \
	"$(cat "$T/err")"
timeout -k 5 30 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$T/bin/forkboard-top" --json -p "$FX_MASTER" >"$T/out" 2>"$T/err"
t_eq "nobody, -p: exit 1" 1 "$?"
t_check "nobody, -p: permission error in JSON" grep -q "permission denied" "$T/out"
fx_stop
t_finish
