#!/usr/bin/env bash
# Quick end-to-end check of the local services started by deploy/local/services.sh up.
#   - all three services healthy (services.sh status)
#   - Temporal: namespace reachable, Promptline search attributes registered
#   - MLflow: create experiment + run, log a metric, upload an artifact through the artifact
#     proxy (PUT /api/2.0/mlflow-artifacts/artifacts/...), download and compare it
#   - MinIO: the proxied artifact really landed in the mlflow-artifacts bucket (root key); put/get/delete
#     an object in the promptline bucket with the worker's bucket-scoped key (boto3, credentials from
#     PROMPTLINE_CREDENTIALS_FILE)
#   - with `services up --auth`, MLflow calls carry the Java side's MLflow user from that file
# Usage: deploy/local/smoke.sh [--up]   (--up: run services.sh up first)
# Exit 0 = all good; non-zero with a message naming the failed check. Secrets are never printed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICES="$SCRIPT_DIR/services.sh"
start=$SECONDS

fail() { printf 'smoke: FAILED: %s\n' "$*" >&2; exit 1; }

if [[ "${1:-}" == "--up" ]]; then
  "$SERVICES" up >/dev/null || fail "services.sh up failed"
fi

eval "$("$SERVICES" env)"
"$SERVICES" status || fail "not all services are healthy (start them with: deploy/local/services.sh up)"

VENV="$PROMPTLINE_HOME/venv"
TEMPORAL="$VENV/bin/temporal"
[[ -x "$TEMPORAL" ]] || TEMPORAL="$PROMPTLINE_HOME/bin/temporal"

# --- Temporal
"$TEMPORAL" operator namespace describe --address "$PROMPTLINE_TEMPORAL_TARGET" \
  --namespace "$PROMPTLINE_TEMPORAL_NAMESPACE" --command-timeout 10s >/dev/null \
  || fail "temporal: cannot describe namespace $PROMPTLINE_TEMPORAL_NAMESPACE at $PROMPTLINE_TEMPORAL_TARGET"
sa="$("$TEMPORAL" operator search-attribute list --address "$PROMPTLINE_TEMPORAL_TARGET" \
  --namespace "$PROMPTLINE_TEMPORAL_NAMESPACE" --command-timeout 10s)" || fail "temporal: cannot list search attributes"
for a in PromptlineCampaign PromptlineRunKey; do
  grep -q "$a" <<<"$sa" || fail "temporal: search attribute $a is not registered"
done
echo "smoke: temporal ok (namespace $PROMPTLINE_TEMPORAL_NAMESPACE, search attributes registered)"

# --- MLflow + MinIO
"$VENV/bin/python" - <<'PY' || fail "mlflow/minio check (see message above)"
import json, os, sys, time, uuid, urllib.request, urllib.error
import boto3
from botocore.config import Config

mlflow = os.environ["PROMPTLINE_MLFLOW_URI"].rstrip("/")
creds = {}
with open(os.environ["PROMPTLINE_CREDENTIALS_FILE"]) as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            creds[k] = v

def die(msg):
    print(f"smoke: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)

def call(method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(mlflow + path, data=data, method=method)
    if creds.get("PROMPTLINE_MLFLOW_USERNAME"):  # MLflow basic auth (ignored by a server without it)
        import base64
        login = f"{creds['PROMPTLINE_MLFLOW_USERNAME']}:{creds.get('PROMPTLINE_MLFLOW_PASSWORD', '')}"
        req.add_header("Authorization", "Basic " + base64.b64encode(login.encode()).decode())
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        die(f"mlflow: {method} {path} -> HTTP {e.code}: {e.read()[:300]!r}")
    except OSError as e:
        die(f"mlflow: {method} {path} -> {e}")

tag = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
exp_id = json.loads(call("POST", "/api/2.0/mlflow/experiments/create", {"name": f"promptline-smoke-{tag}"}))["experiment_id"]
run = json.loads(call("POST", "/api/2.0/mlflow/runs/create",
                      {"experiment_id": exp_id, "start_time": int(time.time() * 1000)}))["run"]["info"]
run_id = run["run_id"]
call("POST", "/api/2.0/mlflow/runs/log-metric",
     {"run_id": run_id, "key": "smoke", "value": 1.0, "timestamp": int(time.time() * 1000), "step": 0})
loc = run["artifact_uri"]  # mlflow-artifacts:/<exp>/<run>/artifacts
if not loc.startswith("mlflow-artifacts:/"):
    die(f"mlflow: run artifact_uri {loc} is not served by the artifact proxy")
rel = loc[len("mlflow-artifacts:/"):].lstrip("/") + "/smoke.txt"
payload = f"promptline smoke {tag}\n".encode()
call("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{rel}", raw=payload)
got = call("GET", f"/api/2.0/mlflow-artifacts/artifacts/{rel}")
if got != payload:
    die("mlflow: downloaded artifact differs from the uploaded one")
call("POST", "/api/2.0/mlflow/runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": int(time.time() * 1000)})
print(f"smoke: mlflow ok (experiment {exp_id}, run {run_id}, artifact uploaded through the proxy)")

s3 = boto3.client("s3", endpoint_url=os.environ["PROMPTLINE_MINIO_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=creds["PROMPTLINE_MINIO_ACCESS_KEY"],
                  aws_secret_access_key=creds["PROMPTLINE_MINIO_SECRET_KEY"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
art_bucket = os.environ["PROMPTLINE_MLFLOW_ARTIFACT_BUCKET"]
try:
    body = s3.get_object(Bucket=art_bucket, Key=rel)["Body"].read()
except Exception as e:
    die(f"minio: artifact {rel} not found in bucket {art_bucket}: {e}")
if body != payload:
    die(f"minio: object {art_bucket}/{rel} differs from the uploaded artifact")
bucket = os.environ["PROMPTLINE_MINIO_BUCKET"]
key = f"smoke/{tag}.bin"
data = os.urandom(4096)
if creds.get("PROMPTLINE_MINIO_WORKER_ACCESS_KEY"):  # what the Java side uses
    s3 = boto3.client("s3", endpoint_url=os.environ["PROMPTLINE_MINIO_ENDPOINT"], region_name="us-east-1",
                      aws_access_key_id=creds["PROMPTLINE_MINIO_WORKER_ACCESS_KEY"],
                      aws_secret_access_key=creds["PROMPTLINE_MINIO_WORKER_SECRET_KEY"],
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
try:
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    back = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.delete_object(Bucket=bucket, Key=key)
except Exception as e:
    die(f"minio: put/get/delete in bucket {bucket}: {e}")
if back != data:
    die(f"minio: object {bucket}/{key} read back differs")
print(f"smoke: minio ok (proxied artifact present in {art_bucket}; put/get/delete in {bucket})")
PY

echo "smoke: OK in $((SECONDS - start))s"
