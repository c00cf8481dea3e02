#!/usr/bin/env bash
# module.sh - --module: the libgd thumbnail module; a malformed image
# crashes only the worker that parsed it (502 naming the signal), the
# server keeps serving, nothing leaks.
. "$(dirname "$0")/lib.sh"

code_of() {
	curl -sS -m 10 -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@"
}

# A valid 200x100 PNG, made here.
python3 - "$T/ok.png" <<'PY'
import struct, sys, zlib
w, h = 200, 100
raw = b"".join(b"\0" + b"".join(bytes((x % 256, y % 256, 128)) for x in range(w)) for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
# A PNG signature followed by garbage.
{ printf '\x89PNG\r\n\x1a\n'; head -c 500 /dev/urandom; } >"$T/bad.png"

"$SRV_BIN" -l 127.0.0.1:0 --module /nonexistent.so 2>"$T/mod.err" >/dev/null
t_eq "missing module: exit 1" 1 "$?"
t_check "missing module: says why" grep -q 'module /nonexistent.so' "$T/mod.err"

srv_start -w 2 --module "$THUMB_SO" || { t_fail start; t_finish; }
t_eq "thumb of a valid PNG: 200" 200 "$(code_of --data-binary @"$T/ok.png" "$URL/v1/tasks/thumb")"
t_check "thumb is image/png" grep -qi '^Content-Type: image/png' "$T/hdr"
t_eq "thumb is 64x32" "64 32" "$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); print(*struct.unpack(">II", d[16:24]))' "$T/body")"
t_eq "careful module, malformed image: 422" 422 "$(code_of --data-binary @"$T/bad.png" "$URL/v1/tasks/thumb")"
before=$(pgrep -P "$SRV_PID" | sort | tr '\n' ' ')
t_eq "careless module, malformed image: 502" 502 "$(code_of --data-binary @"$T/bad.png" "$URL/v1/tasks/thumb-unsafe")"
t_check "502 outcome crashed" grep -qi '^X-Task-Outcome: crashed' "$T/hdr"
# Plain build: SIGSEGV.  Under ASan its SEGV handler reports and ends the
# worker itself (abort, or exit 1).
if grep -qi '^X-Task-Signal:' "$T/hdr"; then
	t_check "502 names the signal" grep -qiE '^X-Task-Signal: SIG(SEGV|ABRT|BUS)' "$T/hdr"
	t_check "502 body names the cause" grep -q 'crashed: worker .* killed by SIG' "$T/body"
else
	t_check "502 body names the cause (sanitizer exit)" grep -q 'crashed: worker .* exited with status' "$T/body"
fi
for i in 1 2 3 4; do
	t_eq "server keeps serving after the crash ($i)" 200 "$(code_of --data-binary @"$T/ok.png" "$URL/v1/tasks/thumb")"
done
sleep 0.2
after=$(pgrep -P "$SRV_PID" | sort | tr '\n' ' ')
t_eq "one worker replaced, same count" "$(wc -w <<<"$before")" "$(wc -w <<<"$after")"
t_check "the crashed worker is not among the new ones" test "$before" != "$after"
t_eq "status counts the crash" 1 "$(curl -sS "$URL/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["kinds"]["thumb-unsafe"]["outcomes"]["crashed"])')"
t_check "status names the module" bash -c "curl -sS '$URL/status' | grep -q '\"module\": \"thumb\"'"
srv_workers
srv_stop

# --- SIGHUP reloads modules: new code goes live, no request fails ---
mkmod() {	# mkmod VERSION: build $T/ver.so answering "VERSION"
	cat >"$T/ver.c" <<C
#include <string.h>
#include "forkboard-module.h"
static int ver(struct fb_task *t, void *a) { (void)a; memcpy(t->t_result, "$1", 2); t->t_result_len = 2; return 0; }
static const struct fbm_kind k[] = { { "version", ver, NULL, "text/plain", 0 } };
static const struct fbm_module m = { FBM_ABI_VERSION, "ver", k, 1, NULL, NULL };
const struct fbm_module *forkboard_module_v1(void);
const struct fbm_module *forkboard_module_v1(void) { return &m; }
C
	cc -shared -fPIC -I"$FB_TOP_SRCDIR/include" -I"$FB_TOP_BUILDDIR/include" \
		-I"$FB_TOP_SRCDIR/examples/server" -o "$T/ver.so.new" "$T/ver.c" &&
		mv "$T/ver.so.new" "$T/ver.so"
}
if mkmod v1; then
	srv_start -w 2 --module "$T/ver.so" || { t_fail start; t_finish; }
	t_eq "module v1 answers" v1 "$(curl -sS --data-binary x "$URL/v1/tasks/version")"
	python3 "$(dirname "$0")/load.py" "$URL/v1/tasks/version" x 400 4 >"$T/reload.out" &
	lp=$!
	BG_PIDS+=($lp)
	sleep 0.1
	mkmod v2
	kill -HUP "$SRV_PID"
	wait "$lp"
	t_eq "reload under load: zero failed requests" "200:400" "$(cat "$T/reload.out")"
	t_eq "after HUP the new code answers" v2 "$(curl -sS --data-binary x "$URL/v1/tasks/version")"
	printf 'not a module' >"$T/ver.so"
	kill -HUP "$SRV_PID"
	sleep 0.3
	t_eq "a broken module on HUP: old code stays" v2 "$(curl -sS --data-binary x "$URL/v1/tasks/version")"
	t_check "a broken module on HUP is logged" grep -q 'module reload failed' "$T/error.log"
	srv_workers
	srv_stop
else
	t_fail "build a test module with cc"
fi

t_finish
