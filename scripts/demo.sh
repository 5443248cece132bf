#!/usr/bin/env bash
# Starts the simulated Confluent Cloud and the exporter against it, both on
# loopback, prints where to look once both answer, and stops both on Ctrl-C.
# Run through `make demo`; `make demo DEMO_PORT=9061 SIM_PORT=9062
# AUDIT_PORT=9063` picks other ports (AUDIT_PORT is the simulated audit-log
# cluster's, a Kafka protocol broker with TLS). Any failure is one line on stderr and exit 1, with whatever
# was started stopped.
set -euo pipefail
exporter=${EXPORTER:?set EXPORTER to the exporter binary (make demo does)}
sim=${SIM:?set SIM to the simulator binary (make demo does)}
demo_port=${DEMO_PORT:-10061}
sim_port=${SIM_PORT:-10062}
audit_port=${AUDIT_PORT:-10063}
grow_after=${AUDIT_GROW_AFTER:-2m} # when the audit log's topic gets more partitions
sim_addr=127.0.0.1:$sim_port
exporter_addr=127.0.0.1:$demo_port

# A demo secret only the two processes here share; never a real one.
export CONFLUENT_CLOUD_API_SECRET=demo-secret-not-for-production
export CONFLUENT_CLOUD_API_KEY=DEMOKEY
export CONFLUENT_AUDIT_LOG_API_SECRET=demo-audit-secret-not-for-production
work=$(mktemp -d)

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "make demo: $*" >&2; exit 1; }

# listening PORT: something accepts connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# status PORT PATH: the HTTP status of GET PATH, or nothing.
status() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3 &&
    read -r _ code _ <&3 && echo "$code") 2>/dev/null || true
}

# wait_for WHAT PID CHECK...: polls CHECK for up to 30 s while PID runs.
wait_for() {
  local what=$1 pid=$2; shift 2
  for _ in $(seq 300); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || die "$what exited before it was ready (its message is above)"
    sleep 0.1
  done
  die "$what was not ready within 30 s"
}

for port in "$sim_port" "$demo_port" "$audit_port"; do
  listening "$port" && die "port $port on 127.0.0.1 is already in use; pick free ones: make demo DEMO_PORT=<port> SIM_PORT=<port> AUDIT_PORT=<port>"
done
[ "$(printf '%s\n' "$sim_port" "$demo_port" "$audit_port" | sort -u | wc -l)" = 3 ] || die "DEMO_PORT, SIM_PORT and AUDIT_PORT must differ"

"$sim" --listen-address="$sim_addr" --api-key="$CONFLUENT_CLOUD_API_KEY" \
  --audit-log-port="$audit_port" --audit-log-ca-file="$work/audit-ca.pem" --audit-log-info-file="$work/audit-log.env" \
  --audit-log-add-partitions-after="$grow_after" &
pids+=($!)
wait_for "the simulator" "${pids[0]}" listening "$sim_port"
# shellcheck source=/dev/null
. "$work/audit-log.env" # CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS, CONFLUENT_AUDIT_LOG_API_KEY

"$exporter" --web.listen-address="$exporter_addr" --confluent.url="http://$sim_addr" --refresh.interval=30s \
  --storage.path="$work/data" \
  --audit-log.bootstrap-servers="$CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS" --audit-log.api-key="$CONFLUENT_AUDIT_LOG_API_KEY" \
  --audit-log.ca-file="$work/audit-ca.pem" &
pids+=($!)
ready() { [ "$(status "$demo_port" /-/ready)" = 200 ]; }
wait_for "the exporter" "${pids[1]}" ready

cat <<MSG

  Simulated Confluent Cloud: http://$sim_addr
  Its audit log (Kafka):     $CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS (TLS, key $CONFLUENT_AUDIT_LOG_API_KEY)
  Exporter metrics:          http://$exporter_addr/metrics

  Turn a BYOK key INVALID (keys are listed in the metrics as confluent_byok_key_info):
    curl -X POST http://$sim_addr/_sim/byok/<key_id>/validation -d '{"phase":"INVALID","message":"Access to key denied."}'
  Fill the Cloud API key quota (the quota alert and panel react):
    curl -X PUT http://$sim_addr/_sim/quotas/iam.max_cloud_api_keys.per_org -d '{"applied_limit":100}'
  Delete a Kafka cluster (its BYOK key stays IN_USE, encrypting nothing):
    curl -X DELETE http://$sim_addr/_sim/clusters/lkc-0000
  Make an API key authenticate now, or fail to (the key usage panels and alerts react):
    curl -X POST http://$sim_addr/_sim/audit-log/authentications -d '{"key_id":"<key_id>","result":"SUCCESS"}'
  $grow_after in, the audit log's topic gets two more partitions while busy, as
  Confluent may: the exporter reads them within a minute, without a restart or
  an error (its log says "A partition was added"). Add more:
    curl -X POST http://$sim_addr/_sim/audit-log/partitions -d '{"count":2}'
  Keys the audit log cannot see (Basic clusters, Cloud keys) are never called unused:
    curl -s http://$exporter_addr/metrics | grep 'confluent_iam_api_key_usage_tracked.* 0$'
  Revoke the exporter's audit-log key (new connections are refused):
    curl -X PUT http://$sim_addr/_sim/audit-log/revoked -d '{"revoked":true}'
  Make the API fail:   curl -X PUT http://$sim_addr/_sim/faults -d '{"status":503}'
  Heal it:             curl -X PUT http://$sim_addr/_sim/faults -d '{}'

  Ctrl-C stops both.
MSG
# Until Ctrl-C, or until either process stops.
wait -n "${pids[@]}"
die "a demo process stopped (its message is above)"
