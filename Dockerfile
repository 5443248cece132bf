# The release image, in the shape of the Prometheus exporters' images: the
# promu-built binary for OS/ARCH, run as nobody. `make docker` builds it.
# FROM scratch, so it carries what the binary needs: a CA bundle (it calls
# https://api.confluent.cloud), a passwd entry for nobody, and /data, the
# default --storage.path (data/ in the working directory /), writable by
# nobody: mount a volume there to keep key usage across containers.
ARG ARCH="amd64"
ARG OS="linux"
FROM scratch
ARG ARCH="amd64"
ARG OS="linux"
LABEL org.opencontainers.image.title="confluent_keys_exporter" \
      org.opencontainers.image.description="Prometheus exporter for Confluent Cloud BYOK keys and API keys" \
      org.opencontainers.image.source="https://github.com/confluent-keys-exporter/confluent_keys_exporter" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY .build/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY docker/passwd /etc/passwd
COPY docker/group /etc/group
COPY .build/${OS}-${ARCH}/confluent_keys_exporter /bin/confluent_keys_exporter
COPY --chown=65534:65534 docker/data /data

WORKDIR /
VOLUME ["/data"]
EXPOSE 10061
USER nobody
ENTRYPOINT ["/bin/confluent_keys_exporter"]
