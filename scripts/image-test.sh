#!/usr/bin/env bash
# Runs the container image (built by `make docker`) against the simulated
# Confluent Cloud on loopback, without a Docker daemon (buildah), and checks
# that it runs as nobody, answers /-/ready and serves the keys.
set -euo pipefail
image=${IMAGE:?}
buildah="buildah --storage-driver vfs"
sim_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 18462)
exp_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 18461)
export CONFLUENT_CLOUD_API_SECRET=image-test-secret

ctr=""
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "web.listen-address=127.0.0.1:$exp_port" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "$ctr" ] && $buildah rm "$ctr" >/dev/null 2>&1 || true
}
trap cleanup EXIT

user=$($buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$image")
[ "$user" = nobody ] || { echo "image runs as '$user', want nobody" >&2; exit 1; }

.build/confluent-cloud-sim --listen-address=127.0.0.1:$sim_port --api-key=IMAGETEST >/dev/null 2>&1 &
pids+=($!)
ctr=$($buildah from "$image")
$buildah run --isolation chroot --network host \
  -e CONFLUENT_CLOUD_API_KEY=IMAGETEST -e CONFLUENT_CLOUD_API_SECRET="$CONFLUENT_CLOUD_API_SECRET" "$ctr" -- \
  /bin/confluent_keys_exporter --confluent.url=http://127.0.0.1:$sim_port --web.listen-address=127.0.0.1:$exp_port \
  > .build/image-test.log 2>&1 &
pids+=($!)

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
if grep -q "$CONFLUENT_CLOUD_API_SECRET" .build/image-test.log; then echo "the secret is in the image's log" >&2; exit 1; fi
echo "image-test: $image runs as nobody and serves the simulated org"
