# shellcheck shell=bash
# examples/study/lib/check.sh - what every lesson's check shares.
#
# A lesson's check is a bash script that sources this file:
#
#   . "$(dirname "$0")/../lib/check.sh"
#   study_begin "$@"              # [SOURCE.c]: default the lesson's exercise.c
#   study_build                   # compile SOURCE into $T/prog (or fail)
#   study_run 5 ARG...            # run $T/prog ARG... under the guard
#   study_status 0                # its exit status must be 0
#   study_expect <<EOF            # its output, normalised, must be this
#   ...
#   EOF
#   study_end                     # "NAME: N passed, M failed"; exit 0 or 1
#
# and, where needed: study_need TOOL PACKAGE (fail if a tool is missing),
# study_build_forkboard (study_build, linked with libforkboard),
# study_run_cmd SECS PROGRAM ARG... (run anything under the guard),
# STUDY_NORMALISE (a sed -E script applied before comparing), study_number
# WORDS (ids to #1, #2...), study_expect FILE (compare another file),
# study_assert TEXT COMMAND... (a fact the check tests itself).
#
# Every run goes through lib/guard.c: a time limit, a child subreaper that
# finds zombies and strays, and (as root) a private IPC namespace in which
# every segment left behind is seen, then freed.  Whatever the guard finds
# is a failed assertion.  On a difference the check prints a unified diff,
# expected first, as OSTEP's tester does.
#
# Environment: STUDY_CC (default cc), STUDY_GUARD (a guard binary already
# built: scripts/study builds it once), STUDY_QUIET=1 (only the last line).

set -uo pipefail

STUDY_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034  # for the checks: the repository top
STUDY_TOP=$(cd "$STUDY_LIB/../../.." && pwd)
STUDY_CFLAGS=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2)

study_passed=0
study_failed=0

# Print unless STUDY_QUIET is set.
study_say() {
	[[ ${STUDY_QUIET-} == 1 ]] || printf '%s\n' "$*"
}

study_ok() {
	study_passed=$((study_passed + 1))
	study_say "ok:   $*"
}

study_fail() {
	study_failed=$((study_failed + 1))
	study_say "FAIL: $*"
}

# The tool must be there: a check never skips because of a missing tool.
# study_need TOOL PACKAGE
study_need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "$STUDY_NAME: needs '$1' (Debian package $2): apt-get install $2" >&2
		exit 2
	fi
}

# study_begin [SOURCE.c]
study_begin() {
	STUDY_DIR=$(cd "$(dirname "$0")" && pwd)
	STUDY_NAME=$(basename "$STUDY_DIR")
	STUDY_SRC=${1:-$STUDY_DIR/exercise.c}
	if [[ ! -f $STUDY_SRC ]]; then
		echo "$STUDY_NAME: no such source file: $STUDY_SRC" >&2
		exit 2
	fi
	STUDY_SRC=$(cd "$(dirname "$STUDY_SRC")" && pwd)/$(basename "$STUDY_SRC")
	study_need "${STUDY_CC:-cc}" gcc
	study_need diff diffutils
	study_need timeout coreutils
	T=$(mktemp -d "${TMPDIR:-/tmp}/fb-study.XXXXXX") || exit 2
	# shellcheck disable=SC2064  # expand $T now
	trap "rm -rf '$T'" EXIT
	mkdir "$T/work"
	study_say "== $STUDY_NAME: $(basename "$STUDY_SRC")"
	if [[ -n ${STUDY_GUARD-} && -x ${STUDY_GUARD-} ]]; then
		GUARD=$STUDY_GUARD
	else
		GUARD=$T/guard
		"${STUDY_CC:-cc}" "${STUDY_CFLAGS[@]}" -o "$GUARD" \
		    "$STUDY_LIB/guard.c" || { echo "$STUDY_NAME: cannot build the guard" >&2; exit 2; }
	fi
}

# study_build [EXTRA CC ARGUMENTS...]: compile the source into $T/prog.
# Nothing else can be checked without a program, so a failure ends here.
study_build() {
	if "${STUDY_CC:-cc}" "${STUDY_CFLAGS[@]}" -o "$T/prog" "$STUDY_SRC" \
	    "$@" >"$T/cc.log" 2>&1; then
		study_ok "compiles with ${STUDY_CFLAGS[*]}"
	else
		study_fail "does not compile:"
		[[ ${STUDY_QUIET-} == 1 ]] || sed 's/^/    /' "$T/cc.log"
		study_end
	fi
}

# study_build_forkboard: compile the source against libforkboard into
# $T/prog, for the lessons on the library itself.  The library is
# $FORKBOARD_LIBDIR/libforkboard.so if set, else build-study/.libs, built
# here when needed (study_forkboard).  Sets LD_LIBRARY_PATH for the runs
# that follow.
study_build_forkboard() {
	local libdir=${FORKBOARD_LIBDIR-}
	if [[ -z $libdir ]]; then
		study_forkboard libforkboard.la
		libdir=$STUDY_BUILD/.libs
	fi
	if [[ ! -f $libdir/libforkboard.so ]]; then
		study_fail "no libforkboard.so in $libdir"
		study_end
	fi
	# The generated <forkboard-version.h> sits in the build tree's include/.
	study_build -I "$libdir/../include" -I "$STUDY_TOP/include" \
	    "$libdir/libforkboard.so" -lbsd
	export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
}

# study_run SECONDS [ARG...]: run $T/prog under the guard.
study_run() {
	local secs=$1
	shift
	study_run_cmd "$secs" "$T/prog" "$@"
}

# study_run_cmd SECONDS PROGRAM [ARG...]: run any program (a script that
# starts several) under the guard.  Output in $T/out, errors in $T/err,
# exit status in $RUN_STATUS.  The outer timeout only catches a guard that
# itself hangs.
study_run_cmd() {
	local secs=$1
	shift
	RUN_STATUS=0
	timeout -k 2 $((secs + 10)) "$GUARD" -t "$secs" -r "$T/leftovers" -- "$@" \
	    </dev/null >"$T/out" 2>"$T/err" || RUN_STATUS=$?
	# What the guard killed at the time limit belongs to the timeout,
	# which study_status reports; anything else is a leftover.
	grep -v '^timed out\|^process killed at the time limit' "$T/leftovers" \
	    >"$T/left" || true
	if [[ -s $T/left ]]; then
		study_fail "the run left something behind:"
		[[ ${STUDY_QUIET-} == 1 ]] || sed 's/^/    /' "$T/left"
	else
		study_ok "no process and no segment left behind"
	fi
}

# Show the end of the program's standard error, if any.
study_show_err() {
	[[ ${STUDY_QUIET-} == 1 || ! -s $T/err ]] && return 0
	echo "    its standard error (last lines):"
	tail -n 15 "$T/err" | sed 's/^/    | /'
}

# study_status N [WHAT]: the run's exit status must be N.
study_status() {
	local want=$1 what=${2:-the program}
	if [[ $RUN_STATUS == "$want" ]]; then
		study_ok "$what exits with status $want"
	elif ((RUN_STATUS == 124)); then
		study_fail "$what was killed: it ran past its time limit (a hang?)"
		[[ ${STUDY_QUIET-} == 1 ]] || sed 's/^/    /' "$T/leftovers"
		study_show_err
	elif ((RUN_STATUS > 128)); then
		study_fail "$what was killed by signal $((RUN_STATUS - 128)) (SIG$(kill -l $((RUN_STATUS - 128)) 2>/dev/null || echo ?))"
		study_show_err
	else
		study_fail "$what exits with status $RUN_STATUS, expected $want"
		study_show_err
	fi
}

# STUDY_NORMALISE: a sed -E script applied to the output before it is
# compared (to replace pids, shmids, keys... by words).
STUDY_NORMALISE=''

# study_expect [FILE]: compare the normalised output ($T/out, or FILE)
# with the expected text on standard input; print a unified diff.
study_expect() {
	local actual=${1:-$T/out}
	cat >"$T/expected"
	if [[ -n $STUDY_NORMALISE ]]; then
		sed -E "$STUDY_NORMALISE" "$actual" >"$T/actual"
	else
		cp "$actual" "$T/actual"
	fi
	if diff -u --label expected --label actual "$T/expected" "$T/actual" \
	    >"$T/diff"; then
		study_ok "output as expected ($(wc -l <"$T/expected") lines)"
	else
		study_fail "output differs (- expected, + actual):"
		[[ ${STUDY_QUIET-} == 1 ]] || sed 's/^/    /' "$T/diff"
		study_show_err
	fi
}

# study_assert DESCRIPTION COMMAND...: a fact the check tests itself.
study_assert() {
	local what=$1
	shift
	if "$@"; then
		study_ok "$what"
	else
		study_fail "$what"
	fi
}

study_end() {
	echo "$STUDY_NAME: $study_passed passed, $study_failed failed"
	((study_failed == 0))
	exit
}

# study_forkboard TARGET...: make TARGETs (libforkboard.la, a program) in
# build-study/ at the top, configured on first use, under a lock (checks
# run in parallel); sets STUDY_BUILD.  Lessons that link the library or
# run its programs use it.  A failure fails the check here.
study_forkboard() {
	study_need make make
	study_need flock util-linux
	STUDY_BUILD=$STUDY_TOP/build-study
	if [[ ! -x $STUDY_TOP/configure ]]; then
		echo "$STUDY_NAME: $STUDY_TOP/configure is missing: run 'autoreconf -fi' at the top first" >&2
		exit 2
	fi
	mkdir -p "$STUDY_BUILD"
	if ! (
		flock 9
		[[ -f $STUDY_BUILD/Makefile ]] || (cd "$STUDY_BUILD" && ../configure -q)
		make -C "$STUDY_BUILD" -s "$@"
	) 9>"$STUDY_BUILD/.study-lock" >"$T/lib.log" 2>&1; then
		study_fail "cannot build $* in build-study/:"
		tail -n 20 "$T/lib.log" | sed 's/^/    /'
		study_end
	fi
}

# study_number WORDS [FILE]: replace each "WORD <number>" (decimal or 0x
# hex), WORD matching the extended regex WORDS, by "WORD #k", k counting
# distinct numbers in order of first appearance (one count for all the
# words).  Ids then do not matter, but which are equal still does.  A hex
# zero (key 0x00000000, IPC_PRIVATE) is left as it is.
study_number() {
	local words=$1 file=${2:-$T/out}
	awk -v w="$words" '
	{
		out = ""
		while (match($0, "(" w ") (0x[0-9a-fA-F]+|-?[0-9]+)")) {
			rs = RSTART
			rl = RLENGTH
			m = substr($0, rs, rl)
			sp = match(m, / [^ ]+$/)
			n = substr(m, sp + 1)
			if (n !~ /^0x0+$/) {
				if (!(n in id))
					id[n] = ++k
				m = substr(m, 1, sp) "#" id[n]
			}
			out = out substr($0, 1, rs - 1) m
			$0 = substr($0, rs + rl)
		}
		print out $0
	}' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
}
