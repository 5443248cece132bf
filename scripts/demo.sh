#!/usr/bin/env bash
# Starts the simulated Confluent Cloud and the exporter against it, both on
# loopback, prints where to look once both answer, and stops both on Ctrl-C.
# Run through `make demo`; `make demo DEMO_PORT=9061 SIM_PORT=9062` picks
# other ports. Any failure is one line on stderr and exit 1, with whatever
# was started stopped.
set -euo pipefail
exporter=${EXPORTER:?set EXPORTER to the exporter binary (make demo does)}
sim=${SIM:?set SIM to the simulator binary (make demo does)}
demo_port=${DEMO_PORT:-10061}
sim_port=${SIM_PORT:-10062}
sim_addr=127.0.0.1:$sim_port
exporter_addr=127.0.0.1:$demo_port

# A demo secret only the two processes here share; never a real one.
export CONFLUENT_CLOUD_API_SECRET=demo-secret-not-for-production
export CONFLUENT_CLOUD_API_KEY=DEMOKEY

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
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

for port in "$sim_port" "$demo_port"; do
  listening "$port" && die "port $port on 127.0.0.1 is already in use; pick free ones: make demo DEMO_PORT=<port> SIM_PORT=<port>"
done
[ "$sim_port" != "$demo_port" ] || die "DEMO_PORT and SIM_PORT are both $demo_port"

"$sim" --listen-address="$sim_addr" --api-key="$CONFLUENT_CLOUD_API_KEY" &
pids+=($!)
wait_for "the simulator" "${pids[0]}" listening "$sim_port"

"$exporter" --web.listen-address="$exporter_addr" --confluent.url="http://$sim_addr" --refresh.interval=30s &
pids+=($!)
ready() { [ "$(status "$demo_port" /-/ready)" = 200 ]; }
wait_for "the exporter" "${pids[1]}" ready

cat <<MSG

  Simulated Confluent Cloud: http://$sim_addr
  Exporter metrics:          http://$exporter_addr/metrics

  Turn a BYOK key INVALID (keys are listed in the metrics as confluent_byok_key_info):
    curl -X POST http://$sim_addr/_sim/byok/<key_id>/validation -d '{"phase":"INVALID","message":"Access to key denied."}'
  Fill the Cloud API key quota (the quota alert and panel react):
    curl -X PUT http://$sim_addr/_sim/quotas/iam.max_cloud_api_keys.per_org -d '{"applied_limit":100}'
  Delete a Kafka cluster (its BYOK key stays IN_USE, encrypting nothing):
    curl -X DELETE http://$sim_addr/_sim/clusters/lkc-0000
  Make the API fail:   curl -X PUT http://$sim_addr/_sim/faults -d '{"status":503}'
  Heal it:             curl -X PUT http://$sim_addr/_sim/faults -d '{}'

  Ctrl-C stops both.
MSG
# Until Ctrl-C, or until either process stops.
wait -n "${pids[@]}"
die "a demo process stopped (its message is above)"
