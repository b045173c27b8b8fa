#!/usr/bin/env bash
# `./promptline test`: the whole suite.
#  1. installs, in the background and from the registries, the local services (Temporal, MLflow,
#     MinIO) and the reference Python venv (torch, OpenAI's clip, open_clip, transformers),
#  2. meanwhile runs unit, activity and workflow tests (Temporal's test environment, replay tests),
#  3. runs the reference tests (tag "reference": checkpoints the reference packages write now, in
#     real geometries, against the Java CLIP),
#  4. starts the services and runs the integration tests against them (tag "integration"),
#  5. stops the services again if this script started them.
# Extra arguments go to Maven (e.g. -Dtest=RunKeyTest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export PROMPTLINE_ROOT="$ROOT"
SERVICES="$ROOT/deploy/local/services.sh"
LOGDIR="${PROMPTLINE_HOME:-$ROOT/.promptline}/logs"
mkdir -p "$LOGDIR"
t0=$(date +%s)

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
if [ "$was_up" = 0 ]; then bash "$SERVICES" down || true; fi
t2=$(date +%s)

echo "== suite finished in $((t2 - t0)) s (unit+workflow+reference until $((t1 - t0)) s, reference stage ended at $((t_ref - t0)) s, integration $((t2 - t1)) s)"
if [ "$unit_rc" != 0 ] || [ "$ref_rc" != 0 ] || [ "$it_rc" != 0 ]; then
  echo "error: tests failed (unit/workflow exit $unit_rc, reference exit $ref_rc, integration exit $it_rc)" >&2
  exit 1
fi
