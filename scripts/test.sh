#!/usr/bin/env bash
# scripts/test.sh — command 2: every test.  Installs what is missing, starts a throwaway
# PostgreSQL cluster (own socket and port, removed afterwards), builds with
# -Wall -Wextra -Werror and runs unit, database and end-to-end API tests through CTest;
# clang-format must be clean first;
# then the same again under ASan+UBSan; then the libFuzzer targets for a bounded time
# (tests/fuzz/run.sh, clang); then lints openapi.yaml with @redocly/cli.
# Exits non-zero on any failure.
source "$(dirname "$0")/common.sh"

install_deps
# The npm project of the linter and the /docs renderer lives in tools/ (package.json, lock,
# redocly.yaml), so node_modules is tools/node_modules; before the build, which renders /docs.
npm_tools

echo "==> clang-format (the checked-in .clang-format)"
(cd "$ROOT" && git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror)

TMP="$(mktemp -d /tmp/deskd-test.XXXXXX)"
chmod 755 "$TMP"
PGPORT=$((20000 + RANDOM % 20000))
cleanup() { pg_stop "$TMP/pg"; rm -rf "$TMP"; }
trap cleanup EXIT
PG_FSYNC=off pg_start "$TMP/pg" "$PGPORT"
export DESK_TEST_PG="host=$TMP/pg port=$PGPORT user=postgres"
export DESK_TEST_TEMPLATE=desk_template

make_template() {
  local bin="$1"
  psql "$DESK_TEST_PG dbname=postgres" -qc "DROP DATABASE IF EXISTS desk_template" \
    -c "CREATE DATABASE desk_template"
  DATABASE_URL="$DESK_TEST_PG dbname=desk_template" DESK_PBKDF2_ITER=20000 \
    DESK_JWT_SECRET=template-secret-0123456789abcdefghijklmnop DESK_LOG_LEVEL=warn \
    DESK_PII_KEY=test-pii-key-0123456789-abcdefghijklmnopqrstuvwxyz \
    "$bin" --migrate --seed-demo --no-serve
}

run_suite() {
  local dir="$1"; shift
  echo "==> build $dir $*"
  build "$dir" "$@"
  make_template "$dir/deskd"
  echo "==> ctest $dir"
  (cd "$dir" && ctest --output-on-failure -j2 --timeout 900)
}

run_suite "$ROOT/build-test" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANITIZE=OFF
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:allocator_release_to_os_interval_ms=-1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
run_suite "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON

# libFuzzer targets (tests/fuzz): the committed corpus, then FUZZ_SECONDS (25) each.
"$ROOT/tests/fuzz/run.sh"

echo "==> redocly lint openapi.yaml"
(cd "$ROOT" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  tools/node_modules/.bin/redocly lint openapi.yaml --config=tools/redocly.yaml --format=stylish)
echo "all test suites passed"
