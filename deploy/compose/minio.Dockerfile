# syntax=docker/dockerfile:1
# MinIO server built from the Go module proxy with the SAME pin as the local setup
# (deploy/local/versions.env: MINIO_MODULE@MINIO_VERSION), like deploy/local/services.sh does.
ARG GO_VERSION=1.24
FROM golang:${GO_VERSION}-bookworm AS build
ARG MINIO_MODULE=github.com/minio/minio
ARG MINIO_VERSION
RUN test -n "$MINIO_VERSION" \
 && CGO_ENABLED=0 GOBIN=/out GOFLAGS=-buildvcs=false go install "${MINIO_MODULE}@${MINIO_VERSION}"

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10002 --home-dir /data minio && mkdir -p /data && chown minio /data
COPY --from=build /out/minio /usr/local/bin/minio
USER minio
VOLUME ["/data"]
EXPOSE 9000 9001
ENTRYPOINT ["minio"]
CMD ["server", "--address", ":9000", "--console-address", ":9001", "/data"]
