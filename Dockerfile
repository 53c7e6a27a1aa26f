# Jarvis as a container: the alternative to the systemd service on edge-gateway (VM 100, the default), run as the
# `jarvis` stack on app-host (VM 300): /opt/naas/stacks/jarvis/compose.yaml. Build it from a checkout:
#   docker build -t jarvis:local .
# Two stages: the build stage installs every dependency (the native SQLite binding is compiled there) and bundles the
# CLI into dist/ with the repository's own `npm ci` and `npm run build`, then drops the dev dependencies; the runtime
# stage holds only what runs, as the unprivileged `node` user, with the data in a volume (/data) and the specs in
# another (/specs). Compose runs it with a read-only root file system.

FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 builds from source when no prebuilt binary fits (README: Quick start).
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# `prepare` (the build) needs the sources: skip it here, run it below once they are copied.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3 esbuild
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
  JARVIS_DATA_DIR=/data \
  JARVIS_SPECS_DIR=/specs
WORKDIR /opt/jarvis
COPY --from=build --chown=root:root /src /opt/jarvis
RUN install -d -o node -g node -m 0700 /data && install -d -o root -g node -m 0750 /specs \
  && cp /opt/jarvis/specs/*.yaml /specs/ && chown root:node /specs/*.yaml && chmod 0640 /specs/*.yaml
USER node
VOLUME ["/data"]
ENTRYPOINT ["node", "--max-semi-space-size=2", "/opt/jarvis/bin/jarvis.js"]
CMD ["bot"]
