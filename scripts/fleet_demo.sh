#!/usr/bin/env bash
# The fleet end to end on loopback: a fleet server and two device agents, a new model version
# rolled out as a canary (the canary updates by delta, then the other device), and a bad
# version whose canary fails the server's shadow-agreement gate: the rollout halts, the canary
# is ordered back to the previous version and the other device never installs the bad one.
#
# Usage: scripts/fleet_demo.sh [--work DIR] [--json SUMMARY] [--outpost BIN]
#   --work DIR      where keys, models, the server's data and the device directories go
#                   (default build/fleet-demo; emptied first). Everything is left there.
#   --json SUMMARY  also write a JSON summary (devices, rollouts, delta size) to SUMMARY
#   --outpost BIN   the outpost binary (default $OUTPOST_BIN, else build/release/tools/outpost/outpost)
# Needs a build (scripts/build.sh release), curl and jq. Exit 0 only when every step happened.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

work="$root/build/fleet-demo"
summary=""
outpost="${OUTPOST_BIN:-$root/build/release/tools/outpost/outpost}"
while [ $# -gt 0 ]; do
  case "$1" in
    --work) work="$2"; shift 2 ;;
    --json) summary="$2"; shift 2 ;;
    --outpost) outpost="$2"; shift 2 ;;
    *) echo "fleet_demo: unknown option $1 (use --work DIR, --json SUMMARY, --outpost BIN)" >&2; exit 2 ;;
  esac
done

fail() { echo "fleet_demo: FAILED: $*" >&2; exit 1; }
say() { printf '  %s\n' "$*"; }
step() { printf '\n-- %s\n' "$*"; }
for tool in curl jq; do command -v "$tool" > /dev/null || fail "$tool is not installed (scripts/setup.sh)"; done
[ -x "$outpost" ] || fail "no outpost binary at $outpost (build first: scripts/build.sh release)"
case "$work" in /*) ;; *) work="$PWD/$work" ;; esac
# A previous run's directory is emptied; any other non-empty directory is left alone.
if [ -d "$work" ] && [ -n "$(ls -A "$work")" ] && [ ! -e "$work/.fleet-demo" ]; then
  fail "$work is not empty and not a previous run's directory: choose another --work"
fi
rm -rf "$work"
mkdir -p "$work/keys" "$work/models"
touch "$work/.fleet-demo"
started=$(date +%s)

# Every process started here is stopped on the way out, whatever happens.
pids=()
# Newest first: the agents send their last records before the server stops.
cleanup() {
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[$i]}
    kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
  done
}
trap cleanup EXIT

# Waits up to $1 seconds for the command that follows to succeed.
await() {
  local timeout=$1; shift
  local end=$(($(date +%s) + timeout))
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.2
  done
}

step "keys: a package signing pair and the server's rollback-order pair"
"$outpost" keygen -o "$work/keys/release" > /dev/null
"$outpost" keygen -o "$work/keys/rollback" > /dev/null
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/keys/admin.token"
chmod 600 "$work/keys/admin.token"
say "release.key/.pub (packages), rollback.key/.pub (rollback orders), admin.token"

step "three versions of the classifier, packed and signed"
zoo="$root/models/zoo"
# 1.0.0: the Fashion-MNIST CNN. 1.1.0: the same network with two class labels renamed (a real
# change, to the model's metadata only: the server offers a small delta). 1.2.0: a MobileNet
# trained on the same data; it passes its self-test and is healthy on the device, but on this
# camera's frames it disagrees with the CNN, which the rollout's agreement gate catches.
"$outpost" compile "$zoo/fashion_cnn/model.onnx" -o "$work/models/1.0.0.opm" > /dev/null
"$outpost" compile "$zoo/fashion_cnn/model.onnx" -o "$work/models/1.1.0.opm" \
  --labels "T-shirt,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Boot" > /dev/null
"$outpost" compile "$zoo/fashion_mobilenet/model.onnx" -o "$work/models/1.2.0.opm" > /dev/null
for v in 1.0.0 1.1.0 1.2.0; do
  "$outpost" pack "$work/models/$v.opm" --key "$work/keys/release.key" --name classifier --version "$v" \
    -o "$work/models/classifier-$v.opk" > /dev/null
  say "classifier $v: $(stat -c %s "$work/models/classifier-$v.opk") bytes"
done

step "fleet server (SQLite) on a free loopback port"
"$outpost" fleet serve --data "$work/fleet" --admin-token-file "$work/keys/admin.token" \
  --signing-key "$work/keys/release.pub" --rollback-key "$work/keys/rollback.key" \
  --listen 127.0.0.1:0 --tick-ms 200 > "$work/server.out" 2> "$work/server.log" &
pids+=($!)
server_url() { grep -o 'http://[0-9.:]*' "$work/server.out" 2> /dev/null | head -1; }
listening() { [ -n "$(server_url)" ]; }
await 20 listening || fail "the fleet server did not start: $(cat "$work/server.log")"
S=$(server_url)
say "listening on $S"
A="Authorization: Bearer $(cat "$work/keys/admin.token")"
# An admin call: METHOD PATH [BODY]; prints the answer, fails on a non-2xx status.
api() {
  local out status
  out=$(curl -sS --max-time 30 -X "$1" -H "$A" -w '\n%{http_code}' ${3:+--data-binary "$3"} "$S$2") || fail "$1 $2: no answer"
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  [ "${status:0:1}" = 2 ] || fail "$1 $2: HTTP $status $out"
  printf '%s' "$out"
}

step "upload the three versions to the registry"
parent=""
for v in 1.0.0 1.1.0 1.2.0; do
  r=$(api POST "/v1/models${parent:+?parent=$parent}" "@$work/models/classifier-$v.opk")
  say "registered $(jq -r '"\(.name) \(.version) (counter \(.counter), \(.size) bytes)"' <<< "$r")"
  parent=$v
done

step "two devices: enroll, then run the agent"
# The camera: synthetic frames (moving shapes), classified frame by frame. A device restarts
# its pipeline on every model switch, so each health window sees the same first frames.
cat > "$work/pipeline.json" << 'EOF'
{"source": {"type": "synthetic", "width": 160, "height": 120, "fps": 30, "seed": 3,
            "scene_frames": 100, "noise": 4, "lighting": 0.2},
 "model": "model.opm",
 "threads": 1,
 "preprocess": {"fit": "stretch", "resize": "bilinear"},
 "postprocess": {"type": "classification", "top_k": 1}}
EOF
token=$(api POST /v1/enrollment-tokens '{"group":"line-1","tags":["camera"],"uses":2}' | jq -r .token)
devices=()
for n in 1 2; do
  dir="$work/devices/cam-$n"
  "$outpost" agent enroll --dir "$dir" --server "$S" --token "$token" --model classifier \
    --signing-key "$work/keys/release.pub" --rollback-key "$work/keys/rollback.pub" \
    --pipeline "$work/pipeline.json" --name "cam-$n" --poll-ms 300 --report-ms 500 --upload-ms 300 \
    --health-window-ms 2000 --health-min-inferences 30 > /dev/null
  # The device's own health window guards against failing and grossly slow models (a shared
  # 2-core machine has latency spikes of several times); how well a new model agrees with the
  # old one is for the fleet's rollout gates to judge.
  jq '.health.max_p99_ratio = 20' "$dir/agent.json" > "$dir/agent.json.new" && mv "$dir/agent.json.new" "$dir/agent.json"
  devices+=("$(jq -r .device_id "$dir/agent.json")")
  "$outpost" agent run --dir "$dir" --max-seconds 170 > "$dir/agent.out" 2> "$dir/agent.log" &
  pids+=($!)
  say "cam-$n is ${devices[$((n - 1))]}, agent log $dir/agent.log"
done

committed() { [ "$(jq -r '.committed_version // ""' "$work/devices/$1/state.json" 2> /dev/null)" = "$2" ]; }
reported() { [ "$(api GET "/v1/devices/$1" | jq -r .version)" = "$2" ]; }
name_of() { [ "$1" = "${devices[0]}" ] && echo cam-1 || echo cam-2; }
versions() {
  local n line=""
  for n in 1 2; do line+="cam-$n $(api GET "/v1/devices/${devices[$((n - 1))]}" | jq -r '.version // "-"' | sed 's/^$/-/')  "; done
  say "devices: $line"
}

step "the fleet runs 1.0.0"
for d in "${devices[@]}"; do api PUT "/v1/devices/$d/desired" '{"model":"classifier","version":"1.0.0"}' > /dev/null; done
for n in 1 2; do
  await 40 committed "cam-$n" 1.0.0 || fail "cam-$n did not commit 1.0.0: $(tail -5 "$work/devices/cam-$n/agent.log")"
  await 10 reported "${devices[$((n - 1))]}" 1.0.0 || fail "cam-$n does not report 1.0.0"
done
versions

# What a device is doing, from its own state file: "1.1.0", or "1.1.0 -> 1.2.0 (health)" while
# an update is under way.
device_state() {
  jq -r 'if .state == "check" then (.committed_version | if . == "" then "-" else . end)
         else "\(.committed_version) -> \(.target.version) (\(.state))" end' "$work/devices/$1/state.json" 2> /dev/null || echo "-"
}
# Follows rollout $1 for up to $2 seconds until the command that follows succeeds, printing a
# line whenever the rollout's state or stage or a device's update state changes.
follow() {
  local id=$1 timeout=$2; shift 2
  local end=$(($(date +%s) + timeout)) last="" line
  while :; do
    api GET "/v1/rollouts/$id" > "$work/rollout-$id.json"
    line=$(jq -r '"\(.version) \(.state), stage \(.stage + 1) of \(.stages), \(.members) of \(.eligible) devices"' \
      "$work/rollout-$id.json")
    line+=" | cam-1 $(device_state cam-1), cam-2 $(device_state cam-2)"
    if [ "$line" != "$last" ]; then say "rollout $line"; last=$line; fi
    "$@" && return 0
    [ "$(date +%s)" -lt "$end" ] || fail "rollout $id: still waiting after ${timeout}s ($*)"
    sleep 0.2
  done
}
# True when rollout $1 is in state $2; fails the demo when it ended in another state.
rollout_is() {
  local state
  state=$(jq -r .state "$work/rollout-$1.json")
  [ "$state" = "$2" ] && return 0
  case "$state" in completed | halted | aborted) fail "rollout $1 ended $state: $(jq -r .reason "$work/rollout-$1.json")" ;; esac
  return 1
}
desired_of() { api GET "/v1/devices/$1" | jq -r '.desired.version // ""'; }

step "rollout of 1.1.0: canary (50%, at least one device), then everyone"
# Short holds and few records for a demo (a real plan holds each stage for minutes). The latency
# gate is off: on loopback the devices share one machine, and the demo judges agreement.
plan='{"stages":[{"percent":50,"min_devices":1,"hold_s":1},{"percent":100,"hold_s":1}],
       "gates":{"min_records":3,"max_error_rate":0.02,"max_p99_latency_ratio":null,"min_agreement":0.95},
       "on_failure":"rollback","max_wait_s":60}'
r1=$(api POST /v1/rollouts "{\"model\":\"classifier\",\"version\":\"1.1.0\",\"group\":\"line-1\",\"plan\":$plan}")
r1_id=$(jq -r .id <<< "$r1")
canary=""
for d in "${devices[@]}"; do [ "$(desired_of "$d")" = 1.1.0 ] && canary=$d; done
[ -n "$canary" ] || fail "no device was given 1.1.0 by the first stage"
other=${devices[0]}; [ "$canary" = "$other" ] && other=${devices[1]}
canary_name=$(name_of "$canary"); other_name=$(name_of "$other")
say "started $r1_id (baseline $(jq -r .baseline_version <<< "$r1")); canary: $canary_name"
follow "$r1_id" 40 committed "$canary_name" 1.1.0
delta_line=$(grep -o 'downloaded 1.1.0: delta of [0-9]* bytes from 1.0.0' "$work/devices/$canary_name/agent.log" | head -1) ||
  fail "$canary_name did not install 1.1.0 from a delta: $(grep 1.1.0 "$work/devices/$canary_name/agent.log" | head -3)"
delta_bytes=$(grep -o 'delta of [0-9]*' <<< "$delta_line" | grep -o '[0-9]*$')
package_bytes=$(stat -c %s "$work/models/classifier-1.1.0.opk")
say "$canary_name: $delta_line (the full package is $package_bytes bytes: $(awk -v d="$delta_bytes" -v p="$package_bytes" 'BEGIN { printf "%.2f", 100 * d / p }')%), committed"
[ "$(desired_of "$other")" != 1.1.0 ] || [ "$(api GET "/v1/rollouts/$r1_id" | jq -r .stage)" -ge 1 ] ||
  fail "$other_name was given 1.1.0 during the canary stage"
follow "$r1_id" 60 rollout_is "$r1_id" completed
await 40 committed "$other_name" 1.1.0 || fail "$other_name did not commit 1.1.0: $(tail -5 "$work/devices/$other_name/agent.log")"
for d in "${devices[@]}"; do await 10 reported "$d" 1.1.0 || fail "$(name_of "$d") does not report 1.1.0"; done
versions

step "rollout of 1.2.0: the canary's agreement with 1.1.0 is judged"
r2=$(api POST /v1/rollouts "{\"model\":\"classifier\",\"version\":\"1.2.0\",\"group\":\"line-1\",\"plan\":$plan}")
r2_id=$(jq -r .id <<< "$r2")
canary2=""
for d in "${devices[@]}"; do [ "$(desired_of "$d")" = 1.2.0 ] && canary2=$d; done
[ -n "$canary2" ] || fail "no device was given 1.2.0 by the first stage"
canary2_name=$(name_of "$canary2")
other2=${devices[0]}; [ "$canary2" = "$other2" ] && other2=${devices[1]}
other2_name=$(name_of "$other2")
say "started $r2_id (baseline $(jq -r .baseline_version <<< "$r2")); canary: $canary2_name"
follow "$r2_id" 60 rollout_is "$r2_id" halted
r2_final="$work/rollout-$r2_id.json"
say "halted: $(jq -r .reason "$r2_final")"
say "canary figures: $(jq -r '.status.canary | "\(.records) records, error rate \(.error_rate), p99 \(.latency_p99_ms * 100 | round / 100) ms, agreement \(.agreement)"' "$r2_final")"
say "baseline figures: $(jq -r '.status.baseline | "\(.records) records, error rate \(.error_rate), p99 \(.latency_p99_ms * 100 | round / 100) ms"' "$r2_final")"
# The canary ran 1.2.0 (it passed its self-test and its own health window, or is still in it);
# the rollback order brings it back to 1.1.0 as an update of its own, by delta.
grep -q 'running classifier 1.2.0' "$work/devices/$canary2_name/agent.log" ||
  fail "$canary2_name never ran 1.2.0: $(tail -5 "$work/devices/$canary2_name/agent.log")"
say "$canary2_name ran 1.2.0; the server orders it back to 1.1.0 (desired now $(desired_of "$canary2"))"
# Back on 1.1.0: the log runs 1.1.0 after 1.2.0, the device rests with 1.1.0 committed, and the
# server hears it.
back_on_previous() {
  local dir="$work/devices/$1"
  [ "$(grep -o 'running classifier [0-9.]*' "$dir/agent.log" | tail -1)" = "running classifier 1.1.0" ] &&
    [ "$(jq -r '"\(.state) \(.committed_version)"' "$dir/state.json")" = "check 1.1.0" ] && reported "$2" 1.1.0
}
follow "$r2_id" 60 back_on_previous "$canary2_name" "$canary2"
say "$canary2_name: $(grep -o 'committed 1.2.0\|rolled_back 1.2.0.*\|downloaded 1.1.0: .* from 1.2.0' "$work/devices/$canary2_name/agent.log" | paste -sd';' - | sed 's/;/; /g')"
if grep -q '1\.2\.0' "$work/devices/$other2_name/agent.log"; then
  fail "$other2_name saw 1.2.0: $(grep 1.2.0 "$work/devices/$other2_name/agent.log" | head -3)"
fi
say "$canary2_name is back on 1.1.0; $other2_name never installed 1.2.0"
versions

step "summary"
printf '  %-6s %-19s %-8s %-13s %s\n' device id version "canary of" "updates"
for n in 1 2; do
  d=${devices[$((n - 1))]}
  role=""
  [ "$d" = "$canary" ] && role="1.1.0"
  [ "$d" = "$canary2" ] && role="${role:+$role, }1.2.0"
  history=$(grep -o 'downloaded [0-9.]*: [a-z]*' "$work/devices/cam-$n/agent.log" |
    sed 's/downloaded \([0-9.]*\): delta/\1 by delta/; s/downloaded \([0-9.]*\): package/\1 in full/' |
    paste -sd'>' - | sed 's/>/ -> /g')
  printf '  %-6s %-19s %-8s %-13s %s\n' "cam-$n" "$d" "$(api GET "/v1/devices/$d" | jq -r .version)" "${role:--}" "$history"
done
for id in "$r1_id" "$r2_id"; do
  printf '  rollout %s: %s %s\n' "$id" "$(jq -r .version "$work/rollout-$id.json")" "$(jq -r .state "$work/rollout-$id.json")"
done
say "delta 1.0.0 -> 1.1.0: $delta_bytes bytes; full package $package_bytes bytes"
say "wall time $(($(date +%s) - started)) s; everything is in $work"

if [ -n "$summary" ]; then
  jq -n --arg server "$S" --arg work "$work" --arg d1 "${devices[0]}" --arg d2 "${devices[1]}" \
    --arg c1 "$canary" --arg c2 "$canary2" --arg r1 "$r1_id" --arg r2 "$r2_id" \
    --argjson delta "$delta_bytes" --argjson package "$package_bytes" \
    --arg reason "$(jq -r .reason "$r2_final")" \
    --arg s1 "$(jq -r .state "$work/rollout-$r1_id.json")" --arg s2 "$(jq -r .state "$r2_final")" \
    '{server: $server, work: $work, fleet_data: ($work + "/fleet"),
      devices: [{name: "cam-1", id: $d1, dir: ($work + "/devices/cam-1")},
                {name: "cam-2", id: $d2, dir: ($work + "/devices/cam-2")}],
      rollouts: [{version: "1.1.0", id: $r1, canary: $c1, state: $s1},
                 {version: "1.2.0", id: $r2, canary: $c2, state: $s2, reason: $reason}],
      delta_bytes: $delta, package_bytes: $package}' > "$summary"
fi
