# syntax=docker/dockerfile:1
#
# One image for every process of the IdP (DESIGN §8). The default command is the all-in-one
# embedded server; each distributed service is the same image with another command:
#
#   docker run ghcr.io/example/idp:0.1.0                                        # embedded
#   docker run ghcr.io/example/idp:0.1.0 node dist/services/gateway/main.js     # one service
#
# (gateway | authn | client-registry | token-issuer). docker-compose.yml and infra/k8s/ do exactly
# that. Build: docker build -t idp:local .

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# Build stage: toolchain for the native addons, full install, compile, then drop devDependencies.
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build

# argon2 and better-sqlite3 are native addons; .npmrc sets build-from-source=true, so `npm ci`
# compiles them here with node-gyp instead of downloading prebuilt binaries.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so the slow native build is cached until the lockfile changes.
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

# Sources (tests stay out: see .dockerignore; tsc simply finds no test files).
COPY tsconfig.json ./
COPY contracts ./contracts
COPY infra ./infra
COPY services ./services
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------------------------------------
# Runtime stage: no compiler, no sources, no devDependencies; runs as a non-root numeric user.
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

# The image listens on every interface, so it must not ship the demo user (demo/demo) and the
# demo client by default: set IDP_DEMO=on explicitly to try it out.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    IDP_DEMO=off

WORKDIR /app

# Owned by root and read-only for the process: the app cannot modify its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# The embedded mode keeps its SQLite log, data keys and KEK file under ./data (IDP_DATA_DIR);
# a volume mounted here inherits this ownership. Distributed services write nothing to disk.
RUN mkdir -p /app/data && chown 1000:1000 /app/data && chmod 0700 /app/data

# The `node` user of the base image, by number: Kubernetes can only verify runAsNonRoot
# against a numeric USER.
USER 1000:1000

# 3000: HTTP (gateway, embedded). 9464: /healthz, /readyz, /metrics of every service (HEALTH_PORT).
EXPOSE 3000 9464

# Exec form: node is PID 1 and receives SIGTERM itself (graceful shutdown, DESIGN §8).
CMD ["node", "dist/services/embedded/main.js"]
