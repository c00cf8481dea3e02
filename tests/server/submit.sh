#!/usr/bin/env bash
# submit.sh - forkboard-submit: stdin lines and files, -o DIR, N
# connections, exit status, per-outcome summary, progress bar on a tty.
. "$(dirname "$0")/lib.sh"

srv_start -w 2 || { t_fail start; t_finish; }
seq 1 300 >"$T/lines"
mkdir -p "$T/out"
"$SUBMIT_BIN" -c 8 -o "$T/out" "$URL" sha256 <"$T/lines" 2>"$T/sub.err"
t_eq "300 tasks: exit 0" 0 "$?"
t_eq "300 result files" 300 "$(ls "$T/out" | wc -l)"
t_eq "a result is right" "$(printf 1 | sha256sum | cut -d' ' -f1)" "$(cat "$T/out/000000.out")"
t_check "summary per outcome" grep -q 'task(s) in .*: done 300$' "$T/sub.err"
t_check "plain progress lines off a tty" grep -q '300/300 done, 0 failed' "$T/sub.err"

printf 'a\nb\n' >"$T/f1"
head -c 5000 /dev/urandom >"$T/f2"
"$SUBMIT_BIN" -q "$URL" gzip "$T/f1" "$T/f2" >/dev/null 2>&1
t_eq "files as tasks: exit 0" 0 "$?"
"$SUBMIT_BIN" -o "$T/out" "$URL" gzip "$T/f2" 2>/dev/null
t_check "gzip result round-trips" cmp -s "$T/f2" <(gunzip -c "$T/out/000000.out")

printf '10\nabc\n20\n' | "$SUBMIT_BIN" "$URL" primes >"$T/mixed.out" 2>"$T/mixed.err"
t_eq "a failed task: exit 1" 1 "$?"
t_check "failure named" grep -q 'HTTP 422 failed' "$T/mixed.err"
t_check "summary counts both" grep -q 'done 2, failed 1\|failed 1, done 2' "$T/mixed.err"
printf 'x\n' | "$SUBMIT_BIN" "$URL" nosuchkind >/dev/null 2>"$T/nk.err"
t_eq "unknown kind: exit 1" 1 "$?"
t_check "unknown kind: http-404 in summary" grep -q 'http-404 1' "$T/nk.err"
"$SUBMIT_BIN" 2>/dev/null
t_eq "usage: exit 2" 2 "$?"

if command -v script >/dev/null; then
	seq 1 50 | script -qec "'$SUBMIT_BIN' -c 2 '$URL' noop >/dev/null" /dev/null >"$T/tty.out" 2>&1
	t_check "progress bar on a tty" grep -q '\[##############################\] 50/50 .*/s ETA' "$T/tty.out"
fi
srv_stop

"$SUBMIT_BIN" -q "http://127.0.0.1:1" noop "$T/f1" 2>"$T/refused.err"
t_eq "server down: exit 1" 1 "$?"
t_check "server down: connection-error counted" grep -q 'connection-error 1' "$T/refused.err"

t_finish
