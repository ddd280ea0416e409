# The MRA gateway as an image: Node runs the TypeScript sources directly (type stripping), so the image holds
# the sources, the JSON schemas and the production dependencies only. Node is the exact version the project
# pins (package.json, devDependency "node"); scripts/check-packaging.ts fails when they differ.
#
#   docker build -t mra-gateway .
#   docker run --rm mra-gateway --help
#   docker run -v ./gateway.yaml:/etc/mra-gateway/gateway.yaml:ro -p 127.0.0.1:8443:8443 mra-gateway

# --- production dependencies ------------------------------------------------------------------------------
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force

# --- runtime --------------------------------------------------------------------------------------------------
FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production \
    MRA_CONFIG=/etc/mra-gateway/gateway.yaml
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY schemas ./schemas
COPY src ./src
# Folders the gateway writes (certificates made by `certs`, the embedded store), owned by the unprivileged
# `node` user of the base image (uid 1000); named volumes mounted there inherit the ownership.
RUN mkdir -p /etc/mra-gateway /var/lib/mra-gateway/certs /var/lib/mra-gateway/data \
  && chown -R node:node /etc/mra-gateway /var/lib/mra-gateway
USER node
# 8443: the partner listener (HTTPS, mutual TLS); 8080: the internal API listener (health, /api/v1).
EXPOSE 8443 8080
# Liveness on the API listener, which answers /health/live without a client certificate: the `healthcheck`
# command reads the configuration ($MRA_CONFIG) for the listener's host, port and scheme; run as its own file,
# it starts in a fraction of the timeout. No curl in a slim image.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "src/cli/healthcheck.ts"]
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["serve"]
