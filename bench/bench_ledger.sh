#!/usr/bin/env bash
# bench/bench_ledger.sh — custody ledgers (issue 10): appending entries to key-set ledgers
# through deskd, each append locking its set, reading its head, computing
# SHA-256(prev_hash ‖ canonical entry) with OpenSSL and storing entry + derived state in one
# transaction, against pgbench -N on the same PostgreSQL, database and run; then verify of
# one large ledger (VERIFY_ENTRIES entries, default 1,000,000) timed.
#   * spread: 64 wrk connections over KEYSETS key sets (default 64): chains in parallel;
#   * hot:    64 wrk connections on ONE key set: every append waits for the one before
#             (the per-item chain's worst case, the row lock serialises them).
# Prints req/s, p50/p99, pgbench tps, the ratios and the verify time with entries/s, and
# the load average before and after (the machine should be quiet).
# One run (2 cores shared with other work, load average 1.36 before / 5.18 after, 2026-11-27):
# 1996 appends/s over 64 ledgers (p50 33 ms, p99 131 ms), 752/s on one ledger, pgbench -N
# 8467 tps: ratios 0.236 and 0.089; verify of 1,000,000 entries 5.9 s (169k entries/s).
# An append is BEGIN, lock, actor, canonical text, INSERT, state UPDATE, answer, COMMIT.
# Not run by the tests.  Self-contained: installs, builds (Release, build-bench), starts a
# throwaway cluster in a temp dir and removes it on exit.
#
# Knobs: DURATION (s per run, 10), WARMUP (s, 3), CONNECTIONS (64), KEYSETS (64),
#        VERIFY_ENTRIES (1000000; 0 skips), PGBENCH_SCALE (10), DESK_THREADS (128),
#        DESK_POOL_SIZE (8).
source "$(dirname "$0")/lib.sh"

# jfield NAME — the first "NAME": value of the JSON on stdin (string unquoted), no jq needed.
jfield() { grep -o "\"$1\" *: *\(\"[^\"]*\"\|[a-z0-9.]*\)" | head -1 | sed 's/^[^:]*: *//; s/"//g'; }

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
CONNECTIONS="${CONNECTIONS:-64}"
KEYSETS="${KEYSETS:-64}"
VERIFY_ENTRIES="${VERIFY_ENTRIES:-1000000}"
PGBENCH_SCALE="${PGBENCH_SCALE:-10}"
export DESK_THREADS="${DESK_THREADS:-128}"
export DESK_POOL_SIZE="${DESK_POOL_SIZE:-8}"
export DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}"
export DESK_SWEEP_INTERVAL_MS="${DESK_SWEEP_INTERVAL_MS:-0}"

bench_init
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
bench_build
bench_pg_start
bench_migrate_seed
pgbench -i -q -s "$PGBENCH_SCALE" deskd >"$BENCH_TMP/pgbench-init.log" 2>&1 ||
  { cat "$BENCH_TMP/pgbench-init.log" >&2; die "pgbench -i failed"; }
bench_server_start
TOKEN="$(bench_login agent "$BENCH_DEMO_PASSWORD")"
PROJECT="$(bench_psql deskd -tAc "SELECT p.id FROM projects p JOIN organisations o ON o.id = p.org_id WHERE o.code = 'demo'")"

# ---------------------------------------------------------------- key sets
log "registering $KEYSETS key sets through the API"
IDS=""
for i in $(seq 1 "$KEYSETS"); do
  id="$(curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"project_id\":\"$PROJECT\",\"kind\":\"unit_vacant\",\"tag\":\"BENCH-$i\",\"key_count\":2}" \
    "$BENCH_URL/v1/keys" | jfield item_id)" || die "registering a key set failed"
  [ -n "$id" ] || die "registering a key set failed"
  IDS="${IDS:+$IDS,}$id"
done
HOT="${IDS%%,*}"
bench_psql deskd -qc "VACUUM ANALYZE" >/dev/null

run_wrk() { # NAME IDS
  local name="$1" ids="$2"
  wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH_DIR/ledger_append.lua" "$BENCH_URL" -- "$TOKEN" "$ids" >/dev/null 2>&1 || true
  bench_psql deskd -qc "CHECKPOINT" >/dev/null
  log "wrk $name: $CONNECTIONS connections, ${DURATION}s"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$BENCH_DIR/ledger_append.lua" \
    "$BENCH_URL" -- "$TOKEN" "$ids" >"$BENCH_TMP/wrk-$name.txt" 2>"$BENCH_TMP/wrk-$name.err"
  cat "$BENCH_TMP/wrk-$name.txt" >&2
  if [ -s "$BENCH_TMP/wrk-$name.err" ]; then head -3 "$BENCH_TMP/wrk-$name.err" >&2; die "wrk $name: non-201 answers"; fi
}
run_pgbench() {
  pgbench -n -M prepared -c"$CONNECTIONS" -j2 -T"$WARMUP" -N deskd >/dev/null 2>&1 || true
  bench_psql deskd -qc "CHECKPOINT" >/dev/null
  log "pgbench -N -c$CONNECTIONS -j2 -T$DURATION -M prepared"
  pgbench -n -M prepared -c"$CONNECTIONS" -j2 -T"$DURATION" -N deskd >"$BENCH_TMP/pgbench-N.txt" 2>&1 ||
    { cat "$BENCH_TMP/pgbench-N.txt" >&2; die "pgbench -N failed"; }
}

run_wrk spread "$IDS"
run_pgbench
run_wrk hot "$HOT"

SPREAD_RPS="$(wrk_rps "$BENCH_TMP/wrk-spread.txt")"
HOT_RPS="$(wrk_rps "$BENCH_TMP/wrk-hot.txt")"
PG_TPS="$(pgbench_tps "$BENCH_TMP/pgbench-N.txt")"

# Every chain must still verify after the load.
for id in ${IDS//,/ }; do
  v="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BENCH_URL/v1/keys/$id/verify" | jfield valid)"
  [ "$v" = true ] || die "ledger $id does not verify after the run"
done

# ---------------------------------------------------------------- verify of a large ledger
VERIFY_S="skipped"
VERIFY_RATE=""
if [ "$VERIFY_ENTRIES" -gt 0 ]; then
  log "writing a ledger of $VERIFY_ENTRIES entries (hash chain computed in SQL, as db/demo.c does)"
  BIG="$(curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"project_id\":\"$PROJECT\",\"kind\":\"other\",\"tag\":\"BENCH-BIG\",\"key_count\":1}" \
    "$BENCH_URL/v1/keys" | jfield item_id)"
  bench_psql deskd -q <<SQL
DO \$\$
DECLARE i custody_items; ts timestamptz := date_trunc('second', clock_timestamp());
  h text; prev text; seq integer; n integer := $VERIFY_ENTRIES - 1; act uuid;
  role text; c text;
BEGIN
  SELECT * INTO i FROM custody_items WHERE id = '$BIG';
  SELECT id, users.role INTO act, role FROM users WHERE id = i.created_by;
  prev := i.head_hash; seq := i.last_seq;
  FOR k IN 1..n LOOP
    seq := seq + 1;
    c := custody_canonical(i.org_id, i.id, seq, 'note', act, role, NULL, 'bulk note ' || k, ts,
                           ts, '[]', '[]', '[]', NULL, '{}');
    h := encode(sha256(decode(prev, 'hex') || convert_to(c, 'UTF8')), 'hex');
    INSERT INTO custody_entries (org_id, project_id, item_id, seq, action, actor_id, actor_role,
      purpose, occurred_at, recorded_at, prev_hash, hash)
    VALUES (i.org_id, i.project_id, i.id, seq, 'note', act, role, 'bulk note ' || k, ts, ts,
      prev, h);
    prev := h;
  END LOOP;
  UPDATE custody_items SET last_seq = seq, head_hash = prev, last_occurred_at = ts WHERE id = i.id;
END \$\$;
SQL
  bench_psql deskd -qc "VACUUM ANALYZE custody_entries" >/dev/null
  log "verifying it"
  t0="$(date +%s.%N)"
  out="$(curl -fsS --max-time 1800 -H "Authorization: Bearer $TOKEN" "$BENCH_URL/v1/keys/$BIG/verify")"
  t1="$(date +%s.%N)"
  [ "$(jfield valid <<<"$out")" = true ] || die "the large ledger does not verify: $out"
  n="$(jfield entries_checked <<<"$out")"
  VERIFY_S="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')"
  VERIFY_RATE="$(awk -v n="$n" -v s="$VERIFY_S" 'BEGIN {if (s > 0) printf "%.0f", n / s}')"
fi
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

cat <<EOF2

== custody ledger benchmark ($(nproc) cores; load average before: $LOAD_START, after: $LOAD_END)
append, $CONNECTIONS clients over $KEYSETS ledgers : $SPREAD_RPS req/s  p50 $(wrk_pct "$BENCH_TMP/wrk-spread.txt" 50%)  p99 $(wrk_pct "$BENCH_TMP/wrk-spread.txt" 99%)
append, $CONNECTIONS clients on one ledger   : $HOT_RPS req/s  p50 $(wrk_pct "$BENCH_TMP/wrk-hot.txt" 50%)  p99 $(wrk_pct "$BENCH_TMP/wrk-hot.txt" 99%)
pgbench -N, $CONNECTIONS clients            : $PG_TPS tps
ratio append(spread) / pgbench -N  : $(ratio "$SPREAD_RPS" "$PG_TPS")
ratio append(one ledger) / pgbench -N : $(ratio "$HOT_RPS" "$PG_TPS")
verify of $VERIFY_ENTRIES entries         : ${VERIFY_S} s${VERIFY_RATE:+ ($VERIFY_RATE entries/s)}
EOF2
