#!/usr/bin/env bash
# async.sh - Prefer: respond-async, GET/DELETE /v1/tasks/{id}, retention
# by count and by time.
. "$(dirname "$0")/lib.sh"

# post_async KIND BODY: print the Location.
post_async() {
	curl -sS -m 5 -D "$T/ahdr" -o /dev/null -H 'Prefer: respond-async' \
		--data-binary "$2" "$URL/v1/tasks/$1"
	tr -d '\r' <"$T/ahdr" | awk 'tolower($1) == "location:" { print $2 }'
}
code_of() {
	curl -sS -m 5 -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@"
}

srv_start -w 1 --slots 1 --keep 3 --keep-secs 2 || { t_fail start; t_finish; }
loc=$(post_async sleep 300)
t_check "202 with a Location" grep -q '^HTTP/1.1 202' "$T/ahdr"
t_check "Location is /v1/tasks/<32 hex>" bash -c "[[ '$loc' =~ ^/v1/tasks/[0-9a-f]{32}$ ]]"
t_eq "GET while running: 202" 202 "$(code_of "$URL$loc")"
t_check "GET while running says so" grep -qi '^X-Task-State: running' "$T/hdr"
t_eq "DELETE while running: 409" 409 "$(code_of -X DELETE "$URL$loc")"
t_check "409 says a started task is not stopped" grep -q 'is running: a task a worker has started is not stopped' "$T/body"
# The board (1 slot) is busy: this one waits in the server's queue.
loc2=$(post_async sleep 10)
t_eq "GET while waiting: 202" 202 "$(code_of "$URL$loc2")"
t_check "GET while waiting says so" grep -qi '^X-Task-State: waiting' "$T/hdr"
t_eq "DELETE a waiting task: 200" 200 "$(code_of -X DELETE "$URL$loc2")"
t_check "DELETE says cancelled" grep -q 'cancelled before it started' "$T/body"
t_eq "GET a cancelled task: 404" 404 "$(code_of "$URL$loc2")"
sleep 0.4
t_eq "GET when done: 200" 200 "$(code_of "$URL$loc")"
t_eq "GET when done: the result" "slept 300 ms" "$(cat "$T/body")"
t_check "GET when done: worker header" grep -qi '^X-Task-Worker-Pid: [0-9]' "$T/hdr"
t_eq "GET again: still there" 200 "$(code_of "$URL$loc")"
t_eq "DELETE a finished task: 200" 200 "$(code_of -X DELETE "$URL$loc")"
t_eq "GET after DELETE: 404" 404 "$(code_of "$URL$loc")"
t_eq "GET an unknown id: 404" 404 "$(code_of "$URL/v1/tasks/0123456789abcdef0123456789abcdef")"
t_eq "GET a malformed id: 404" 404 "$(code_of "$URL/v1/tasks/..%2f..")"
l3=$(post_async primes abc)
sleep 0.2
t_eq "async failure keeps its status: 422" 422 "$(code_of "$URL$l3")"
srv_stop

# A task queued in the pool (sent ahead to a busy worker) is cancelled
# there, with fb_pool_cancel().
srv_start -w 1 --ahead 2 || { t_fail start; t_finish; }
la=$(post_async sleep 400)
lb=$(post_async sleep 10)
t_check "second task is queued in the pool" grep -qi '^X-Task-State: queued' <(curl -sS -D - -o /dev/null "$URL$lb")
t_eq "DELETE a task queued in the pool: 200" 200 "$(code_of -X DELETE "$URL$lb")"
t_eq "GET it after: 404" 404 "$(code_of "$URL$lb")"
sleep 0.5
t_eq "the running one finished: 200" 200 "$(code_of "$URL$la")"
t_eq "the pool counted the cancel" 1 "$(curl -sS "$URL/metrics" | awk '/^forkboard_pool_cancelled_total/ { print $2 }')"
srv_stop
srv_start -w 1 --slots 1 --keep 3 --keep-secs 2 || { t_fail start; t_finish; }

# Retention by count (--keep 3): the oldest go first.
locs=()
for i in 1 2 3 4 5; do locs+=("$(post_async upper "x$i")"); done
sleep 0.3
t_eq "count retention: oldest dropped" 404 "$(code_of "$URL${locs[0]}")"
t_eq "count retention: second oldest dropped" 404 "$(code_of "$URL${locs[1]}")"
t_eq "count retention: newest kept" X5 "$(curl -sS "$URL${locs[4]}")"
# Retention by time (--keep-secs 2).
sleep 2.5
t_eq "time retention: expired" 404 "$(code_of "$URL${locs[4]}")"
t_eq "status counts kept results" 0 "$(status_field 'async tasks kept')"
srv_stop

t_finish
