#!/usr/bin/env bash
# The README's main job: the whole vacuum lifecycle on this machine, nothing outside loopback.
# dist/manager serves the shipped example definition (examples/manager); dist/agent runs as a VM
# would, under --root (no host name, firewall or power-off really touched), reading its user_data,
# metadata and Machine/Job Features from the manager's emulation, runs the `command` payload and
# ends with its job outputs and shutdown_message stored by the manager.
#
#   scripts/demo.sh            (npm run demo; needs `npm run build` first)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for b in dist/agent dist/manager; do
  [ -x "$b" ] || { echo "demo: $b missing: run npm run build first" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/vacuum-demo.XXXXXX")
manager_pid=
cleanup() {
  [ -n "$manager_pid" ] && kill "$manager_pid" 2>/dev/null && wait "$manager_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the manager picks a free loopback port and prints its URL on stdout.
dist/manager serve examples/manager/definition.json --http --listen 127.0.0.1:0 --state "$work/manager" >"$work/manager.url" 2>"$work/manager.log" &
manager_pid=$!
for _ in $(seq 100); do [ -s "$work/manager.url" ] && break; sleep 0.05; done
url=$(head -n1 "$work/manager.url")
[ -n "$url" ] || { echo "demo: the manager did not start:" >&2; cat "$work/manager.log" >&2; exit 1; }
echo "manager: $url (serving examples/manager/definition.json)"

vm=demo-$(date +%s)
echo "agent:   dist/agent run --root $work/vm --metadata-url $url/vms/example-command/$vm/metadata"
dist/agent run --root "$work/vm" --metadata-url "$url/vms/example-command/$vm/metadata" 2>"$work/agent.log" || true
grep -E "stage-finish|finished:" "$work/agent.log" | sed 's/^/  /'

out="$work/manager/vms/example-command/$vm/joboutputs"
echo
echo "job outputs received by the manager ($out):"
ls -l "$out" | tail -n +2 | sed 's/^/  /'
echo
echo "shutdown_message: $(cat "$out/shutdown_message")"
# The manager's view of the VM (its /status page shows the same in a browser).
node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{const v=JSON.parse(d).vms[0];console.log(`status:           ${v.machinetype}/${v.vmId} ${v.state}, ${v.shutdownMessage}, ${(v.timeline||[]).length} stages in the timeline`)})' \
  < <(curl -sf "$url/status.json?limit=1") 2>/dev/null || echo "status:           $url/status.json"
echo "status page:      $url/status"
