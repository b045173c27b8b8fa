#!/usr/bin/env bash
# `./promptline test`: the whole suite.
#  1. installs, in the background and from the registries, the local services (Temporal, MLflow,
#     MinIO) and the reference Python venv (torch, OpenAI's clip, open_clip, transformers),
#  2. meanwhile runs unit, activity and workflow tests (Temporal's test environment, replay tests),
#  3. runs the reference tests (tag "reference": checkpoints the reference packages write now, in
#     real geometries, against the Java CLIP),
#  4. starts the services and runs the integration tests against them (tag "integration"),
#  5. runs the chaos suite (ChaosIT): one campaign under every fault of issue 12 against the real
#     services and real worker processes, compared with an undisturbed run; it prints a table (also
#     written to workers/target/chaos-table.md),
#  6. stops the services again if this script started them.
# `--chaos` runs only the chaos group (tag "chaos": ChaosIT plus the focused OutageIT and
# ScratchDiskFullIT), with the services but without the other tests; `--no-chaos` skips step 5.
# Other arguments go to Maven (e.g. -Dtest=RunKeyTest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export PROMPTLINE_ROOT="$ROOT"
SERVICES="$ROOT/deploy/local/services.sh"
LOGDIR="${PROMPTLINE_HOME:-$ROOT/.promptline}/logs"
mkdir -p "$LOGDIR"
t0=$(date +%s)

chaos=1
only_chaos=0
args=()
for a in "$@"; do
  case "$a" in
    --chaos) only_chaos=1 ;;
    --no-chaos) chaos=0 ;;
    *) args+=("$a") ;;
  esac
done
set -- "${args[@]+"${args[@]}"}"

run_chaos() {
  echo "== chaos suite: one campaign under every fault, against the real services and worker processes"
  PROMPTLINE_IT=1 ./mvnw -B -o -e -pl workers -am -Dgroups=chaos -Dsurefire.failIfNoSpecifiedTests=false \
    -Dsurefire.excludedGroups=none -Dpromptline.chaos.report="$ROOT/workers/target/chaos-table.md" "$@" test
}

if [ "$only_chaos" = 1 ]; then
  was_up=0
  if bash "$SERVICES" status >/dev/null 2>&1; then was_up=1; fi
  ./mvnw -B -q -DskipTests test-compile # fetches what the offline run below needs
  bash "$SERVICES" install
  bash "$SERVICES" up
  rc=0
  run_chaos "$@" || rc=$?
  if [ "$was_up" = 0 ]; then bash "$SERVICES" down || true; fi
  echo "== chaos suite finished in $(( $(date +%s) - t0 )) s (table: workers/target/chaos-table.md)"
  exit "$rc"
fi

was_up=0
if bash "$SERVICES" status >/dev/null 2>&1; then was_up=1; fi

echo "== installing local services in the background (log: $LOGDIR/install.log)"
bash "$SERVICES" install >"$LOGDIR/install.log" 2>&1 &
install_pid=$!
echo "== installing the reference Python venv in the background (log: $LOGDIR/venv.log)"
bash "$ROOT/tools/bench/ensure_venv.sh" >"$LOGDIR/venv.log" 2>&1 &
venv_pid=$!

echo "== unit, activity and workflow tests"
unit_rc=0
./mvnw -B -e "$@" verify || unit_rc=$?

echo "== waiting for the reference venv"
if ! wait "$venv_pid"; then
  tail -n 40 "$LOGDIR/venv.log" >&2
  echo "error: installing the reference Python venv failed; see $LOGDIR/venv.log" >&2
  exit 1
fi
echo "== reference tests: checkpoints written by the reference packages"
ref_rc=0
PROMPTLINE_REFERENCE_PYTHON="$(tail -n 1 "$LOGDIR/venv.log")" ./mvnw -B -o -e -pl ml -Dgroups=reference \
  -Dsurefire.failIfNoSpecifiedTests=false -Dsurefire.excludedGroups=none "$@" test || ref_rc=$?
t_ref=$(date +%s)

echo "== waiting for the service install"
if ! wait "$install_pid"; then
  tail -n 40 "$LOGDIR/install.log" >&2
  echo "error: installing the local services failed; see $LOGDIR/install.log" >&2
  exit 1
fi
t1=$(date +%s)

echo "== integration tests against real Temporal, MLflow and MinIO"
bash "$SERVICES" up
it_rc=0
PROMPTLINE_IT=1 ./mvnw -B -o -e -pl workers -am -Dgroups=integration -Dsurefire.failIfNoSpecifiedTests=false -Dsurefire.excludedGroups=none "$@" test || it_rc=$?
t2=$(date +%s)
chaos_rc=0
if [ "$chaos" = 1 ]; then run_chaos -Dtest=ChaosIT "$@" || chaos_rc=$?; fi
if [ "$was_up" = 0 ]; then bash "$SERVICES" down || true; fi
t3=$(date +%s)

echo "== suite finished in $((t3 - t0)) s (unit+workflow+reference until $((t1 - t0)) s, reference stage ended at $((t_ref - t0)) s, integration $((t2 - t1)) s, chaos $((t3 - t2)) s)"
if [ -f "$ROOT/workers/target/chaos-table.md" ] && [ "$chaos" = 1 ]; then cat "$ROOT/workers/target/chaos-table.md"; fi
if [ "$unit_rc" != 0 ] || [ "$ref_rc" != 0 ] || [ "$it_rc" != 0 ] || [ "$chaos_rc" != 0 ]; then
  echo "error: tests failed (unit/workflow exit $unit_rc, reference exit $ref_rc, integration exit $it_rc, chaos exit $chaos_rc)" >&2
  exit 1
fi
