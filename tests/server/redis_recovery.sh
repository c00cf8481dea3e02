#!/usr/bin/env bash
# redis_recovery.sh - three consumers ("three hosts": three server
# processes) share one stream; 100 000 sha256 tasks; one consumer is
# SIGKILLed mid-run.  Every task must end with its right result, none
# lost; duplicates at most what the killed consumer held (--prefetch
# plus the claim reserve); its pending entries claimed within the
# visibility timeout plus a margin; its workers and segment gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis_lib.sh"

N=${FB_REDIS_TASKS:-100000}
VIS=2000
PREFETCH=64
HELD_MAX=$((PREFETCH + 16))

redis_start || { t_fail "redis starts"; t_finish; }
for i in 0 1 2; do
	cons_start $i -- -w 2 --redis "$RURL" --stream jobs --group pool \
		--consumer host$i --prefetch $PREFETCH --visibility-ms $VIS \
		--block-ms 500 || { t_fail "consumer $i starts"; t_finish; }
done
t_eq "consumer 0 link up" up "$(cons_status 0 link)"

seq 1 "$N" >"$T/lines"
expect_sha "$T/lines" >"$T/expected"
submit_bg sha256

# Kill consumer 1 once it has done a share of the work.
acked_at_least 1 $((N / 10))
a=$ACKED
held=$(cons_status 1 held)
kill -KILL "${CONS_PID[1]}"
t0=$(date +%s.%N)
{ wait "${CONS_PID[1]}"; } 2>/dev/null
t_check "consumer 1 had done work when killed ($a acked, $held held)" test "$a" -gt 0

# Its pending entries: claimed by the others within VIS + margin.
expect_claimed killed host1 "$t0" $VIS
cons_gone 1

wait "$SUB"
t_eq "producer exits 0" 0 "$?"
t_eq "every task has its right result (none lost)" "" "$(cmp "$T/expected" "$T/got" 2>&1)"
t_eq "results: $N lines" "$N" "$(wc -l <"$T/got")"
dups=$(sed -n 's/.*; duplicates \([0-9-]*\)$/\1/p' "$T/sub.err")
echo "# duplicates: $dups (consumer 1 held $held, at most $HELD_MAX)"
t_check "duplicates ($dups) at most what consumer 1 could hold ($HELD_MAX)" \
	test "${dups:-999999}" -le "$HELD_MAX"
t_check "summary: done $N" grep -q "done $N;" "$T/sub.err"
c=$(( $(cons_status 0 claimed) + $(cons_status 2 claimed) ))
t_check "the survivors claimed entries ($c)" test "$c" -ge 1
t_eq "group: nothing pending" 0 "$(rcli XPENDING jobs pool | head -1)"
# XDEL goes by 64: the killed consumer's last batch may stay (acked).
t_check "stream: acked entries deleted (all but <= 64: $(rcli XLEN jobs))" \
	test "$(rcli XLEN jobs)" -le 64
# The dead consumer leaves the group once nothing is pending on it and
# its heartbeat is gone (Lua-checked XGROUP DELCONSUMER).
for ((k = 0; k < 100; k++)); do
	rcli XINFO CONSUMERS jobs pool | grep -qx host1 || break
	sleep 0.1
done
t_check "dead consumer removed from the group" bash -c "! $RCLI_BIN -s $RSOCK XINFO CONSUMERS jobs pool | grep -qx host1"
t_check "live consumers stay" bash -c "$RCLI_BIN -s $RSOCK XINFO CONSUMERS jobs pool | grep -qx host0"
cmds=$(rcli INFO commandstats | python3 -c '
import sys, re
n = 0
for l in sys.stdin:
    m = re.match(r"cmdstat_([^:]+):calls=(\d+)", l)
    if m and m.group(1) not in ("ping", "info", "xinfo|consumers", "xpending", "xlen", "config|resetstat"):
        n += int(m.group(2))
print(n)')
echo "# Redis commands: $cmds for $N tasks"
t_check "at most 3 Redis commands per task ($cmds for $N)" test "$cmds" -le $((3 * N))

cons_stop 0
cons_stop 2
redis_stop
t_finish
