#!/usr/bin/env bash
# Compiles each app into one self-contained executable with `bun build --compile`.
#
#   scripts/build.sh [x64|arm64|all]     (default: all)
#
# Outputs: dist/<app> (x86-64, bun's *baseline* runtime, so CPUs without AVX2 run it: common on
# cloud VMs) and dist/<app>-linux-arm64, plus dist/SHA256SUMS over every binary present.
# The bun runtimes embedded in the binaries come from the npm registry (`npm pack`, the same version
# as the host bun) and are cached, so once fetched the build runs without any network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Every app built; an app whose src/<app>.ts does not exist (yet) is skipped.
APPS=(agent manager)

arch=${1:-all}
case "$arch" in
  x64) arches=(x64) ;;
  arm64) arches=(arm64) ;;
  all) arches=(x64 arm64) ;;
  *) echo "usage: $0 [x64|arm64|all]" >&2; exit 2 ;;
esac

bun=node_modules/.bin/bun
if ! bun_version=$("$bun" --version 2>/dev/null); then
  echo "build: $bun does not run (bun's postinstall did not run?); try: npm rebuild bun" >&2
  exit 1
fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Cache root for the extracted runtimes: shared by CI reruns; .cache/ when /var/cache is not ours.
cache_root() {
  local dir=${VACUUM_AGENT_CACHE:-/var/cache/vacuum-agent}/bun-runtimes
  if mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ]; then echo "$dir"; return; fi
  dir=$PWD/.cache/bun-runtimes
  mkdir -p "$dir"
  echo "$dir"
}

# Prints the path of the runtime executable of npm package $1 (e.g. @oven/bun-linux-aarch64) at the
# host bun's version, fetching and extracting it first when it is not cached.
runtime() {
  local pkg=$1 root name dir tmp
  root=$(cache_root)
  name=${pkg#@oven/}-$bun_version
  dir=$root/$name
  if [ ! -x "$dir/package/bin/bun" ]; then
    echo "build: fetching $pkg@$bun_version into $dir" >&2
    # Extract next to the final place and rename, so an interrupted fetch never looks cached.
    tmp=$(mktemp -d "$root/.$name.XXXXXX")
    local tgz
    if ! tgz=$(npm pack --silent --pack-destination "$tmp" "$pkg@$bun_version" | tail -n 1) \
      || ! tar -xzf "$tmp/$tgz" -C "$tmp" package/bin/bun package/package.json; then
      rm -rf "$tmp"
      echo "build: could not fetch $pkg@$bun_version from the npm registry" >&2
      return 1
    fi
    rm -f "$tmp/$tgz"
    chmod 0755 "$tmp" "$tmp/package/bin/bun"
    rm -rf "$dir"
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp" # a concurrent build won the race: use its copy
  fi
  echo "$dir/package/bin/bun"
}

version=$(node -p 'require("./package.json").version')
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

common=(--compile --minify --sourcemap=linked --bytecode --format=esm
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig
  --define "AGENT_VERSION=\"$version\"" --define "AGENT_COMMIT=\"$commit\"")

suffix_of() { case "$1" in x64) echo "" ;; arm64) echo -linux-arm64 ;; esac; }

# A failed build must not leave older binaries behind for the tests to pick up: remove every
# output of this build first.
mkdir -p dist
rm -f dist/SHA256SUMS
for a in "${arches[@]}"; do
  for app in "${APPS[@]}"; do rm -f "dist/$app$(suffix_of "$a")" "dist/$app$(suffix_of "$a").map"; done
done

built=0
for a in "${arches[@]}"; do
  case "$a" in
    x64) pkg=@oven/bun-linux-x64-baseline target=bun-linux-x64-baseline ;;
    arm64) pkg=@oven/bun-linux-aarch64 target=bun-linux-arm64 ;;
  esac
  suffix=$(suffix_of "$a")
  rt=$(runtime "$pkg")
  for app in "${APPS[@]}"; do
    [ -f "src/$app.ts" ] || continue
    out=dist/$app$suffix
    t0=$(now)
    "$bun" build "${common[@]}" --target="$target" --compile-executable-path="$rt" \
      "src/$app.ts" --outfile "$out" >/dev/null
    echo "build: $out ($target, bun $bun_version, $app $version, commit $commit): $(stat -c %s "$out") bytes in $(elapsed "$t0") s"
    built=$((built + 1))
  done
done
[ "$built" -gt 0 ] || { echo "build: no src/<app>.ts found for apps: ${APPS[*]}" >&2; exit 1; }

# Checksums of every binary now in dist/, with names relative to dist/ (`cd dist && sha256sum -c`).
sums=()
for app in "${APPS[@]}"; do
  for f in "$app" "$app-linux-arm64"; do if [ -f "dist/$f" ]; then sums+=("$f"); fi; done
done
(cd dist && sha256sum "${sums[@]}" >SHA256SUMS)
echo "build: dist/SHA256SUMS lists ${sums[*]}"
