#!/usr/bin/env bash
# bench/bench_handoffs.sh — how many times deskd's threads hand work to each other per
# GET /v1/requests/{id} under CONNECTIONS (64) concurrent keep-alive clients: voluntary
# context switches of all deskd threads (from /proc/PID/task/*/status: a thread blocking on
# a futex, the socket, libpq's poll) and, in a second run under strace, the futex calls —
# both per request served (counted by deskd's /metrics), for a fixed number of requests.
# Counts of work, not speed: comparable on a busy machine (involuntary switches, which do
# depend on the machine's load, are printed apart).
# Also the CPU time per GET on each side (deskd's threads; all PostgreSQL processes), and
# the PostgreSQL CPU time per statement of pgbench running deskd's own GET statement
# (captured from the server log) and of pgbench -S, PGB_COUNT statements each at -c8:
# CPU-microseconds, not throughput, so they hold on a busy machine within ~10-20 %.
#
#   bench/bench_handoffs.sh                         # COUNT=20000 GETs per run
#   BENCH_DESKD=/path/to/deskd bench/bench_handoffs.sh   # A/B against another binary
source "$(dirname "$0")/lib.sh"

COUNT="${COUNT:-20000}"
PGB_COUNT="${PGB_COUNT:-80000}"
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
[ "$(wc -l <"$BENCH_TMP/ids.txt")" -ge "$NREQ" ] || die "creates failed: $(wc -l <"$BENCH_TMP/ids.txt") of $NREQ requests"

# The statement deskd sends for one GET, from the server log (as bench_requests.sh does
# for the create): a pgbench script with the request id, organisation and PII flag fixed.
bench_pg_set log_min_duration_statement 0
sleep 0.2
curl -sS -o "$BENCH_TMP/get.json" -H "Authorization: Bearer $TOKEN" \
  "$BENCH_URL/v1/requests/$(head -1 "$BENCH_TMP/ids.txt")"
sleep 0.3
bench_pg_set log_min_duration_statement default
perl -I"$BENCH_DIR" -Mpglog -e '
  my ($log, $out) = @ARGV;
  my ($st) = grep { $_->{name} =~ /^req_get(_cols)?$/ } reverse pglog::statements($log);
  die "req_get(_cols) not found in the log\n" unless $st;
  my %val = pglog::params($st->{params});
  (my $sql = $st->{sql}) =~ s{\$(\d+)}{defined $val{$1} ? "\x27$val{$1}\x27" : "NULL"}ge;
  open my $o, ">", $out or die; print $o "$sql;\n";
' "$BENCH_PGDATA/server.log" "$BENCH_TMP/get.sql" || die "could not capture deskd's GET statement"

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
read -ra pgp < <(pg_pids)
d0="$(cpu_ticks "$BENCH_SERVER_PID")"; p0="$(cpu_ticks "${pgp[@]}")"
u0="$(awk '{print $14}' "/proc/$BENCH_SERVER_PID/stat")"
run
read -ra pgp < <(pg_pids)
d1="$(cpu_ticks "$BENCH_SERVER_PID")"; p1="$(cpu_ticks "${pgp[@]}")"
u1="$(awk '{print $14}' "/proc/$BENCH_SERVER_PID/stat")"
read -r v1 n1 < <(switches)
s1="$(served)"
n=$((s1 - s0))
log "run 1: $n GETs served"
hz="$(getconf CLK_TCK)"
awk -v n="$n" -v v="$((v1 - v0))" -v i="$((n1 - n0))" -v d="$((d1 - d0))" -v p="$((p1 - p0))" -v u="$((u1 - u0))" \
  -v hz="$hz" 'BEGIN {
  printf "voluntary context switches per GET:   %.2f (%d over %d)\n", v / n, v, n;
  printf "involuntary context switches per GET: %.2f (load-dependent)\n", i / n;
  printf "CPU per GET: deskd %.0f us (user %.0f, kernel %.0f), PostgreSQL %.0f us\n", 1e6 * d / hz / n,
    1e6 * u / hz / n, 1e6 * (d - u) / hz / n, 1e6 * p / hz / n }'

# Futex calls, under strace (slow, but a count); every system call per GET too.
s0="$(served)"
strace -q -f -c -p "$BENCH_SERVER_PID" -o "$BENCH_TMP/strace.txt" &
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
awk -v n="$n" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
  printf "  %-16s %5.2f per GET\n", $NF, $4 / n }' "$BENCH_TMP/strace.txt" | sort -k2 -rn | head -12

if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then # where deskd's CPU goes
  perf record -q -g -o "$BENCH_TMP/perf.data" -p "$BENCH_SERVER_PID" >/dev/null 2>&1 &
  ppid=$!
  sleep 0.5
  run
  kill -INT "$ppid"; wait "$ppid" 2>/dev/null || true
  perf report -q -i "$BENCH_TMP/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
    grep -v '^$' | grep '^ ' | head -40 >"$BENCH_TMP/perf.txt" || true
  perf report -q -i "$BENCH_TMP/perf.data" --children --sort sym --stdio -g none 2>/dev/null |
    grep -v '^$' | head -60 >"$BENCH_TMP/perf-children.txt" || true
  echo "perf (deskd, self):"; cat "$BENCH_TMP/perf.txt"
  echo "perf (deskd, children):"; cat "$BENCH_TMP/perf-children.txt"
fi

# PostgreSQL's CPU per statement without deskd: its GET statement and pgbench -S.
bench_server_stop
# All CPU PostgreSQL has used: the postmaster, its live children, and (cutime/cstime) the
# children that have exited — pgbench's backends end with their connections.
pg_total_ticks() {
  local pm t=0 p v
  pm="$(head -1 "$BENCH_PGDATA/postmaster.pid")"
  for p in "$pm" $(pgrep -P "$pm"); do
    v="$(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat" 2>/dev/null)" || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
pgb_cpu() { # LABEL pgbench-args... — PostgreSQL CPU-us per statement over PGB_COUNT
  local label="$1" p0 p1; shift
  pgbench -n -M prepared -c8 -j2 -t200 "$@" deskd >/dev/null 2>&1 || true # warm-up
  sleep 0.5; p0="$(pg_total_ticks)"
  pgbench -n -M prepared -c8 -j2 -t"$((PGB_COUNT / 8))" "$@" deskd >"$BENCH_TMP/pgb.txt" 2>&1 ||
    { cat "$BENCH_TMP/pgb.txt" >&2; die "pgbench $* failed"; }
  sleep 0.5; p1="$(pg_total_ticks)"
  awk -v l="$label" -v p="$((p1 - p0))" -v hz="$hz" -v n="$PGB_COUNT" -v t="$(pgbench_tps "$BENCH_TMP/pgb.txt")" \
    'BEGIN { printf "PostgreSQL CPU per statement, %s: %.1f us (%d statements at -c8; %s tps, load-dependent)\n", l, 1e6 * p / hz / n, n, t }'
}
pgbench -i -q -s 10 deskd >/dev/null 2>&1 || die "pgbench -i failed"
pgb_cpu "deskd's GET statement" -f "$BENCH_TMP/get.sql"
pgb_cpu "pgbench -S" -S
log "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
