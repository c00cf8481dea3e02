#!/usr/bin/env bash
# browser.sh - GET / in headless Chromium while tasks run: the page's
# script must have drawn one cell per worker (busy ones with their task),
# the slot map and the outcome table.  Keeps a screenshot in the build
# tree (tests/server/board.png).
. "$(dirname "$0")/lib.sh"

if ! command -v chromium >/dev/null; then
	t_fail "chromium installed" "apt-get install chromium"
	t_finish
fi
chrome() {
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$T/chrome" --virtual-time-budget=3000 "$@" \
		2>>"$T/chrome.err"
}

srv_start -w 3 || { t_fail start; t_finish; }
curl -sS -o /dev/null --data-binary x "$URL/v1/tasks/sha256"
for i in 1 2 3 4 5; do
	curl -sS -o /dev/null --data-binary 15000 "$URL/v1/tasks/sleep" &
	BG_PIDS+=($!)
done
sleep 0.3
t_check "page has no external asset" bash -c "! curl -sS '$URL/' | grep -Eq '(src|href)=\"(https?:)?//'"
chrome --dump-dom "$URL/" >"$T/dom.html"
python3 - "$T/dom.html" >"$T/dom.out" <<'PY'
import re, sys
d = open(sys.argv[1]).read()
cells = re.findall(r'<div class="w (\w+)" data-state="\w+"><b>#(\d+) \w+</b>(.*?)</div></div>', d)
print(len(cells))
print(sum(1 for c in cells if c[0] == "busy" and "sleep" in c[2]))
slots = re.findall(r'<div class="s (\w)" title=', d)
print(len(slots), sum(1 for s in slots if s == "R") >= 3, sum(1 for s in slots if s == "q"))
print(re.search(r'<th>done</th><td>(\d+)</td>', d).group(1) if re.search(r'<th>done</th><td>(\d+)</td>', d) else "none")
print("data-updated" in d)
PY
t_eq "one cell per worker" 3 "$(sed -n 1p "$T/dom.out")"
t_eq "busy cells show their task" 3 "$(sed -n 2p "$T/dom.out")"
t_eq "slot map: 32 slots, 3 running, 2 queued (--ahead 2)" "32 True 2" "$(sed -n 3p "$T/dom.out")"
t_eq "outcome table counts the finished task" 1 "$(sed -n 4p "$T/dom.out")"
t_eq "the page updated itself" True "$(sed -n 5p "$T/dom.out")"
shot=$FB_TOP_BUILDDIR/tests/server/board.png
mkdir -p "$(dirname "$shot")"
chrome --window-size=1000,700 --screenshot="$shot" "$URL/" >/dev/null
t_check "screenshot kept ($shot)" test -s "$shot"
kill "${BG_PIDS[@]}" 2>/dev/null
wait "${BG_PIDS[@]}" 2>/dev/null
BG_PIDS=()
srv_stop QUIT	# the sleeps would hold a graceful stop

t_finish
