#!/usr/bin/env bash
# forkboard-top --once: the text a script reads, against the fixture and
# against what `ipcs -m -i` says of the same segment.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

fx_start || { t_fail "fixture starts"; t_finish; }
run_top --once -m "$FX_SHMID"
t_eq "--once -m exits 0" 0 "$TOP_RC"
t_eq "nothing on stderr" "" "$(cat "$T/err")"
t_check "kernel line: shmid, key 0, mode, removed" grep -qE \
	"^shmid $FX_SHMID  key 0x00000000  size [0-9]+  rss [0-9]+ \([1-9][0-9]* pages backed\)  mode 0600  removed yes$" "$T/out"
t_check "owner, nattch 4, cpid" grep -qE \
	"^owner root \(uid 0\)  creator root \(uid 0\)  nattch 4  cpid $FX_MASTER  lpid [0-9]+$" "$T/out"
t_check "geometry and master" grep -qE \
	"^forkboard layout 4  master pid $FX_MASTER  workers max 3  slots 8  payload 4096  result 4096  trace 256$" "$T/out"
t_check "counters" grep -qE "^tasks: submitted 8  done 5  failed 0  nohandler 1  crashed 0  timedout 0$" "$T/out"
t_check "in flight" grep -qE "  in flight 2$" "$T/out"
t_check "slot map" grep -qE "^slots used 2 of 8: [RQ_]{8}$" "$T/out"
for w in $FX_WORKERS; do
	t_check "scoreboard row of worker $w" grep -qE "^ +[0-2] +$w (idle|busy) " "$T/out"
done
t_eq "two busy rows" 2 "$(grep -cE '^ +[0-2] +[0-9]+ busy +[0-9]+ +[0-9]+ +2 +[0-7] ' "$T/out")"
t_check "trace tail" grep -q "^trace (last 16):$" "$T/out"
t_check "no rate without -d" bash -c "! grep -q '^rate:' '$T/out'"

# ipcs -m -i shows the same segment the same way.
ipcs -m -i "$FX_SHMID" >"$T/ipcs" 2>&1
t_check "ipcs: same size" grep -q "bytes=$(sed -n 's/.*  size \([0-9]*\) .*/\1/p' "$T/out")" "$T/ipcs"
t_check "ipcs: same cpid" grep -q "cpid=$FX_MASTER" "$T/ipcs"
t_check "ipcs: nattch 4" grep -q "nattch=4" "$T/ipcs"
t_check "ipcs: mode 01600 (SHM_DEST)" grep -q "mode=01600" "$T/ipcs"

# -d: a second sample gives rates (an idle pool: 0).
run_top --once -d 0.3 -m "$FX_SHMID"
t_eq "--once -d exits 0" 0 "$TOP_RC"
t_check "--once -d: rates" grep -qE "^rate: 0\.0 done/s  0\.0 submitted/s$" "$T/out"
run_top --once -n 2 -d 0.2 -m "$FX_SHMID"
t_eq "--once -n 2 prints two snapshots" 2 "$(grep -c "^shmid $FX_SHMID " "$T/out")"
fx_stop

# No trace ring: said so.
fx_start -t 0 || t_fail "fixture without trace starts"
run_top --once -m "$FX_SHMID"
t_check "trace: off" grep -q "^trace: off$" "$T/out"
fx_stop
t_finish
