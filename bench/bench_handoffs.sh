#!/usr/bin/env bash
# bench/bench_handoffs.sh — how many times deskd's threads hand work to each other per
# GET /v1/requests/{id} under CONNECTIONS (64) concurrent keep-alive clients: voluntary
# context switches of all deskd threads (from /proc/PID/task/*/status: a thread blocking on
# a futex, the socket, libpq's poll) and, in a second run under strace, the futex calls —
# both per request served (counted by deskd's /metrics), for a fixed number of requests.
# Counts of work, not speed: comparable on a busy machine (involuntary switches, which do
# depend on the machine's load, are printed apart).
#
#   bench/bench_handoffs.sh                         # COUNT=20000 GETs per run
#   BENCH_DESKD=/path/to/deskd bench/bench_handoffs.sh   # A/B against another binary
source "$(dirname "$0")/lib.sh"

COUNT="${COUNT:-20000}"
CONNECTIONS="${CONNECTIONS:-64}"
NREQ="${NREQ:-200}"
export DESK_SWEEP_INTERVAL_MS="${DESK_SWEEP_INTERVAL_MS:-0}"

bench_init
bench_build
bench_pg_start
bench_migrate_seed
bench_server_start
TOKEN="$(bench_login agent)"
UNIT="$(bench_psql deskd -tAc "SELECT u.id FROM units u JOIN organisations o ON o.id = u.org_id WHERE o.code = 'demo' LIMIT 1")"
for ((i = 0; i < NREQ; i++)); do
  curl -sS -o /dev/null -X POST "$BENCH_URL/v1/requests" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"unit_id\":\"$UNIT\"},\"reporter\":{\"name\":\"王先生\",\"phone\":\"13800000000\"},\"description\":\"厨房漏水 $i\"}"
done
bench_psql deskd -tAc "SELECT id FROM requests" >"$BENCH_TMP/ids.txt"
[ "$(wc -l <"$BENCH_TMP/ids.txt")" -ge "$NREQ" ] || die "creates failed"

served() { bench_metrics | awk '/^deskd_http_requests_total\{route="\/v1\/requests\/\{id\}",method="GET",status="200"\}/ {s += $2} END {print s + 0}'; }
switches() { # "voluntary involuntary" summed over deskd's threads
  cat /proc/"$BENCH_SERVER_PID"/task/*/status 2>/dev/null |
    awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2} END {print v, n}'
}
per_thread=$(((COUNT + 1) / 2))
# run — COUNT GETs: each wrk thread stops sending after its share, and wrk itself (which
# would sit out its -d) is stopped once deskd has served them all.
run() {
  local from want wpid
  from="$(served)"
  want=$((from + COUNT))
  wrk -t2 -c"$CONNECTIONS" -d600s -s "$BENCH_DIR/request_get_n.lua" "$BENCH_URL" \
    -- "$TOKEN" "$BENCH_TMP/ids.txt" "$per_thread" >"$BENCH_TMP/wrk.txt" &
  wpid=$!
  for _ in $(seq 1 6000); do
    [ "$(served)" -ge "$want" ] && break
    kill -0 "$wpid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$wpid" 2>/dev/null
  wait "$wpid" 2>/dev/null || true
}

run # warm-up (connections opened, statements prepared)
s0="$(served)"
read -r v0 n0 < <(switches)
run
read -r v1 n1 < <(switches)
s1="$(served)"
n=$((s1 - s0))
log "run 1: $n GETs served"
awk -v n="$n" -v v="$((v1 - v0))" -v i="$((n1 - n0))" 'BEGIN {
  printf "voluntary context switches per GET:   %.2f (%d over %d)\n", v / n, v, n;
  printf "involuntary context switches per GET: %.2f (load-dependent)\n", i / n }'

# Futex calls, under strace (slow, but a count).
s0="$(served)"
strace -f -c -e trace=futex -p "$BENCH_SERVER_PID" -o "$BENCH_TMP/strace.txt" &
spid=$!
sleep 1
run
s1="$(served)"
kill -INT "$spid"
wait "$spid" 2>/dev/null || true
n=$((s1 - s0))
calls="$(awk '$NF == "futex" {print $4}' "$BENCH_TMP/strace.txt")"
log "run 2 (strace): $n GETs served"
awk -v n="$n" -v c="${calls:-0}" 'BEGIN { printf "futex calls per GET: %.2f (%d over %d)\n", c / n, c, n }'
grep -E "futex|calls" "$BENCH_TMP/strace.txt" || true
