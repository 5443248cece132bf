#!/usr/bin/env bash
# Runs the container image (built by `make docker`) against the simulated
# Confluent Cloud and its audit log on loopback, without a Docker daemon
# (buildah), and checks that it runs as nobody, reads its secrets from files
# mounted as a Kubernetes Secret volume would be (and, when such a file is
# root's alone, says how to fix that), answers /-/ready, serves the keys and
# their usage, and keeps that usage in a mounted volume when it stops (/data,
# the default, is nobody's in the image).
set -euo pipefail
image=${IMAGE:?}
buildah="buildah --storage-driver vfs"
sim_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 18462)
exp_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 18461)
audit_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 18463)
export CONFLUENT_CLOUD_API_SECRET=image-test-secret
export CONFLUENT_AUDIT_LOG_API_SECRET=image-test-audit-secret
work=$(mktemp -d)

ctr=""
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "web.listen-address=127.0.0.1:$exp_port" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "$ctr" ] && $buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

user=$($buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$image")
[ "$user" = nobody ] || { echo "image runs as '$user', want nobody" >&2; exit 1; }

.build/confluent-cloud-sim --listen-address=127.0.0.1:$sim_port --api-key=IMAGETEST \
  --audit-log-port="$audit_port" --audit-log-ca-file="$work/ca.pem" --audit-log-info-file="$work/audit.env" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -s "$work/audit.env" ] && break; sleep 0.1; done
# shellcheck source=/dev/null
. "$work/audit.env" # CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS, CONFLUENT_AUDIT_LOG_API_KEY
chmod 0644 "$work/ca.pem"
ctr=$($buildah from "$image")
# /data, the default --storage.path, is nobody's in the image; a volume
# mounted there (here a directory nobody owns, as Kubernetes' fsGroup or
# Docker's volume from the image makes it) receives the state file.
root=$($buildah mount "$ctr")
data_owner=$(stat -c '%u %a' "$root/data")
$buildah umount "$ctr" >/dev/null
[ "$data_owner" = "65534 755" ] || { echo "/data in the image is '$data_owner' (uid, mode), want '65534 755'" >&2; exit 1; }
# The volume is mounted at /state and named with --storage.path: buildah run
# also gives the image's VOLUME /data a volume of its own, and which of the
# two ends up at /data varies from run to run (the exporter then saves
# where the test does not look).
mkdir -m 0700 "$work/data" && chown 65534:65534 "$work/data"

# The secrets are files in a directory, as a Secret volume mounts them.
mkdir -m 0755 "$work/secrets"
printf '%s\n' "$CONFLUENT_CLOUD_API_SECRET" >"$work/secrets/api-secret"
printf '%s\n' "$CONFLUENT_AUDIT_LOG_API_SECRET" >"$work/secrets/audit-log-api-secret"
run() {
  $buildah run --isolation chroot --network host --volume "$work/ca.pem:/etc/audit-ca.pem:ro" --volume "$work/data:/state" \
    --volume "$work/secrets:/etc/confluent:ro" -e CONFLUENT_CLOUD_API_KEY=IMAGETEST "$ctr" -- \
    /bin/confluent_keys_exporter --confluent.url=http://127.0.0.1:$sim_port --web.listen-address=127.0.0.1:$exp_port \
    --confluent.api-secret-file=/etc/confluent/api-secret \
    --audit-log.bootstrap-servers="$CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS" --audit-log.api-key="$CONFLUENT_AUDIT_LOG_API_KEY" \
    --audit-log.api-secret-file=/etc/confluent/audit-log-api-secret --audit-log.ca-file=/etc/audit-ca.pem --storage.path=/state "$@"
}

# Root's 0600 files: nobody may not read them. The exporter refuses to
# start, and says who it runs as and how to fix the ownership.
chown 0:0 "$work/secrets/"* && chmod 0600 "$work/secrets/"*
if run >.build/image-test-denied.log 2>&1; then
  echo "the image started with a secret file it may not read" >&2; exit 1
fi
grep -q 'permission denied: the exporter runs as uid 65534, gid 65534' .build/image-test-denied.log ||
  { echo "a secret file the image may not read is not explained:" >&2; cat .build/image-test-denied.log >&2; exit 1; }

# The fix the README gives: readable by the exporter's group (fsGroup 65534 in Kubernetes).
chgrp 65534 "$work/secrets/"* && chmod 0440 "$work/secrets/"*
run > .build/image-test.log 2>&1 &
run_pid=$!
pids+=($run_pid)

get() { python3 - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.stdout.write(r.read().decode())
except Exception:
    sys.exit(1)
PY
}
for _ in $(seq 200); do
  get "http://127.0.0.1:$exp_port/-/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
metrics=$(get "http://127.0.0.1:$exp_port/metrics") || { echo "the image did not serve metrics:" >&2; cat .build/image-test.log >&2; exit 1; }
grep -q '^confluent_byok_key_info{' <<<"$metrics" || { echo "no BYOK keys in the image's metrics" >&2; exit 1; }
grep -q '^confluent_refresh_success{collector="api_keys",organization="default"} 1' <<<"$metrics" || { echo "the image's API-key refresh failed" >&2; exit 1; }
for _ in $(seq 300); do
  metrics=$(get "http://127.0.0.1:$exp_port/metrics") || true
  grep -q '^confluent_audit_log_caught_up{organization="default"} 1' <<<"$metrics" && break
  sleep 0.1
done
grep -q '^confluent_iam_api_key_last_authenticated_timestamp_seconds{' <<<"$metrics" || { echo "the image read no key usage from the audit log:" >&2; cat .build/image-test.log >&2; exit 1; }

# Stopped, it saves the usage in the volume, as nobody. (The exporter itself:
# buildah, whose command line names the same flags, would kill it.)
exporter="^/bin/confluent_keys_exporter .*web.listen-address=127.0.0.1:$exp_port"
pkill -TERM -f "$exporter"
# Stopped is when buildah run returns: the container, and all it wrote, done.
for _ in $(seq 600); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$run_pid" 2>/dev/null || pgrep -f "$exporter" >/dev/null; then
  echo "the exporter did not stop within 60 s of SIGTERM:" >&2; cat .build/image-test.log >&2; exit 1
fi
state="$work/data/audit-log-default.json"
[ -f "$state" ] || { echo "no audit-log-default.json in the volume after the exporter stopped:" >&2; cat .build/image-test.log >&2; exit 1; }
owner=$(stat -c '%u %a' "$state")
[ "$owner" = "65534 600" ] || { echo "the state file is '$owner' (uid, mode), want '65534 600'" >&2; exit 1; }

for secret in "$CONFLUENT_CLOUD_API_SECRET" "$CONFLUENT_AUDIT_LOG_API_SECRET"; do
  if grep -q "$secret" .build/image-test.log .build/image-test-denied.log; then echo "a secret is in the image's log" >&2; exit 1; fi
done
echo "image-test: $image runs as nobody, reads its secrets from mounted files, serves the simulated org and keeps key usage in a volume it owns"
