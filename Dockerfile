# One image for cinder-api and cinder-volume (docker-compose.yml picks the command).
# cinder-common brings the real /usr/bin/cinder-rtstool (python3-rtslib-fb); lvm2 the LVM tools.
FROM node:20-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      lvm2 thin-provisioning-tools python3-rtslib-fb cinder-common util-linux \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/cinder-ts
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save tsx@4
COPY src ./src
COPY migrations ./migrations
COPY tsconfig.json ./
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["src/cmd/api.ts", "--config-file", "/etc/cinder/cinder.conf"]
