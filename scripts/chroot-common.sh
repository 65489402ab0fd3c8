# What the cached test chroots share (sourced by scripts/chroot-apptainer.sh and
# scripts/chroot-htcondor.sh after they set NAME, RECIPE, SUITE and PACKAGES and define
# run_mmdebstrap (calling mmdebstrap_with with their own hooks) and after_mmdebstrap; optionally
# before_enter and UNSHARE_EXTRA).
# Recipe: ../shared/reference/services.md, "Recipe: build, cache and enter the chroots in CI".
CACHE=${VACUUM_AGENT_CACHE:-/var/cache/vacuum-agent}/chroots

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The cache key changes with everything that decides what the chroot holds.
path() { echo "$CACHE/$NAME-$(printf '%s %s %s\n' "$RECIPE" "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)"; }

# enter CMD...: pivot_root into the rootfs inside a new mount+pid namespace, then exec CMD.
enter() {
  d=$(path)
  # shellcheck disable=SC2086 # UNSHARE_EXTRA is a list of options
  exec unshare --mount --pid --fork ${UNSHARE_EXTRA:-} --propagation private -- /bin/sh -ec '
    d=$1; shift
    mountpoint -q "$d" || mount --bind "$d" "$d"
    mount -t proc proc "$d/proc"
    for m in sys dev dev/pts; do mountpoint -q "$d/$m" || mount --bind "/$m" "$d/$m"; done
    mkdir -p "$d/.oldroot"; cd "$d"; pivot_root . .oldroot; cd /; umount -l /.oldroot
    exec "$@"' sh "$d" "$@"
}

prun() {
  d=$(path); [ -e "$d/.complete" ] || { echo "chroot-$NAME: not built: $d (run: $0 build)" >&2; exit 3; }
  if command -v before_enter >/dev/null 2>&1; then before_enter "$d"; fi
  enter "$@"
}

build() {
  d=$(path)
  if [ -e "$d/.complete" ]; then echo "chroot-$NAME: cached: $d"; return 0; fi
  t0=$(now)
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap </dev/null
    echo "chroot-$NAME: mmdebstrap installed in $(since "$t0") s"
  fi
  # Never rm -rf a rootfs with the host's /dev or /proc mounted under it.
  if grep -qF " $d/" /proc/self/mountinfo 2>/dev/null; then echo "chroot-$NAME: something is mounted under $d" >&2; exit 1; fi
  rm -rf --one-file-system "$d"; mkdir -p "$CACHE"
  mirror=${MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)}
  hn=$(hostname)
  t1=$(now)
  run_mmdebstrap "$d" "$mirror" "$hn"
  echo "chroot-$NAME: mmdebstrap $SUITE in $(since "$t1") s"
  after_mmdebstrap "$d"
  touch "$d/.complete"
  echo "chroot-$NAME: built $d in $(since "$t0") s ($(du -sm "$d" | cut -f1) MB)"
}

# mmdebstrap_with DIR MIRROR HOSTNAME [HOOK OPTIONS...]: the rootfs every test chroot starts from
# (host name resolvable, user ci 2000), with the caller's own hooks.
mmdebstrap_with() {
  d=$1 mirror=$2 hn=$3
  shift 3
  # sid's Release carries a Valid-Until already past (trixie's none yet): without the aptopt
  # mmdebstrap exits 25.
  mmdebstrap --variant=apt --include="$PACKAGES" --aptopt='Acquire::Check-Valid-Until "false"' \
    --customize-hook="printf '127.0.0.1 $hn localhost\n' > \"\$1/etc/hosts\"" \
    --customize-hook='touch "$1/etc/localtime"' \
    --customize-hook='echo "ci:x:2000:2000::/home/ci:/bin/sh" >>"$1/etc/passwd";
        echo "ci:x:2000:" >>"$1/etc/group"; mkdir -p "$1/home/ci"; chown 2000:2000 "$1/home/ci"' \
    "$@" "$SUITE" "$d" "deb $mirror $SUITE main"
}

main() {
  cmd=${1:-build}
  [ $# -eq 0 ] || shift
  case $cmd in
    build) t=$(now); build; echo "chroot-$NAME: build step took $(since "$t") s" ;;
    path) path ;;
    prun) prun "$@" ;;
    *) echo "usage: $0 build|path|prun CMD..." >&2; exit 2 ;;
  esac
}
