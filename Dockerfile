# syntax=docker/dockerfile:1
# Parley's container image (README "Several servers"; deploy/compose.yaml runs three of them on
# one PostgreSQL behind HAProxy). Build from the repository root: `docker build -t parley .`
#
# Stage 1 installs exactly what package-lock.json pins (`npm ci`, whose `prepare` runs
# `npm run build`: server, dashboard, receiver SDK), then drops the development packages.
FROM node:20-bookworm-slim AS build
# The lock file is written by npm 11; the same major installs it.
RUN npm install -g npm@11 --no-audit --no-fund
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# Stage 2: Node 20 on Debian 12 with the offline speech packages (pocketsphinx STT, flite and
# espeak-ng TTS, sox), as scripts/install-system-deps.sh installs them.
FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends pocketsphinx pocketsphinx-en-us flite espeak-ng sox tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json's overrides point some optional native packages here.
COPY --from=build /app/scripts/empty-package ./scripts/empty-package
RUN mkdir -p /data /app/models && chown node:node /data /app/models
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 PARLEY_DATA_DIR=/data PARLEY_MODELS_DIR=/app/models
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tini forwards SIGTERM to Parley (which drains) and reaps the speech subprocesses.
ENTRYPOINT ["tini", "--"]
CMD ["node", "dist/cli.js", "serve"]
