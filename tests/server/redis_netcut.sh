#!/usr/bin/env bash
# redis_netcut.sh - a consumer's network link is cut mid-run, and comes
# back.  As root with network namespaces, each of the three consumers
# ("hosts") runs in its own namespace behind its own veth pair, and the
# cut is "ip link set down" on one (packets vanish: no reset, no error,
# as on a real cut).  Elsewhere a TCP relay
# in front of Redis is frozen with SIGSTOP, which cuts the same way
# (said in the output).  Its entries must be claimed by the others
# within the visibility timeout plus a margin; when the link returns, it
# reconnects and stores its late results, which overwrite the same task
# ids with the same bytes: every result right, none lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis_lib.sh"

N=${FB_REDIS_CUT_TASKS:-20000}
VIS=2000
NET=10.$((200 + RANDOM % 50)).$((RANDOM % 250))
MODE=relay
RELAY=
PRE=("" "" "")		# per consumer: the command to run it in its namespace
URLS=()

net_cleanup() {
	local i
	for i in 0 1 2; do
		ip netns del "fbr$$x$i" 2>/dev/null
		ip link del "fbh$$x$i" 2>/dev/null
	done
	cleanup
}
trap net_cleanup EXIT

# net_make I: namespace fbrPIDxI, veth fbhPIDxI (host side, NET.4I+1/30)
# to fbnPIDxI (inside, NET.4I+2/30).
net_make() {
	local i=$1 ns=fbr$$x$1 vh=fbh$$x$1 vn=fbn$$x$1
	ip netns add "$ns" 2>/dev/null &&
	    ip link add "$vh" type veth peer name "$vn" &&
	    ip link set "$vn" netns "$ns" &&
	    ip addr add "$NET.$((4 * i + 1))/30" dev "$vh" &&
	    ip link set "$vh" up &&
	    ip netns exec "$ns" ip addr add "$NET.$((4 * i + 2))/30" dev "$vn" &&
	    ip netns exec "$ns" ip link set "$vn" up &&
	    ip netns exec "$ns" ip link set lo up
}

# Each consumer ("host") gets its own namespace and link, when root may.
if [[ ${FB_REDIS_CUT_MODE-} != relay && $(id -u) -eq 0 ]] &&
    net_make 0 && net_make 1 && net_make 2; then
	MODE=netns
else
	net_cleanup
	trap cleanup EXIT
fi
echo "# cut-link mode: $MODE"

REDIS_PORT=$(free_port)
if [[ $MODE == netns ]]; then
	redis_start --bind "127.0.0.1 $NET.1 $NET.5 $NET.9" --protected-mode no ||
		{ t_fail "redis starts"; t_finish; }
	for i in 0 1 2; do
		PRE[$i]="ip netns exec fbr$$x$i"
		URLS[$i]=redis://$NET.$((4 * i + 1)):$REDIS_PORT
	done
else
	redis_start --bind 127.0.0.1 || { t_fail "redis starts"; t_finish; }
	RPORT=$(free_port)
	python3 - "$RPORT" "$REDIS_PORT" <<'EOF' &
import socket, sys, threading
# A dumb TCP relay: SIGSTOP freezes it, and with it every byte.
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(16)
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError: pass
    for s in (a, b):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
while True:
    c, _ = ls.accept()
    u = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    for x, y in ((c, u), (u, c)):
        threading.Thread(target=pipe, args=(x, y), daemon=True).start()
EOF
	RELAY=$!
	BG_PIDS+=("$RELAY")
	sleep 0.3
	URLS=("redis://127.0.0.1:$RPORT" "$RURL" "$RURL")
fi
read -ra APRE <<<"${PRE[0]}"

cut() {
	if [[ $MODE == netns ]]; then ip link set "fbh$$x0" down; else kill -STOP "$RELAY"; fi
}
restore() {
	if [[ $MODE == netns ]]; then ip link set "fbh$$x0" up; else kill -CONT "$RELAY"; fi
}

ARGS=(-w 2 --stream jobs --group pool --prefetch 32 --visibility-ms $VIS
	--block-ms 500)
for i in 0 1 2; do
	# shellcheck disable=SC2086  # PRE[i] is a command line
	cons_start $i ${PRE[$i]} -- "${ARGS[@]}" --redis "${URLS[$i]}" \
		--consumer c$i || { t_fail "consumer $i starts"; t_finish; }
done
t_check "consumer 0 is the server process itself" \
	grep -q forkboard "/proc/${CONS_PID[0]}/cmdline"
t_eq "consumer 0: link up through its own link" up "$(cons_status 0 link "${APRE[@]}")"

sleep_lines
submit_bg sleep
acked_at_least 0 $((N / 20)) "${APRE[@]}"
a=$ACKED
cut
t0=$(date +%s.%N)
held=$(cons_status 0 held "${APRE[@]}")
t_check "consumer 0 held entries when cut ($held, $a acked)" test "$held" -gt 0

expect_claimed cut c0 "$t0" $VIS
for ((k = 0; k < 100; k++)); do
	[[ $(cons_status 0 link "${APRE[@]}") != up ]] && break
	sleep 0.1
done
t_check "consumer 0 noticed the cut (link $(cons_status 0 link "${APRE[@]}"))" \
	test "$(cons_status 0 link "${APRE[@]}")" != up
t_eq "consumer 0: HTTP keeps serving meanwhile" "slept 1 ms" \
	"$("${APRE[@]}" curl -sS --data-binary 1 "http://127.0.0.1:${CONS_PORT[0]}/v1/tasks/sleep")"
stored_cut=$(cons_status 0 stored "${APRE[@]}")
restore
for ((k = 0; k < 200; k++)); do
	[[ $(cons_status 0 link "${APRE[@]}") == up ]] && break
	sleep 0.1
done
t_eq "consumer 0: link back up" up "$(cons_status 0 link "${APRE[@]}")"
wait "$SUB"
t_eq "producer exits 0" 0 "$?"
for ((k = 0; k < 100; k++)); do
	[[ $(cons_status 0 held "${APRE[@]}") == 0 ]] && break
	sleep 0.1
done
t_eq "consumer 0 delivered all it held (late results stored, acked)" 0 \
	"$(cons_status 0 held "${APRE[@]}")"
echo "# consumer 0 stored $(( $(cons_status 0 stored "${APRE[@]}") - stored_cut )) result(s) after the link came back"
t_eq "every task has its right result (late ones did not corrupt)" "" \
	"$(cmp "$T/expected" "$T/got" 2>&1)"
dups=$(sed -n 's/.*; duplicates \([0-9-]*\)$/\1/p' "$T/sub.err")
echo "# duplicates: $dups (consumer 0 held $held when cut)"
# A lower bound: a command sent before the cut may still arrive after
# it (TCP retransmits; the relay's buffers), uncounted by anyone.
t_check "duplicates ($dups) at most what consumer 0 could hold (48)" \
	test "${dups:-999999}" -le 48
t_eq "group: nothing pending" 0 "$(rcli XPENDING jobs pool | head -1)"

for i in 0 1 2; do cons_stop $i; done
redis_stop
t_finish
