# syntax=docker/dockerfile:1
#
# bansosbot as a container: a static binary on a distroless base, running
# as a non-root user, with its data (bbolt database, secret, backups,
# control socket) in the /data volume. See docs/OPERATIONS.md.
#
#   docker build -t bansosbot .
#   docker volume create bansosbot-data
#   docker run -d --name bansosbot --restart unless-stopped \
#     -e BANSOSBOT_TOKEN=123:abc -e BANSOSBOT_ADMINS=11111111 \
#     -v bansosbot-data:/data -p 127.0.0.1:9090:9090 bansosbot

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first: a layer that changes only with go.mod/go.sum.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary that needs nothing from the base image. The
# time zones (WIB/WITA/WIT) are embedded (time/tzdata).
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" \
      -o /out/bansosbot ./cmd/bansosbot \
 && mkdir -p /out/data && chmod 0700 /out/data

# distroless/static: CA certificates and /etc/passwd, no shell; "nonroot"
# is uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bansosbot /usr/local/bin/bansosbot
COPY --from=build --chown=65532:65532 /out/data /data
ENV BANSOSBOT_DATA=/data \
    BANSOSBOT_HTTP=0.0.0.0:9090 \
    BANSOSBOT_WEBHOOK_LISTEN=0.0.0.0:8443
VOLUME ["/data"]
USER 65532:65532
# 8443: the webhook (when BANSOSBOT_WEBHOOK_URL is set), behind a reverse
# proxy; 9090: /metrics, /healthz, /readyz. Publish them on 127.0.0.1 or
# an internal network only.
EXPOSE 8443 9090
# Liveness through the monitoring listener (BANSOSBOT_HTTP above); the
# image has no shell or curl, so the binary asks /healthz itself.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/usr/local/bin/bansosbot", "health"]
ENTRYPOINT ["/usr/local/bin/bansosbot"]
