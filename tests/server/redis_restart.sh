#!/usr/bin/env bash
# redis_restart.sh - Redis (AOF on) is restarted mid-run: the consumers
# lose both connections, reconnect with back-off, deliver the results
# of the tasks that ran meanwhile, and nothing is lost; the producer
# reconnects too.  Afterwards each consumer has the descriptors it had
# before (the old connections are closed, not leaked).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis_lib.sh"

N=${FB_REDIS_RESTART_TASKS:-12000}
AOF=(--appendonly yes --appendfsync everysec)

redis_start "${AOF[@]}" || { t_fail "redis starts"; t_finish; }
for i in 0 1; do
	cons_start $i -- -w 2 --redis "$RURL" --stream jobs --group pool \
		--consumer c$i --prefetch 16 --visibility-ms 3000 --block-ms 500 ||
		{ t_fail "consumer $i starts"; t_finish; }
done
sleep 0.3
fd0=$(fds_of "${CONS_PID[0]}")
fd1=$(fds_of "${CONS_PID[1]}")

# sleep tasks of 1 to 3 ms: a run of a few seconds, each result known.
sleep_lines
submit_bg sleep
acked_at_least 0 $((N / 8))
a=$ACKED
t_check "consumer 0 at work before the restart ($a acked)" test "$a" -gt 0
redis_stop
t_eq "link down while Redis is away" down "$(cons_status 0 link)"
sleep 0.5
redis_start "${AOF[@]}" || { t_fail "redis restarts"; t_finish; }
t_check "the AOF was loaded" grep -q 'DB loaded from append only file' "$T/redis.log"

wait "$SUB"
t_eq "producer exits 0" 0 "$?"
t_eq "every task has its right result (none lost)" "" "$(cmp "$T/expected" "$T/got" 2>&1)"
t_check "producer summary: done $N" grep -q "done $N;" "$T/sub.err"
for i in 0 1; do
	t_eq "consumer $i: link up again" up "$(cons_status $i link)"
	t_check "consumer $i: link lost once or more" test "$(cons_status $i 'links lost')" -ge 1
done
t_eq "group: nothing pending" 0 "$(rcli XPENDING jobs pool | head -1)"
t_eq "consumer 0: descriptors as before" "$fd0" "$(fds_of "${CONS_PID[0]}")"
t_eq "consumer 1: descriptors as before" "$fd1" "$(fds_of "${CONS_PID[1]}")"
grep -h 'duplicates' "$T/sub.err" | sed 's/^/# /'

cons_stop 0
cons_stop 1
redis_stop
t_finish
