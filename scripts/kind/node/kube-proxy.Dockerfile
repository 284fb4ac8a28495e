# kube-proxy for the offline kind node (scripts/kind/node-image.sh): the binary built from
# tools/k8s on the local Debian image with what its iptables mode runs (iptables,
# conntrack), like the upstream image (distroless-iptables). Built with --network host:
# apt reaches the Debian registry over plain http.
ARG BASE_IMAGE
FROM $BASE_IMAGE
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables conntrack \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY iptables-wrapper kube-proxy /usr/local/bin/
RUN chmod 0755 /usr/local/bin/iptables-wrapper /usr/local/bin/kube-proxy \
    && for cmd in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \
         ln -sf /usr/local/bin/iptables-wrapper "/usr/sbin/$cmd"; \
       done
ENTRYPOINT ["/usr/local/bin/kube-proxy"]
