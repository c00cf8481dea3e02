#!/usr/bin/env bash
# The live view, driven through tmux (a private server: -L): it shows the
# scoreboard, s sorts, p pauses, a board removed while watched shows
# "gone" and the view keeps running, q quits.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || { t_fail "tmux is installed (scripts/deps)"; t_finish; }
TMUX_SOCK=fbtop-$$
tm() { tmux -L "$TMUX_SOCK" "$@"; }
view_cleanup() {
	tm kill-server 2>/dev/null
	cleanup
}
trap view_cleanup EXIT

# wait_screen REGEX: until the pane shows it (10 s); the screen in $T/screen.
wait_screen() {
	local i
	for ((i = 0; i < 100; i++)); do
		tm capture-pane -p -t top >"$T/screen" 2>/dev/null
		grep -qE "$1" "$T/screen" && return 0
		sleep 0.1
	done
	echo "--- screen (waited for: $1) ---" >&2
	cat "$T/screen" >&2
	return 1
}

fx_start || { t_fail "fixture starts"; t_finish; }
unset TMUX
tm -f /dev/null new-session -d -s top -x 160 -y 50 \
	"TERM=screen exec '$TOP_BIN' -d 0.3 -m $FX_SHMID"
t_check "the view shows the board" wait_screen "^shmid $FX_SHMID "
t_check "the view shows the scoreboard header" wait_screen "INDEX +PID +STATE"
for w in $FX_WORKERS; do
	t_check "the view shows worker $w" grep -qE "^ +[0-2] +$w (idle|busy) " "$T/screen"
done
t_check "sorted by index" grep -q "sort: index" "$T/screen"
rows() { grep -E '^ +[0-9]+ +[0-9]+ (idle|busy|starting|exiting|dead) ' "$T/screen" | awk '{ print $3 }' | tr '\n' ' '; }

tm send-keys -t top s
t_check "s: sort by state" wait_screen "sort: state"
t_eq "by state: busy rows first" "busy busy idle " "$(rows)"
tm send-keys -t top s
t_check "s again: sort by tasks" wait_screen "sort: tasks"

tm send-keys -t top p
t_check "p: paused" wait_screen "PAUSED"
tm send-keys -t top p
t_check "p again: running" bash -c "sleep 0.5; tmux -L '$TMUX_SOCK' capture-pane -p -t top | grep -q 'sort: tasks' && ! tmux -L '$TMUX_SOCK' capture-pane -p -t top | grep -q PAUSED"

# The board disappears while watched.
fx_stop
t_check "a removed board shows gone" wait_screen "$FX_SHMID\(gone\)"
t_check "its last state stays on screen" grep -q "\[gone: the board was removed\]" "$T/screen"
t_check "the selector's miss is shown" grep -q "no segment with shmid $FX_SHMID" "$T/screen"
sleep 0.7
t_check "the view keeps running" tm has-session -t top

tm send-keys -t top q
for ((i = 0; i < 50; i++)); do
	tm has-session -t top 2>/dev/null || break
	sleep 0.1
done
t_check "q quits" bash -c "! tmux -L '$TMUX_SOCK' has-session -t top 2>/dev/null"
t_finish
