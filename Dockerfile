# syntax=docker/dockerfile:1
# The cfsign service image:  docker build -t cfsign .
# No key is ever part of the image: mount it read-only at run time (compose.yaml,
# deploy/kubernetes/). README.md, Deployment, has the whole story.

# Node 20, as package.json's engines and the test suite; the slim Debian image brings glibc and
# Debian's OpenSSL without compilers or package caches.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Sources are not there yet, so the "prepare" script (the build) must not run here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md ./
COPY bin/ bin/
COPY console/ console/
COPY docs/ docs/
COPY examples/edge-root/ examples/edge-root/
COPY src/ src/
# The package exactly as `npm pack` ships it: package.json, dist/, bin/, console/, docs/, the
# dev-mode sample folder and README.md.
RUN npm run build \
  && npm pack --ignore-scripts --pack-destination /tmp \
  && mkdir /package \
  && tar -xzf /tmp/cfsign-*.tgz -C /package --strip-components=1

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /package/ ./
# npm never packs the lockfile; production dependencies come at its exact versions.
COPY --from=build /src/package-lock.json ./
# --ignore-scripts: "prepare" would run the TypeScript compiler, a dev dependency not installed
# here. No production dependency needs an install script (test/deploy/install-path.test.ts).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can check it. The files
# stay root's: the service cannot rewrite its own code.
USER 1000:1000
EXPOSE 8080
# Liveness only: readiness (/readyz) is for load balancers, which must stop sending first.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(2000) }).then((response) => process.exit(response.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (readiness fails, the listener closes
# after CFSIGN_SHUTDOWN_DELAY, in-flight requests finish, exit 0). Same as `npm start`. The V8
# flags keep the service under 150 MB resident under load (README, Performance): semi-spaces
# of the young generation capped at 8 MiB (V8 sizes its default from the memory it sees: 16 MiB
# on a machine with several GiB), and an old generation that grows 1.5x its live size between
# full collections instead of up to 4x.
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/server/main.cjs"]
