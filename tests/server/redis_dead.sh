#!/usr/bin/env bash
# redis_dead.sh - the dead-letter stream: a poison task (one that never
# finishes: each run times out) lands there after K deliveries; bad
# entries (no id, no task, unknown task, oversize payload, a timeout that
# is not a number, a results key of the wrong type) land there at once
# with their cause; the consumer keeps going.  Also: an entry pending
# on a consumer that died and then deleted from the stream (XAUTOCLAIM's
# third reply part), bad options, and the entry format by redis-cli.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis_lib.sh"

redis_start || { t_fail "redis starts"; t_finish; }

# Bad options: clear messages, exit 2, before anything starts.
opt_err() {
	"$SRV_BIN" -l 127.0.0.1:0 "$@" 2>&1 >/dev/null
	echo "rc=$?"
}
t_check "--redis without --stream" bash -c "$(declare -f opt_err); SRV_BIN=$SRV_BIN; opt_err --redis $RURL --group g | grep -q 'needs --stream and --group'"
t_check "--redis bad URL" bash -c "$(declare -f opt_err); SRV_BIN=$SRV_BIN; opt_err --redis http://x --stream s --group g | grep -q 'is not redis://host\[:port\] or unix:/path'"
t_check "--stream without --redis" bash -c "$(declare -f opt_err); SRV_BIN=$SRV_BIN; opt_err --stream s | grep -q 'need --redis'"
t_check "--prefetch over the queue" bash -c "$(declare -f opt_err); SRV_BIN=$SRV_BIN; opt_err --redis $RURL --stream s --group g --queue 10 --prefetch 64 | grep -q 'is over --queue'"

# A "ghost" consumer reads one entry and dies; the entry is then
# deleted from the stream while pending (before c0 exists to take it).
rcli XGROUP CREATE q g 0 MKSTREAM >/dev/null
rcli XADD q '*' task noop id ghost reply r >/dev/null
ghost_id=$(rcli XREADGROUP GROUP g ghost COUNT 1 STREAMS q '>' | sed -n 2p)
rcli XDEL q "$ghost_id" >/dev/null
t_eq "ghost holds a deleted entry" 1 "$(rcli XPENDING q g | head -1)"

K=2
cons_start 0 -- -w 2 --slot-size 1k --redis "$RURL" --stream q --group g \
	--consumer c0 --visibility-ms 1000 --block-ms 200 --max-deliveries $K ||
	{ t_fail "consumer starts"; t_finish; }

# The entry format, by hand: a good task and every kind of bad one.
rcli XADD q '*' task sha256 id good1 reply r payload abc >/dev/null
rcli XADD q '*' task noop reply r >/dev/null
rcli XADD q '*' id notask reply r >/dev/null
rcli XADD q '*' task nosuch id unknown reply r >/dev/null
rcli XADD q '*' task noop id big reply r payload "$(head -c 2000 /dev/zero | tr '\0' x)" >/dev/null
rcli XADD q '*' task noop id badtimeout reply r timeout soon >/dev/null
rcli SET wrongtype x >/dev/null
rcli XADD q '*' task noop id wt reply wrongtype >/dev/null
rcli XADD q '*' task sleep id poison reply r payload 60000 timeout 200 >/dev/null
rcli XADD q '*' task sha256 id good2 reply r payload xyz >/dev/null

for ((k = 0; k < 150; k++)); do
	[[ $(rcli HEXISTS r poison) == 1 && $(rcli XLEN q:dead) -ge 7 ]] && break
	sleep 0.1
done
t_eq "good task's result" "abc sha: $(printf abc | sha256sum | cut -d' ' -f1)" \
	"abc sha: $(rcli HGET r good1 | sed -n 2p)"
t_check "result header names outcome, worker, host" bash -c "$RCLI_BIN -s $RSOCK HGET r good1 | head -1 | grep -Eq '^outcome=done status=0 worker=[0-9]+ attempts=1 deliveries=1 run_ms=[0-9.]+ host=[^ ]+ consumer=c0$'"
t_check "a task after the bad ones still runs" test -n "$(rcli HGET r good2)"

t_check "no id: dead with its cause" bash -c "$RCLI_BIN -s $RSOCK XRANGE q:dead - + | grep -q \"field 'id' (the task id, 1 to 256 bytes) is missing\""
t_check "no task: dead with its cause" bash -c "$RCLI_BIN -s $RSOCK XRANGE q:dead - + | grep -q \"field 'task' is missing\""
t_check "unknown task: dead with its cause" bash -c "$RCLI_BIN -s $RSOCK XRANGE q:dead - + | grep -q \"unknown task 'nosuch'\""
t_check "oversize payload: dead with its cause" bash -c "$RCLI_BIN -s $RSOCK XRANGE q:dead - + | grep -q 'payload of 2000 bytes is over the slot size (1024)'"
t_check "timeout not a number: dead with its cause" bash -c "$RCLI_BIN -s $RSOCK XRANGE q:dead - + | grep -q \"field 'timeout' is not a number\""
t_check "results key of the wrong type: dead with its cause" bash -c "$RCLI_BIN -s $RSOCK XRANGE q:dead - + | grep -q \"cannot store the result in 'wrongtype': WRONGTYPE\""
t_check "poison: dead after $K deliveries" bash -c "$RCLI_BIN -s $RSOCK XRANGE q:dead - + | grep -q 'timed-out on delivery $K of $K'"
t_check "poison: the producer gets outcome=dead" bash -c "$RCLI_BIN -s $RSOCK HGET r poison | grep -q '^outcome=dead deliveries=$K'"
t_check "unknown task: the producer gets outcome=dead" bash -c "$RCLI_BIN -s $RSOCK HGET r unknown | grep -q '^outcome=dead'"
t_check "dead letter keeps the payload" bash -c "$RCLI_BIN -s $RSOCK XRANGE q:dead - + | grep -qx 60000"
t_eq "7 dead letters" 7 "$(rcli XLEN q:dead)"
t_eq "status: 5 malformed entries" 5 "$(cons_status 0 'bad entries')"

# The ghost's entry: pending, deleted, then reported by XAUTOCLAIM.
for ((k = 0; k < 60; k++)); do
	[[ $(cons_status 0 'claimed deleted') -ge 1 ]] && break
	sleep 0.1
done
t_eq "entry deleted while pending: counted" 1 "$(cons_status 0 'claimed deleted')"
for ((k = 0; k < 60; k++)); do
	rcli XINFO CONSUMERS q g | grep -qx ghost || break
	sleep 0.1
done
t_check "ghost consumer (nothing pending, no heartbeat) removed" bash -c "! $RCLI_BIN -s $RSOCK XINFO CONSUMERS q g | grep -qx ghost"
t_eq "nothing pending" 0 "$(rcli XPENDING q g | head -1)"
t_check "/metrics has the Redis link" bash -c "curl -sS http://127.0.0.1:${CONS_PORT[0]}/metrics | grep -q '^forkboard_redis_link{state=\"up\"} 1'"
curl -sS "http://127.0.0.1:${CONS_PORT[0]}/metrics" >"$T/metrics.txt"
t_check "/metrics counts dead letters" grep -q '^forkboard_redis_dead_letters_total 7$' "$T/metrics.txt"
t_check "/metrics has the group's pending count" grep -q '^forkboard_redis_group_pending ' "$T/metrics.txt"
if promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1; then
	t_ok "promtool check metrics (with the Redis series)"
else
	t_fail "promtool check metrics (with the Redis series)" "$(head -5 "$T/promtool.out")"
fi

# The producer: results in task order, failures named, exit status.
printf '10\nabc\n100\n' | "$SUBMIT_BIN" --redis "$RURL" --stream q primes \
	>"$T/p.out" 2>"$T/p.err"
t_eq "producer: a failed task: exit 1" 1 "$?"
t_eq "producer: results in task order" "4 25" "$(tr '\n' ' ' <"$T/p.out" | sed 's/ $//')"
t_check "producer: the failure named with its outcome" \
	grep -q 'task 1: outcome=failed status=22' "$T/p.err"
t_check "producer: summary counts both" grep -Eq 'done 2, failed 1|failed 1, done 2' "$T/p.err"
t_eq "producer: its results hash deleted" "" "$(rcli KEYS "q:results:*")"
"$SUBMIT_BIN" --redis "$RURL" noop </dev/null 2>"$T/p.err"
t_eq "producer: --redis without --stream: exit 2" 2 "$?"
"$SUBMIT_BIN" --redis "$RURL" --stream q --wait x noop </dev/null 2>"$T/p.err"
t_check "producer: bad --wait named" grep -q "'x' is not a number" "$T/p.err"

# Redis goes away: the HTTP side keeps working and says so.
redis_stop
sleep 0.5
t_eq "link down shown" down "$(cons_status 0 link)"
t_eq "HTTP still serves tasks" "$(printf hi | sha256sum | cut -d' ' -f1)" \
	"$(curl -sS --data-binary hi "http://127.0.0.1:${CONS_PORT[0]}/v1/tasks/sha256")"
cons_stop 0
t_finish
