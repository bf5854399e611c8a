#!/usr/bin/env bash
# bench/bench_ledger.sh — custody ledgers (issue 10) through deskd against pgbench on the
# same PostgreSQL, database and run:
#   * receive: POST /v1/mail — a new mail item and its first, hash-chained `receive` entry
#     (one wrk run of DURATION s; it also fills the register the appends work on);
#   * append:  POST /v1/mail/{id}/entries, `call` entries over ITEMS mail items at random:
#     each append locks its item, reads the chain head, computes SHA-256(prev_hash ‖
#     canonical entry) with OpenSSL and stores entry + derived state in one transaction —
#     ROUNDS rounds alternating with pgbench -N, the ratio per round and its median;
#   * one hot item: the same appends, all 64 clients on ONE item (the row lock serialises
#     them: the per-item chain's worst case), one run;
#   * pgbench with deskd's own append statements (captured from the server log of one
#     append; the hash computed by sha256() in SQL where deskd uses OpenSSL), at -c64 and
#     at the pool size — the database work without HTTP;
#   * verify of one ledger of VERIFY_ENTRIES entries (default 1,000,000, written in SQL
#     with custody_canonical() + sha256(), the chain the service writes), timed.
# Prints req/s, p50/p99, tps, the ratios, CPU split per round, WAL per append, deskd's
# peak RSS, and whether the machine was quiet (it waits for one, QUIET_WAIT s at most, and
# says loudly when it was not).  Not run by the tests.  Self-contained: installs, builds
# (Release, build-bench), starts a throwaway cluster (fsync on) in a temp dir and removes it.
#
# Knobs: DURATION (s per run, 10), ROUNDS (3), WARMUP (s, 3), CONNECTIONS (64), ITEMS (2000
#        mail items the appends pick from), HOT (1: the one-item run), SAME_SQL (1),
#        VERIFY_ENTRIES (1000000; 0 skips), VERIFY_SAMPLE (100 items verified after the
#        runs), PGBENCH_SCALE (10), QUIET_WAIT (300 s), QUIET_LOAD (0.5), DESK_THREADS (128),
#        DESK_POOL_SIZE (8).  A reduced run that proves the script works:
#        DURATION=3 ROUNDS=1 WARMUP=1 VERIFY_ENTRIES=20000 QUIET_WAIT=0 bench/bench_ledger.sh
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-3}"
CONNECTIONS="${CONNECTIONS:-64}"
ITEMS="${ITEMS:-2000}"
HOT="${HOT:-1}"
SAME_SQL="${SAME_SQL:-1}"
VERIFY_ENTRIES="${VERIFY_ENTRIES:-1000000}"
VERIFY_SAMPLE="${VERIFY_SAMPLE:-100}"
PGBENCH_SCALE="${PGBENCH_SCALE:-10}"
export DESK_THREADS="${DESK_THREADS:-128}"
export DESK_POOL_SIZE="${DESK_POOL_SIZE:-8}"
export DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}"
# No sweeper and no reminder worker competing with the measurement.
export DESK_SWEEP_INTERVAL_MS="${DESK_SWEEP_INTERVAL_MS:-0}"

# jfield NAME — the first "NAME": value of the JSON on stdin (string unquoted), no jq needed.
jfield() { grep -o "\"$1\" *: *\(\"[^\"]*\"\|[a-z0-9.]*\)" | head -1 | sed 's/^[^:]*: *//; s/"//g'; }

bench_init
bench_build
bench_wait_quiet
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
bench_pg_start
bench_migrate_seed
pgbench -i -q -s "$PGBENCH_SCALE" deskd >"$BENCH_TMP/pgbench-init.log" 2>&1 ||
  { cat "$BENCH_TMP/pgbench-init.log" >&2; die "pgbench -i failed"; }
bench_psql deskd -qc "VACUUM ANALYZE" >/dev/null
bench_server_start
TOKEN="$(bench_login agent)"
PROJECT="$(bench_psql deskd -tAc "SELECT p.id FROM projects p JOIN organisations o ON o.id = p.org_id WHERE o.code = 'demo'")"
UNIT_IDS="$(bench_psql deskd -tAc "SELECT string_agg(id::text, ',') FROM units WHERE project_id = '$PROJECT'")"
[ -n "$PROJECT" ] && [ -n "$UNIT_IDS" ] || die "no demo project or units"
post() { curl -sS -o "$BENCH_TMP/post.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' --data-binary "$2" "$BENCH_URL$1"; }

# ---------------------------------------------------------------- receive
code="$(post /v1/mail "{\"project_id\":\"$PROJECT\",\"kind\":\"parcel\",\"unit_id\":\"${UNIT_IDS%%,*}\",\"recipient_name\":\"王先生\",\"count\":1,\"resident_out\":true}")"
[ "$code" = 201 ] || die "POST /v1/mail answered $code: $(cat "$BENCH_TMP/post.json")"
RECV_ARGS=(-s "$BENCH_DIR/mail_receive.lua" "$BENCH_URL" -- "$TOKEN" "$PROJECT" "$UNIT_IDS")
log "warm-up: wrk ${WARMUP}s POST /v1/mail"
wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" "${RECV_ARGS[@]}" >/dev/null
checkpoint
log "wrk -t2 -c$CONNECTIONS -d${DURATION}s POST /v1/mail (receive)"
measure RECV "${RECV_ARGS[@]}"

bench_psql deskd -tAc "SELECT id FROM custody_items WHERE area = 'mail' AND state = 'in_custody' ORDER BY random() LIMIT $ITEMS" >"$BENCH_TMP/ids.txt"
NITEMS="$(wc -l <"$BENCH_TMP/ids.txt")"
[ "$NITEMS" -ge 1 ] || die "no mail items were received"
[ "$NITEMS" -ge "$CONNECTIONS" ] || log "warning: only $NITEMS items for $CONNECTIONS clients (raise DURATION)"
head -1 "$BENCH_TMP/ids.txt" >"$BENCH_TMP/hot.txt"
# n -> item id, for pgbench's random pick (wrk picks from ids.txt the same way).
bench_psql deskd -q <<SQL
CREATE TABLE bench_items (n integer PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_items SELECT row_number() OVER (), id::uuid
FROM unnest(string_to_array('$(paste -sd, "$BENCH_TMP/ids.txt")', ',')) id;
VACUUM ANALYZE;
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
SELECT count(pg_prewarm(c)) FROM unnest(ARRAY['pgbench_accounts', 'pgbench_accounts_pkey',
  'pgbench_branches', 'pgbench_tellers', 'custody_items', 'custody_items_pkey',
  'custody_entries', 'bench_items']) c WHERE to_regclass(c) IS NOT NULL;
SQL

# ---------------------------------------------------------------- one append, its statements
bench_pg_set log_min_duration_statement 0
sleep 0.2
code="$(post "/v1/mail/$(head -1 "$BENCH_TMP/ids.txt")/entries" '{"action":"call","reached":false,"purpose":"电话通知取件，无人接听"}')"
sleep 0.3
bench_pg_set log_min_duration_statement default
[ "$code" = 201 ] || die "POST /v1/mail/{id}/entries answered $code: $(cat "$BENCH_TMP/post.json")"

# The statements of that append, in order, as a pgbench script.  Chain-dependent values come
# from the statements' own answers (\gset): the locked item's last_seq and head_hash, the
# canonical text and recorded_at; the new hash is sha256() in SQL (deskd: OpenSSL, in
# process); the item is bench_items' row n.  Every other parameter is the captured value.
SAME_OK=0
if [ "$SAME_SQL" = 1 ]; then
  perl -I"$BENCH_DIR" -Mpglog -e '
    my ($log, $items, $out, $defs) = @ARGV;
    my @all = pglog::statements($log);
    # the backend that ran the append; its statements from the BEGIN before the lock to the
    # read of the item for the answer, after the COMMIT (an audit seal that may follow is
    # batched over many writes, and left out)
    my ($lock) = grep { $_->{name} eq "custody_item_lock" } @all;
    die "no custody_item_lock in the log\n" unless $lock;
    my @stmts;
    for my $s (grep { $_->{pid} == $lock->{pid} } @all) {
      @stmts = () if $s->{sql} =~ /^BEGIN/;   # a transaction starts: keep the last one only
      push @stmts, [$s->{name}, $s->{sql}, $s->{params}];
      last if $s->{name} eq "custody_item_get" && grep { $_->[0] eq "custody_item_lock" } @stmts;
    }
    die "the append was not found in the log\n"
      unless @stmts && $stmts[0][1] =~ /^BEGIN/ && $stmts[-1][0] eq "custody_item_get";
    # what replaces which parameter ($n) of which statement
    my $hash = "encode(sha256(decode(:head_hash, \x27hex\x27) || convert_to(:custody_canonical, \x27UTF8\x27)), \x27hex\x27)";
    my %map = (
      custody_item_lock    => {3 => ":item"},
      custody_canonical    => {2 => ":item", 3 => ":seq"},
      custody_entry_insert => {2 => ":item", 3 => ":seq", 16 => ":rfc3339", 17 => ":head_hash", 18 => $hash},
      custody_item_store   => {2 => ":item", 9 => ":seq",
                               11 => "(SELECT hash FROM custody_entries WHERE item_id = :item AND seq = :seq)"},
      custody_item_get     => {3 => ":item"},
    );
    my %gset = (custody_item_lock => 1, custody_canonical => 1);
    open my $o, ">", $out or die;
    open my $d, ">", $defs or die;
    print $o "\\set n random(1, $items)\nSELECT id AS item FROM bench_items WHERE n = :n \\gset\n";
    my $k = 0;
    for my $st (@stmts) {
      my ($name, $sql, $params) = @$st;
      $k++;
      my %val = pglog::params($params);
      my $m = $map{$name} // {};
      $sql =~ s{\$(\d+)}{
        my $n = $1;
        if (exists $m->{$n}) { $m->{$n} }
        elsif (!exists $val{$n}) { die "no value for \$$n of $name\n" }
        elsif (!defined $val{$n}) { "NULL" }
        elsif ($val{$n} eq "") { "\x27\x27" }  # pgbench -D takes no empty value
        else { print $d "s${k}p$n\t$val{$n}\n"; ":s${k}p$n" }
      }ge;
      print $o $sql . ($gset{$name} ? " \\gset\n" : ";\n");
      print $o "\\set seq :last_seq + 1\n" if $name eq "custody_item_lock";
    }
  ' "$BENCH_PGDATA/server.log" "$NITEMS" "$BENCH_TMP/append.sql" "$BENCH_TMP/append.defs" &&
    SAME_OK=1 || log "warning: could not capture the append statements"
fi

# ---------------------------------------------------------------- append rounds
CALL_ARGS=(-s "$BENCH_DIR/mail_call.lua" "$BENCH_URL" -- "$TOKEN" "$BENCH_TMP/ids.txt")
log "warm-up: wrk ${WARMUP}s POST /v1/mail/{id}/entries"
wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" "${CALL_ARGS[@]}" >/dev/null
rounds CALL "POST /v1/mail/{id}/entries (call) over $NITEMS items" -N "${CALL_ARGS[@]}"
CALL_BAD="$(metric_other '/v1/mail/{id}/entries' POST 201)"
CALL_OK="$(metric_count '/v1/mail/{id}/entries' POST 201)"
if [ "$HOT" = 1 ]; then
  checkpoint
  log "wrk -t2 -c$CONNECTIONS -d${DURATION}s: the same appends on ONE item"
  measure HOTW -s "$BENCH_DIR/mail_call.lua" "$BENCH_URL" -- "$TOKEN" "$BENCH_TMP/hot.txt"
fi
RECV_BAD="$(metric_other /v1/mail POST 201)"
# On one item every append holds a pooled connection while it waits for the row lock:
# with 64 clients and a pool of 8, some wait longer than the pool's acquire timeout (503).
# Counted and reported, not a failure: it is the per-item chain's limit.
HOT_BAD=$(($(metric_other '/v1/mail/{id}/entries' POST 201) - CALL_BAD))

# Every chain must still verify after the load: the hot item and a sample of the others.
log "verifying $VERIFY_SAMPLE ledgers after the load"
for id in $( (cat "$BENCH_TMP/hot.txt"; shuf -n "$VERIFY_SAMPLE" "$BENCH_TMP/ids.txt") | sort -u); do
  v="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BENCH_URL/v1/mail/$id/verify" | jfield valid)"
  [ "$v" = true ] || die "the ledger of mail item $id does not verify after the run"
done
NENT="$(bench_psql deskd -tAc "SELECT count(*) FROM custody_entries e JOIN custody_items i ON i.id = e.item_id WHERE i.area = 'mail'")"
NSEQ="$(bench_psql deskd -tAc "SELECT sum(last_seq) FROM custody_items WHERE area = 'mail'")"
[ "$NENT" = "$NSEQ" ] || die "$NENT mail ledger entries but the items' last_seq add up to $NSEQ"

# ---------------------------------------------------------------- pgbench, deskd's statements
if [ "$SAME_OK" = 1 ]; then
  defs=()
  while IFS=$'\t' read -r k v; do defs+=(-D "$k=$v"); done <"$BENCH_TMP/append.defs"
  pgbench_run SAME "$CONNECTIONS" -f "$BENCH_TMP/append.sql" "${defs[@]}"
  pgbench_run SAME_POOL "$DESK_POOL_SIZE" -f "$BENCH_TMP/append.sql" "${defs[@]}"
  # pgbench's appends went through the same chains: they must verify too.
  for id in $(shuf -n 20 "$BENCH_TMP/ids.txt"); do
    v="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BENCH_URL/v1/mail/$id/verify" | jfield valid)"
    [ "$v" = true ] || die "mail item $id does not verify after pgbench's appends: the script is not deskd's chain"
  done
fi

# ---------------------------------------------------------------- verify of a large ledger
VERIFY_S="skipped"
VERIFY_RATE=""
if [ "$VERIFY_ENTRIES" -gt 0 ]; then
  code="$(post /v1/mail "{\"project_id\":\"$PROJECT\",\"kind\":\"parcel\",\"unit_id\":\"${UNIT_IDS%%,*}\",\"recipient_name\":\"大账本\",\"count\":1,\"resident_out\":true}")"
  [ "$code" = 201 ] || die "POST /v1/mail answered $code"
  BIG="$(sed 's/.*"mail_item" *: *{[^}]*"id" *: *"\([^"]*\)".*/\1/' "$BENCH_TMP/post.json")"
  [ "${#BIG}" = 36 ] || BIG="$(bench_psql deskd -tAc "SELECT id FROM custody_items WHERE area = 'mail' ORDER BY created_at DESC LIMIT 1")"
  log "writing a ledger of $VERIFY_ENTRIES entries on mail item $BIG (custody_canonical() + sha256() in SQL)"
  t0="$(date +%s.%N)"
  bench_psql deskd -q <<SQL
DO \$\$
DECLARE i custody_items; ts timestamptz := date_trunc('second', clock_timestamp());
  h text; prev text; seq integer; role text; c text; d jsonb := '{"reached": false}';
BEGIN
  SELECT * INTO i FROM custody_items WHERE id = '$BIG' FOR UPDATE;
  SELECT users.role INTO role FROM users WHERE id = i.created_by;
  prev := i.head_hash; seq := i.last_seq;
  FOR k IN seq + 1 .. $VERIFY_ENTRIES LOOP
    seq := k;
    c := custody_canonical(i.org_id, i.id, seq, 'call', i.created_by, role, NULL,
                           'bulk call ' || k, ts, ts, '[]', '[]', '[]', NULL, d);
    h := encode(sha256(decode(prev, 'hex') || convert_to(c, 'UTF8')), 'hex');
    INSERT INTO custody_entries (org_id, project_id, item_id, seq, action, actor_id, actor_role,
      purpose, occurred_at, recorded_at, details, prev_hash, hash)
    VALUES (i.org_id, i.project_id, i.id, seq, 'call', i.created_by, role, 'bulk call ' || k,
      ts, ts, d, prev, h);
    prev := h;
  END LOOP;
  UPDATE custody_items SET last_seq = seq, head_hash = prev, last_occurred_at = ts,
    ext = jsonb_set(ext, '{calls}', to_jsonb(seq - 1)) WHERE id = i.id;
END \$\$;
SQL
  BUILD_S="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')"
  bench_psql deskd -qc "VACUUM ANALYZE custody_entries" >/dev/null
  checkpoint
  log "verifying it"
  t0="$(date +%s.%N)"
  out="$(curl -fsS --max-time 3600 -H "Authorization: Bearer $TOKEN" "$BENCH_URL/v1/mail/$BIG/verify")"
  t1="$(date +%s.%N)"
  [ "$(jfield valid <<<"$out")" = true ] || die "the large ledger does not verify: $out"
  VERIFIED="$(jfield entries_checked <<<"$out")"
  [ "$VERIFIED" = "$VERIFY_ENTRIES" ] || die "verify checked $VERIFIED entries, not $VERIFY_ENTRIES: $out"
  VERIFY_S="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')"
  VERIFY_RATE="$(awk -v n="$VERIFIED" -v s="$VERIFY_S" 'BEGIN {if (s > 0) printf "%.0f", n / s}')"
fi

read -r HWM RSS < <(bench_rss "$BENCH_SERVER_PID")
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
R_CALL="$(median "${CALL_RATIOS[@]}")"
if [ "$SAME_OK" = 1 ]; then
  SAME_LINE="$SAME_TPS tps at -c$CONNECTIONS, $SAME_POOL_TPS tps at -c$DESK_POOL_SIZE (pool size); WAL per append ${SAME_WAL}
  ratio append / same statements at -c$CONNECTIONS (HTTP + deskd's share) : $(ratio "$CALL_W1_RPS" "$SAME_TPS") (round 1)"
else
  SAME_LINE="not run"
fi
if [ "$HOT" = 1 ]; then
  HOT_LINE="$HOTW_RPS req/s  p50 $HOTW_P50 ms  p99 $HOTW_P99 ms  ratio to pgbench -N (round 1) $(ratio "$HOTW_RPS" "$CALL_P1_TPS")
           CPU: $HOTW_CPU"
else
  HOT_LINE="not run"
fi

cat <<REPORT

================ deskd custody ledgers vs pgbench ($(date -u +%Y-%m-%dT%H:%MZ)) ================
quiet machine  : $BENCH_QUIET
machine        : $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); wrk, deskd and
                 PostgreSQL share them; PostgreSQL 15, fsync=$(bench_psql postgres -tAc 'SHOW fsync'), synchronous_commit=$(bench_psql postgres -tAc 'SHOW synchronous_commit') (both sides)
deskd          : DESK_THREADS=$DESK_THREADS DESK_POOL_SIZE=$DESK_POOL_SIZE log=$DESK_LOG_LEVEL workers off, Release build
load           : $CONNECTIONS connections both sides; $ROUNDS rounds of (deskd ${DURATION}s, pgbench ${DURATION}s), CHECKPOINT before each run

receive  POST /v1/mail (new item + receive entry), one run:
  $RECV_RPS req/s  p50 $RECV_P50 ms  p99 $RECV_P99 ms  WAL per receive $RECV_WAL
  CPU: $RECV_CPU

append  POST /v1/mail/{id}/entries (call) over $NITEMS items vs pgbench -N (201s counted by deskd: $CALL_OK):
${CALL_ROWS}ratio append / pgbench -N (median of $ROUNDS) : $R_CALL
WAL per append ${CALL_W1_WAL}; per pgbench -N transaction ${CALL_P1_WAL} (round 1)
append on ONE item, $CONNECTIONS clients : $HOT_LINE
           answers other than 201 on the one item: ${HOT_BAD} (503: pool acquire timeout while waiting for the row lock)
pgbench, deskd's append statements : $SAME_LINE

verify of a $VERIFY_ENTRIES-entry ledger : ${VERIFY_S} s${VERIFY_RATE:+ ($VERIFY_RATE entries/s; the ledger written in ${BUILD_S} s by PL/pgSQL)}
chains verified after the load : the hot item and $VERIFY_SAMPLE others$([ "$SAME_OK" = 1 ] && echo " (and 20 after pgbench's appends)"); $NENT mail entries
deskd peak RSS (VmHWM) : $((HWM / 1024)) MiB
load average   : $LOAD_START at start, $LOAD_END at end
REPORT

fail=0
[ "$RECV_NON2XX" = 0 ] && [ "$RECV_BAD" = 0 ] ||
  { log "receive: wrk saw $RECV_NON2XX non-2xx, deskd counted $RECV_BAD non-201"; fail=1; }
[ "$CALL_NON2XX" = 0 ] && [ "$CALL_BAD" = 0 ] ||
  { log "append: wrk saw $CALL_NON2XX non-2xx, deskd counted $CALL_BAD non-201"; fail=1; }
[ "$fail" = 0 ] || die "non-success answers during the runs"
