#!/usr/bin/env bash
# bench/bench_import.sh — roster imports at scale: generates a units roster of NUNITS rows
# (default 50,000) and a residents roster of NRES rows (default 100,000: two household
# members per unit, every 10th a minor, ID numbers on every owner — hashed on the way in),
# posts each in ONE call of POST /v1/imports (text/csv), and prints rows per second and the
# server's peak RSS (VmHWM of the deskd process) after each. Then re-imports the residents
# file (all unchanged) to time the idempotent path. Not run by the tests.
# Self-contained: builds (Release, build-bench), starts a throwaway cluster in a temp dir and
# removes it on exit.
# Knobs: NUNITS (50000), NRES (100000), DESK_IMPORT_MAX_BODY (67108864).
source "$(dirname "$0")/lib.sh"

NUNITS="${NUNITS:-50000}"
NRES="${NRES:-100000}"
export DESK_LOG_LEVEL="${DESK_LOG_LEVEL:-warn}"

bench_init
bench_build
bench_pg_start
bench_migrate_seed
bench_server_start
TOKEN=$(bench_login admin "$BENCH_DEMO_PASSWORD")

UNITS="$BENCH_TMP/units.csv"
RES="$BENCH_TMP/residents.csv"
log "generating $NUNITS units and $NRES residents"
awk -v n="$NUNITS" 'BEGIN {
  print "项目,楼栋,单元,房号,楼层,面积,状态"
  for (i = 0; i < n; i++) {
    b = int(i / 500) + 1; e = int((i % 500) / 100) + 1; r = i % 100
    printf "SUNRISE,%d栋,%d,%d%02d,%d,%.2f,自住\n", b, e, int(r / 4) + 1, r % 4 + 1, int(r / 4) + 1, 60 + (i % 90)
  }
}' >"$UNITS"
awk -v n="$NRES" -v units="$NUNITS" 'BEGIN {
  print "项目,楼栋,单元,房号,业主姓名,联系电话,身份证号,户主关系,是否成年"
  for (k = 0; k < n; k++) {
    i = int(k / 2) % units; second = k % 2
    b = int(i / 500) + 1; e = int((i % 500) / 100) + 1; r = i % 100
    rel = second ? "家属" : "业主"; adult = (second && k % 20 == 1) ? "否" : "是"
    idn = second ? "" : sprintf("000000%012d", k)
    printf "SUNRISE,%d栋,%d,%d%02d,住户%d,139%08d,%s,%s,%s\n", b, e, int(r / 4) + 1, r % 4 + 1, k, k, idn, rel, adult
  }
}' >"$RES"

peak_rss() { awk '/VmHWM/ {print $2 " kB"}' "/proc/$BENCH_SERVER_PID/status"; }

run() { # kind file label
  local t0 t1 body code rows
  t0=$(date +%s.%N)
  body=$(curl -sS -w '\n%{http_code}' -X POST "$BENCH_URL/v1/imports?kind=$1" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/csv' --data-binary @"$2")
  t1=$(date +%s.%N)
  code=$(tail -n1 <<<"$body")
  [ "$code" = 200 ] || die "$3: HTTP $code: $(head -c 600 <<<"$body")"
  rows=$(head -n -1 <<<"$body" | jq -r .rows_read)
  printf '%-22s %8d rows  %6.2f s  %9.0f rows/s  counts %s  peak RSS %s  (%s bytes)\n' "$3" "$rows" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$rows / ($t1 - $t0)" | bc -l)" \
    "$(head -n -1 <<<"$body" | jq -c .counts)" "$(peak_rss)" "$(stat -c %s "$2")"
}

log "server RSS before: $(peak_rss)"
run units "$UNITS" "units"
run residents "$RES" "residents"
run residents "$RES" "residents (again)"
