#!/usr/bin/env bash
# Starts the simulated Confluent Cloud and the exporter against it, both on
# loopback, and stops both on Ctrl-C. Run through `make demo`.
set -euo pipefail
bin=${BIN:-.build/demo}
sim_addr=${SIM_ADDR:-127.0.0.1:10062}
exporter_addr=${EXPORTER_ADDR:-127.0.0.1:10061}

# A demo secret only the two processes here share; never a real one.
export CONFLUENT_CLOUD_API_SECRET=demo-secret-not-for-production
export CONFLUENT_CLOUD_API_KEY=DEMOKEY

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$bin/confluent-cloud-sim" --listen-address="$sim_addr" --api-key="$CONFLUENT_CLOUD_API_KEY" &
pids+=($!)
# Start the exporter once the simulator listens (its first refresh starts at once).
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/${sim_addr%:*}/${sim_addr#*:}") 2>/dev/null && break
  sleep 0.05
done
"$bin/confluent_keys_exporter" --web.listen-address="$exporter_addr" \
  --confluent.url="http://$sim_addr" --refresh.interval=30s &
pids+=($!)

if command -v curl >/dev/null; then
  for _ in $(seq 100); do
    curl -fs "http://$exporter_addr/-/ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
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
wait
