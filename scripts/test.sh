#!/usr/bin/env bash
# The whole test suite, as `npm test` runs it:
#   1. type check (tsc --noEmit)
#   2. build both binaries (scripts/build.sh all)
#   3. vitest run: unit tests and black-box tests of dist/ (extra arguments go to vitest)
#      then the README's main job (scripts/demo.sh), which must end with 200 on the manager
#   4. dist/agent-linux-arm64 --version under qemu-aarch64-static, when installed
#   5. dist/agent --version on an emulated CPU without AVX/AVX2 (qemu-x86_64-static -cpu Nehalem),
#      when installed, after checking that this emulation really rejects AVX2 instructions
# Every step runs even after an earlier one failed, so one run shows all failures; the exit code is
# non-zero if any step failed. The last line is vitest's count: "vitest: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failed=()
results=()
now() { date +%s.%N; }

# step NAME COMMAND...: runs one step, records its outcome and duration.
step() {
  local name=$1 t0 rc secs
  shift
  echo
  echo "=== $name"
  t0=$(now)
  "$@"
  rc=$?
  secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" -eq 0 ]; then
    results+=("ok    ${secs}s  $name")
  elif [ "$rc" -eq 77 ]; then
    results+=("skip  ${secs}s  $name")
  else
    results+=("FAIL  ${secs}s  $name (exit $rc)")
    failed+=("$name")
  fi
}

mkdir -p .cache
report=.cache/vitest-report.json
rm -f "$report"

run_vitest() {
  node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
}

run_arm64() {
  local qemu
  qemu=$(command -v qemu-aarch64-static) || { echo "qemu-aarch64-static not installed: skipped"; return 77; }
  [ -d /usr/aarch64-linux-gnu ] || { echo "/usr/aarch64-linux-gnu missing (apt-get install libc6-arm64-cross)"; return 1; }
  # A missing binary means the build step failed, which already fails the run.
  [ -x dist/agent-linux-arm64 ] || { echo "dist/agent-linux-arm64 was not built: skipped"; return 77; }
  local out
  out=$("$qemu" -L /usr/aarch64-linux-gnu dist/agent-linux-arm64 --version) || { echo "arm64 binary failed: $out"; return 1; }
  echo "$out"
  [[ $out =~ ^agent\ [0-9]+\.[0-9]+\.[0-9]+.*\(commit\ ([0-9a-f]+|unknown)\)$ ]] || { echo "unexpected output"; return 1; }
}

# A 134-byte static x86-64 ELF whose only work is one AVX2 instruction (vpaddd ymm0, ymm0, ymm0)
# followed by exit(0). The no-AVX2 check below is only meaningful if the emulated CPU kills it.
write_avx2_probe() {
  node -e '
    const code = Buffer.from([0xc5, 0xfd, 0xfe, 0xc0, 0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05]);
    const h = Buffer.alloc(120), base = 0x400000n, size = BigInt(120 + code.length);
    h.write("\x7fELF", 0, "latin1"); h[4] = 2; h[5] = 1; h[6] = 1;
    h.writeUInt16LE(2, 16); h.writeUInt16LE(62, 18); h.writeUInt32LE(1, 20);
    h.writeBigUInt64LE(base + 120n, 24); h.writeBigUInt64LE(64n, 32);
    h.writeUInt16LE(64, 52); h.writeUInt16LE(56, 54); h.writeUInt16LE(1, 56);
    h.writeUInt32LE(1, 64); h.writeUInt32LE(5, 68); h.writeBigUInt64LE(base, 80); h.writeBigUInt64LE(base, 88);
    h.writeBigUInt64LE(size, 96); h.writeBigUInt64LE(size, 104); h.writeBigUInt64LE(0x1000n, 112);
    require("fs").writeFileSync(process.argv[1], Buffer.concat([h, code]));
  ' "$1"
}

run_no_avx2() {
  local qemu probe out rc
  qemu=$(command -v qemu-x86_64-static) || { echo "qemu-x86_64-static not installed: skipped"; return 77; }
  [ -x dist/agent ] || { echo "dist/agent was not built: skipped"; return 77; }
  probe=.cache/avx2-probe
  write_avx2_probe "$probe" && chmod 0755 "$probe" || return 1
  "$qemu" -cpu max "$probe" 2>/dev/null || { echo "AVX2 probe does not run even with -cpu max: check inconclusive"; rm -f "$probe"; return 1; }
  ( "$qemu" -cpu Nehalem "$probe"; exit $? ) 2>/dev/null # no exec: the shell reporting SIGILL is silenced too
  rc=$?
  rm -f "$probe"
  [ "$rc" -ne 0 ] || { echo "qemu -cpu Nehalem executed an AVX2 instruction: check inconclusive"; return 1; }
  echo "control: an AVX2 instruction on the emulated Nehalem CPU dies as expected (exit $rc)"
  # qemu warns about host CPU features TCG lacks; only the binary's own output matters here.
  out=$("$qemu" -cpu Nehalem dist/agent --version 2>/dev/null) || { echo "dist/agent fails on a CPU without AVX2"; return 1; }
  echo "dist/agent on Nehalem (no AVX/AVX2): $out"
}

step "typecheck (tsc --noEmit)" node_modules/.bin/tsc --noEmit -p .
step "build (scripts/build.sh all)" bash scripts/build.sh all
step "vitest run" run_vitest "$@"
# The README's main job, exactly as a reader runs it: must end with 200 on the manager.
run_demo() {
  local out
  out=$(bash scripts/demo.sh) || { echo "$out"; return 1; }
  echo "$out" | tail -n 3
  grep -q '^shutdown_message: 200 ' <<<"$out"
}
step "README main job (scripts/demo.sh)" run_demo
step "arm64 binary under qemu-aarch64-static" run_arm64
step "x64 binary on a CPU without AVX2 (qemu -cpu Nehalem)" run_no_avx2

echo
echo "=== summary"
printf '%s\n' "${results[@]}"
[ "${#failed[@]}" -eq 0 ] || echo "test.sh: FAILED: ${failed[*]}"
# Last line: vitest's counts, with test files that failed to load counted as failures.
if [ -s "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const broken = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed"));
    if (broken.length) console.log("test files that failed to load: " + broken.map((f) => f.name.replace(process.cwd() + "/", "")).join(", "));
    console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests + broken.length} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  ' "$report"
else
  echo "vitest wrote no report"
fi
[ "${#failed[@]}" -eq 0 ]
