#!/usr/bin/env bash
# forkboard-top --json against a live pool: every field checked against
# what the fixture printed, the kernel's /proc/sysvipc/shm and the
# selectors -m -k -f -p; once under valgrind (the board is untrusted
# input to a parser).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

fx_start || { t_fail "fixture starts"; t_finish; }
run_top --json -m "$FX_SHMID"
t_eq "--json -m exits 0" 0 "$TOP_RC"
t_eq "one board, no error" "1 0" "$(jqv '"\(.boards|length) \(.errors|length)"')"
t_eq "document version" 1 "$(jqv .version)"
t_eq "shmid" "$FX_SHMID" "$(jqv '.boards[0].shmid')"
t_eq "master pid" "$FX_MASTER" "$(jqv '.boards[0].master_pid')"
t_eq "creator pid is the master" "$FX_MASTER" "$(jqv '.boards[0].cpid')"
t_eq "private board: key 0, removed" "0x00000000 true" \
	"$(jqv '"\(.boards[0].key) \(.boards[0].removed)"')"
t_eq "mode and owner" "0600 0 root 0" \
	"$(jqv '.boards[0] | "\(.mode) \(.uid) \(.user) \(.cuid)"')"
t_eq "nattch: master and 3 workers" 4 "$(jqv '.boards[0].nattch')"
read -r _ _ _ ksize _ _ _ <<<"$(awk -v id="$FX_SHMID" '$2 == id' /proc/sysvipc/shm)"
t_eq "size as the kernel says" "$ksize" "$(jqv '.boards[0].size')"
t_eq "pages backed are whole pages of rss" "$(jqv '.boards[0].rss_bytes')" \
	"$(($(jqv '.boards[0].pages_backed') * PAGE))"
t_check "some pages backed" test "$(jqv '.boards[0].pages_backed')" -gt 0
t_eq "layout version" 4 "$(jqv '.boards[0].layout_version')"
t_eq "geometry" "3 8 4096 256" \
	"$(jqv '.boards[0].geometry | "\(.max_workers) \(.slots) \(.payload_size) \(.trace_records)"')"
t_eq "worker pids" "$FX_WORKERS" "$(jqv '[.boards[0].workers[].pid] | map(tostring) | join(" ")')"
t_eq "worker indexes" "0 1 2" "$(jqv '[.boards[0].workers[].index] | map(tostring) | join(" ")')"
t_eq "two workers busy on code 2, in a slot" "2" \
	"$(jqv '[.boards[0].workers[] | select(.state == "busy" and .code == 2 and .slot != null)] | length')"
t_eq "every task counted on a worker row" 8 \
	"$(jqv '[.boards[0].workers[].tasks] | add + 2')"
t_eq "no restarts" 0 "$(jqv '[.boards[0].workers[].restarts] | add')"
t_eq "counters" "8 5 1 0 0" \
	"$(jqv '.boards[0].counters | "\(.submitted) \(.done) \(.nohandler) \(.crashed) \(.respawns)"')"
t_eq "slots used" 2 "$(jqv '.boards[0].slots_used')"
t_eq "slot map: 8 slots, 2 running or queued" "8 2" \
	"$(jqv '.boards[0].slot_map | "\(length) \(gsub("[^RQ]"; "") | length)"')"
t_check "trace tail: 16 records, known causes" test \
	"$(jqv '[.boards[0].trace[] | select(.cause | test("^(submit|claim|publish|collect|take|spawn|ready)$"))] | length')" = 16
t_eq "trace records in order" true \
	"$(jqv '[.boards[0].trace[].seq] | . == (sort) and (.[-1] - .[0] == 15)')"

# Every board found with no selector is a forkboard board, ours among them.
run_top --json
t_eq "no selector: exits 0" 0 "$TOP_RC"
t_eq "no selector: ours is listed" 1 "$(jqv "[.boards[] | select(.shmid == $FX_SHMID)] | length")"
t_eq "no selector: only layout-4 boards" 0 "$(jqv '[.boards[] | select(.layout_version != 4)] | length')"

# -p: by master pid; one that is no master.
run_top --json -p "$FX_MASTER"
t_eq "-p MASTER finds it" "0 $FX_SHMID" "$TOP_RC $(jqv '.boards[0].shmid')"
nopid=4194000
while kill -0 "$nopid" 2>/dev/null; do nopid=$((nopid + 1)); done
run_top --json -p "$nopid"
t_eq "-p nobody: exit 1" 1 "$TOP_RC"
t_eq "-p nobody: message" "forkboard-top: no forkboard board with master pid $nopid" "$(cat "$T/err")"
t_eq "-p nobody: in errors, shmid null" "null no forkboard board with master pid $nopid" \
	"$(jqv '.errors[0] | "\(.shmid) \(.error)"')"

# Under valgrind: no invalid read, no leak.  (Not in a sanitizer build:
# valgrind cannot run an ASan binary, and ASan is checking this run.)
if ldd "$TOP_BIN" 2>/dev/null | grep -q libasan; then
	echo "note: sanitizer build: ASan checks the reader here; valgrind runs in the plain build"
elif command -v valgrind >/dev/null; then
	timeout -k 5 120 valgrind -q --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$TOP_BIN" --json \
		-m "$FX_SHMID" >"$T/vg.out" 2>"$T/vg.err"
	t_eq "valgrind: clean on a live board" 0 "$?"
	t_eq "valgrind: same board" "$FX_MASTER" "$(jq .boards[0].master_pid "$T/vg.out")"
else
	t_fail "valgrind is installed (scripts/deps)"
fi
fx_stop

# Keyed boards: -k KEY and -f PATH[:PROJ].
key=$(printf '0x%08x' $((0x7f000000 + ($$ & 0xffff))))
fx_start -k "$key" || t_fail "keyed fixture starts"
run_top --json -k "$key"
t_eq "-k KEY finds it" "0 $FX_SHMID $key false" \
	"$TOP_RC $(jqv '.boards[0] | "\(.shmid) \(.key) \(.removed)"')"
run_top --json -k $((key))
t_eq "-k in decimal" "0 $FX_SHMID" "$TOP_RC $(jqv '.boards[0].shmid')"
fx_stop
run_top --json -k "$key"
t_eq "-k after the board is gone: exit 1" 1 "$TOP_RC"
t_eq "-k gone: message" "forkboard-top: no forkboard board with key $key" "$(cat "$T/err")"

touch "$T/ftok"
fx_start -f "$T/ftok" || t_fail "ftok fixture starts"
run_top --json -f "$T/ftok"
t_eq "-f PATH finds it (proj F)" "0 $FX_SHMID" "$TOP_RC $(jqv '.boards[0].shmid')"
run_top --json -f "$T/ftok:F"
t_eq "-f PATH:F" "0 $FX_SHMID" "$TOP_RC $(jqv '.boards[0].shmid')"
run_top --json -f "$T/ftok:G"
t_eq "-f PATH:G is another key: exit 1" 1 "$TOP_RC"
t_check "-f PATH:G message names the path" grep -q "no forkboard board with key 0x[0-9a-f]* (ftok $T/ftok:G)" "$T/err"
fx_stop
run_top --json -f "$T/nonexistent"
t_eq "-f missing path: exit 1" 1 "$TOP_RC"
t_check "-f missing path: message" grep -q "ftok: No such file or directory" "$T/err"
t_finish
