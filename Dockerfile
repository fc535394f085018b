# One image for cinder-api, cinder-scheduler and cinder-volume (docker-compose.yml picks the command).
# The build stage compiles src/ to dist/ (TypeScript is a dev dependency); the image runs the
# compiled JavaScript through bin/cinder-ts, without src/ or a TypeScript loader.
FROM node:20-bookworm AS build
WORKDIR /opt/cinder-ts
COPY package.json package-lock.json ./
# tsc needs no native addon built.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.sh ./scripts/
COPY src ./src
RUN bash scripts/build.sh

# cinder-common brings the real /usr/bin/cinder-rtstool (python3-rtslib-fb); lvm2 the LVM tools.
FROM node:20-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      lvm2 thin-provisioning-tools python3-rtslib-fb cinder-common util-linux \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/cinder-ts
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /opt/cinder-ts/dist ./dist
COPY migrations ./migrations
COPY bin ./bin
ENTRYPOINT ["/opt/cinder-ts/bin/cinder-ts"]
CMD ["api", "--config-file", "/etc/cinder/cinder.conf"]
