# syntax=docker/dockerfile:1
#
# openclaw-bot: one static Go binary on distroless (no shell, no libc, no package manager).
#
#   docker build -t openclaw-bot:local --build-arg VERSION=v0.1.0 \
#     --build-arg REVISION=$(git rev-parse HEAD) --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
#   docker run --rm openclaw-bot:local version --json
#
# Two images: the default (last stage) is the static binary alone; --target with-openclaw adds
# the OpenClaw CLI and Node for the features that run it (see that stage).
#
# THE UID: the image runs as 1000:1000, the `node` user of the official OpenClaw image. It
# must be the uid (and gid) the OpenClaw gateway runs as: OpenClaw writes its state
# (openclaw.json, .env, state/openclaw.sqlite with the credentials) mode 0600, so any other
# uid reads nothing, and restart method signal needs the same uid. Gateway running as
# another uid? `docker run --user UID:GID` or compose `user:`.
#
# HEALTHCHECK: the image has no shell or curl, so the binary probes itself:
# `openclaw-bot healthcheck` asks serve's /healthz on the config's http.listen (liveness;
# `--ready` would ask /readyz, which is down while Slack or Telegram is unreachable: not a
# reason to call the bot unhealthy). /readyz is for load balancers and monitoring.
#
# The build is reproduced by deploy/deploy_test.go (the `go build` line below is run as is,
# with VERSION=test-1.2.3): keep it a single command without && or ;.

FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
WORKDIR /src
# Dependencies first, for the layer cache.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Set by BuildKit for the target platform (docker buildx build --platform linux/arm64 …).
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=
ARG BUILD_DATE=
# CGO_ENABLED=0: a static binary (SQLite is modernc.org/sqlite, pure Go). -buildvcs=false:
# .git is not in the build context; REVISION and BUILD_DATE stand in for its stamp.
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION} -X main.built=${BUILD_DATE}" -o /out/openclaw-bot ./cmd/openclaw-bot
# The store's directory, so a fresh named volume starts out owned by the runtime uid.
RUN mkdir -p /out/data

# ---------------------------------------------------------------------------------------------
# with-openclaw: the same bot beside the OpenClaw CLI, for what only the CLI can do: `doctor`,
# `doctor fix`, `probe --spend`, restart method rpc and the models.authRefresh after a cooldown
# reset (both call the gateway on the loopback port of openclaw.json: share its network
# namespace, compose `network_mode: service:openclaw-gateway`). Not distroless (Node, a shell; ~300 MB):
#   docker build --target with-openclaw -t openclaw-bot:local-cli .
# Node and OpenClaw are pinned to what scripts/install-peer.sh installs for the tests (OpenClaw
# 2026.9.6 needs Node >= 24.16); deploy/deploy_test.go keeps the two in step, and keeps every
# runtime instruction below identical to the default image's.
FROM node:24.21.0-bookworm-slim AS with-openclaw
RUN npm install -g --no-audit --no-fund openclaw@2026.9.6 && npm cache clean --force && openclaw --version
# Never update itself or phone home from inside the bot's container.
ENV DO_NOT_TRACK=1 OPENCLAW_NO_AUTO_UPDATE=1
COPY --from=build /out/openclaw-bot /usr/local/bin/openclaw-bot
COPY --from=build --chown=1000:1000 /out/data /var/lib/openclaw-bot
# 1000:1000 is this image's own `node` user, as in the OpenClaw image.
ENV HOME=/home/node
USER 1000:1000
WORKDIR /var/lib/openclaw-bot
VOLUME ["/var/lib/openclaw-bot"]
EXPOSE 8080 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/openclaw-bot", "healthcheck", "--config", "/etc/openclaw-bot/config.yaml"]
ENTRYPOINT ["/usr/local/bin/openclaw-bot"]
CMD ["serve", "--config", "/etc/openclaw-bot/config.yaml"]

# ---------------------------------------------------------------------------------------------
# The default image (the last stage).
# CA certificates (Slack, Telegram, Anthropic over https), /etc/passwd, /tmp; time zones are
# compiled into the binary (time/tzdata).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/openclaw-bot /usr/local/bin/openclaw-bot
COPY --from=build --chown=1000:1000 /out/data /var/lib/openclaw-bot
# uid 1000 has no passwd entry here: HOME makes "~" mean what it means to the gateway, so
# with no config the bot watches /home/node/.openclaw (mount the gateway's state there).
ENV HOME=/home/node
USER 1000:1000
# store.path defaults to ./openclaw-bot.db: the data volume. Backups made before every
# confirmed change go to openclaw-bot-backups/ beside the store.
WORKDIR /var/lib/openclaw-bot
VOLUME ["/var/lib/openclaw-bot"]
# http.listen (/healthz, /readyz, Slack HTTP mode, Telegram webhook) and metrics.listen.
# Both default to 127.0.0.1 in the bot's config: set 0.0.0.0:8080 / 0.0.0.0:9090 in a container.
EXPOSE 8080 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/openclaw-bot", "healthcheck", "--config", "/etc/openclaw-bot/config.yaml"]
ENTRYPOINT ["/usr/local/bin/openclaw-bot"]
CMD ["serve", "--config", "/etc/openclaw-bot/config.yaml"]
