#!/usr/bin/env bash
# Start-up benchmark of the compiled agent against its peers, all measured in one hyperfine run so
# the figures are comparable (a shared 2-core box drifts by ±30% between runs minutes apart):
#   dist/agent --version                       vs  node -e 0, cloud-init --version
#   dist/agent --dry-run --user-data ... none  vs  cloud-init schema --config-file <small cloud-config>
# plus the binaries' sizes, raw and gzip -6. Prints a Markdown report and saves it to
# scripts/bench-results/startup-<date>.md (ignored by git).
# May install hyperfine and cloud-init from Debian (apt-get; services are not started).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

RUNS=${BENCH_RUNS:-20}
notes=()
note() { notes+=("$1"); echo "bench: $1" >&2; }

apt_updated=0
apt_install() {
  [ "$(id -u)" -eq 0 ] || return 1
  if [ "$apt_updated" -eq 0 ]; then apt-get update -q >&2 || return 1; apt_updated=1; fi
  # Refuse service start-ups during the install (cloud-init ships units), unless a policy exists.
  local own_policy=0 rc=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && own_policy=1
  fi
  apt-get install -y -q --no-install-recommends "$@" </dev/null >&2 || rc=$?
  [ "$own_policy" -eq 0 ] || rm -f /usr/sbin/policy-rc.d
  return "$rc"
}

command -v hyperfine >/dev/null || apt_install hyperfine || { echo "bench: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
# Always from the current tree, so the figures belong to the commit the report names.
bash scripts/build.sh all >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Two passes over the same commands: cold (page cache dropped before every run, so start-up
# includes reading the ~110 MB binary's touched pages from disk) when the kernel lets us, and warm.
if (sync && echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
  cold=1
  cache_state="cold = page cache dropped before every run; warm = after 3 warm-up runs"
else
  cold=0
  cache_state="warm only (after 3 warm-up runs): /proc/sys/vm/drop_caches is not writable here, so no cold figures"
fi

cmds=() names=()
add() { names+=("$1"); cmds+=("$2"); }

add "agent --version" "dist/agent --version"
add "node -e 0 (peer)" "node -e 0"

if ! command -v cloud-init >/dev/null; then
  if apt_install cloud-init; then
    # Only its commands are wanted here: keep it from configuring this machine at a later boot.
    mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled
  else
    note "cloud-init could not be installed from Debian: its rows are missing"
  fi
fi
if command -v cloud-init >/dev/null; then
  add "cloud-init --version (peer)" "cloud-init --version"
fi

dry="dist/agent --dry-run --user-data user_data/example-command.user_data --metadata-url none"
ignore_failure=()
dry_rc=0
$dry >"$work/dry.out" 2>&1 || dry_rc=$?
if [ "$dry_rc" -eq 0 ] || [ "$dry_rc" -eq 2 ]; then
  add "agent --dry-run (example-command)" "$dry"
  # Exit 2 is "planned with warnings": a result, not a failure of the command.
  [ "$dry_rc" -eq 0 ] || ignore_failure=(--ignore-failure)
else
  note "agent --dry-run skipped: exit $dry_rc ($(head -c 200 "$work/dry.out" | tr '\n' ' '))"
fi
if command -v cloud-init >/dev/null; then
  cat >"$work/cloud-config.yaml" <<'YAML'
#cloud-config
hostname: vm-0001
write_files:
  - path: /etc/vacuum/job.conf
    permissions: "0644"
    content: |
      queue=default
runcmd:
  - [sh, -c, "echo payload"]
power_state:
  mode: poweroff
  timeout: 30
YAML
  if cloud-init schema --config-file "$work/cloud-config.yaml" >"$work/schema.out" 2>&1; then
    add "cloud-init schema --config-file (peer of --dry-run)" "cloud-init schema --config-file $work/cloud-config.yaml"
  else
    note "cloud-init schema failed: $(head -c 200 "$work/schema.out" | tr '\n' ' ')"
  fi
fi

# hf MODE PREPARE-ARGS...: one hyperfine run over every command, results in $work/MODE.json.
hf() {
  local mode=$1 i
  shift
  local args=(-N --runs "$RUNS" "$@" "${ignore_failure[@]}" --style basic --export-json "$work/$mode.json")
  for i in "${!cmds[@]}"; do args+=(--command-name "${names[$i]}" "${cmds[$i]}"); done
  echo "bench: $mode page cache" >&2
  hyperfine "${args[@]}" >&2
}
# -N runs the prepare command without a shell too, hence sh -c.
[ "$cold" -eq 0 ] || hf cold --prepare "sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches'"
hf warm --warmup 3

date_tag=$(date -u +%Y-%m-%d)
out_dir=scripts/bench-results
mkdir -p "$out_dir"
[ -e "$out_dir/.gitignore" ] || printf '*\n' >"$out_dir/.gitignore"
out=$out_dir/startup-$date_tag.md

# Sizes with gzip(1) itself: node's zlib at level 6 gives a different figure.
for f in dist/agent dist/agent-linux-arm64; do
  if [ -f "$f" ]; then echo "$f $(stat -c %s "$f") $(gzip -6 -c "$f" | wc -c)"; fi
done >"$work/sizes.txt"

{
  echo "# Start-up benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown), $(dist/agent --version),"
  echo "bun $(node_modules/.bin/bun --version 2>/dev/null || echo '?'), node $(node --version)$(command -v cloud-init >/dev/null && echo ", cloud-init $(cloud-init --version 2>&1 | awk '{print $NF}')"),"
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $(hyperfine --version)."
  echo "hyperfine -N, $RUNS runs per command, all commands in the same run; page cache: $cache_state."
  echo
  node - "$work" <<'JS'
    const fs = require("fs");
    const load = (mode) => fs.existsSync(`${process.argv[2]}/${mode}.json`)
      ? JSON.parse(fs.readFileSync(`${process.argv[2]}/${mode}.json`, "utf8")).results : null;
    const cold = load("cold"), warm = load("warm");
    const ms = (s) => (s * 1000).toFixed(1) + " ms";
    const cell = (x) => (x ? `${ms(x.median)} (${ms(x.min)}–${ms(x.max)})` : "—");
    console.log("| command | cold: median (min–max) | warm: median (min–max) | warm: mean ± σ |");
    console.log("|---|---:|---:|---:|");
    warm.forEach((w, i) => console.log(`| \`${w.command}\` | ${cell(cold && cold[i])} | ${cell(w)} | ${ms(w.mean)} ± ${ms(w.stddev ?? 0)} |`));
    console.log("\n| binary | size | gzip -6 |\n|---|---:|---:|");
    const mb = (n) => `${n.toLocaleString("en-US")} B (${(n / 1e6).toFixed(1)} MB)`;
    for (const line of fs.readFileSync(`${process.argv[2]}/sizes.txt`, "utf8").trim().split("\n")) {
      const [f, raw, gz] = line.split(" ");
      console.log(`| \`${f}\` | ${mb(Number(raw))} | ${mb(Number(gz))} |`);
    }
JS
  if [ "${#notes[@]}" -gt 0 ]; then
    echo
    printf -- '- %s\n' "${notes[@]}"
  fi
} | tee "$out"
echo "bench: saved $out" >&2
