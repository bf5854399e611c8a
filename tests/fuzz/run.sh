#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] — builds the libFuzzer targets (clang, ASan+UBSan) in
# build-fuzz and runs each one: first every input of its committed corpus
# (tests/fuzz/corpus/<name>, the seeds and every crash ever found), then new inputs for
# SECONDS (FUZZ_SECONDS, default 25) each.  A crash, leak or timeout fails the run; its
# reproducer is copied into tests/fuzz/corpus/<name>/ to be committed with the fix.
# See tests/fuzz/README.md.
source "$(dirname "$0")/../../scripts/common.sh"

SECS="${1:-${FUZZ_SECONDS:-25}}"
FDIR="$ROOT/tests/fuzz"
BDIR="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"

echo "==> build $BDIR (clang, -DFUZZ=ON)"
CC=clang BUILD_TARGET=fuzz build "$BDIR" -DFUZZ=ON -DCMAKE_BUILD_TYPE=Debug

: "${ASAN_OPTIONS:=detect_leaks=1:halt_on_error=1}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS UBSAN_OPTIONS

WORK="$(mktemp -d /tmp/deskd-fuzz.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
failed=()
for src in "$FDIR"/fuzz_*.c; do
  name="$(basename "$src" .c)"
  [ "$name" = fuzz_harness ] && continue
  short="${name#fuzz_}"
  corpus="$FDIR/corpus/$short"
  mkdir -p "$corpus" "$WORK/$short/new" "$WORK/$short/art"
  echo "==> $name: committed corpus ($(ls "$corpus" | wc -l) inputs), then ${SECS}s of new inputs"
  # The first directory receives new interesting inputs; the committed one is only read.
  if ! "$BDIR/$name" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$WORK/$short/art/" \
      "$WORK/$short/new" "$corpus" >"$WORK/$short/log" 2>&1; then
    tail -n 60 "$WORK/$short/log"
    for a in "$WORK/$short/art"/*; do
      [ -e "$a" ] || continue
      known=""
      for c in "$corpus"/*; do cmp -s "$a" "$c" && known="$c" && break; done
      if [ -n "$known" ]; then
        echo "!! $name: fails on the committed input tests/fuzz/corpus/$short/$(basename "$known")"
        echo "!!   replay: $BDIR/$name $known"
        continue
      fi
      cp "$a" "$corpus/"
      echo "!! $name: reproducer kept as tests/fuzz/corpus/$short/$(basename "$a")"
      echo "!!   replay: $BDIR/$name tests/fuzz/corpus/$short/$(basename "$a")"
    done
    failed+=("$name")
  else
    grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$WORK/$short/log" |
      tr '\n' ' '
    echo
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing FAILED: ${failed[*]} (fix the crash, commit the reproducer in tests/fuzz/corpus)" >&2
  exit 1
fi
echo "fuzzing passed"
