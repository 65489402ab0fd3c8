#!/bin/sh
# The Debian sid chroot holding Apptainer 1.4.5 (bookworm and trixie have none), for the isolation
# tests (test/isolation). Recipe: ../shared/reference/services.md, "Apptainer" and "Recipe: build,
# cache and enter the chroots in CI".
#
#   scripts/chroot-apptainer.sh build        build once (cold ~30-40 s), cached with a stamp file
#   scripts/chroot-apptainer.sh path         print the chroot's directory
#   scripts/chroot-apptainer.sh prun CMD...  run CMD in the chroot after pivot_root (a private
#                                            mount+pid namespace; nothing stays mounted afterwards)
#
# Apptainer refuses a plain chroot ("weak chrooted environment"): hence prun's pivot_root.
# The chroot also holds two tiny busybox images made without the internet: /srv/sbx (a sandbox
# directory, `apptainer build --sandbox`) and /srv/x.sif; and two ordinary users, ci (2000) and
# vacpilot (2001), for the unprivileged (user namespace) runs.
set -eu
CACHE=${VACUUM_AGENT_CACHE:-/var/cache/vacuum-agent}/chroots
# Bump when anything below changes what the chroot holds: the cache key changes with it.
RECIPE=1
SUITE=sid
PACKAGES=apptainer,mount,busybox-static,procps

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

path() { echo "$CACHE/apptainer-$(printf '%s %s %s\n' "$RECIPE" "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)"; }

# enter CMD...: pivot_root into the rootfs inside a new mount+pid namespace, then exec CMD.
enter() {
  d=$(path)
  exec unshare --mount --pid --fork --propagation private -- /bin/sh -ec '
    d=$1; shift
    mountpoint -q "$d" || mount --bind "$d" "$d"
    mount -t proc proc "$d/proc"
    for m in sys dev dev/pts; do mountpoint -q "$d/$m" || mount --bind "/$m" "$d/$m"; done
    mkdir -p "$d/.oldroot"; cd "$d"; pivot_root . .oldroot; cd /; umount -l /.oldroot
    exec "$@"' sh "$d" "$@"
}

prun() {
  d=$(path); [ -e "$d/.complete" ] || { echo "chroot-apptainer: not built: $d (run: $0 build)" >&2; exit 3; }
  enter "$@"
}

build() {
  d=$(path)
  if [ -e "$d/.complete" ]; then echo "chroot-apptainer: cached: $d"; return 0; fi
  t0=$(now)
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap </dev/null
    echo "chroot-apptainer: mmdebstrap installed in $(since "$t0") s"
  fi
  # Never rm -rf a rootfs with the host's /dev or /proc mounted under it.
  if grep -qF " $d/" /proc/self/mountinfo 2>/dev/null; then echo "chroot-apptainer: something is mounted under $d" >&2; exit 1; fi
  rm -rf --one-file-system "$d"; mkdir -p "$CACHE"
  mirror=${MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)}
  hn=$(hostname)
  t1=$(now)
  # sid's Release carries a Valid-Until already past: without the aptopt mmdebstrap exits 25.
  mmdebstrap --variant=apt --include="$PACKAGES" --aptopt='Acquire::Check-Valid-Until "false"' \
    --customize-hook="printf '127.0.0.1 $hn localhost\n' > \"\$1/etc/hosts\"" \
    --customize-hook='touch "$1/etc/localtime"' \
    --customize-hook='f="$1/etc/apptainer/apptainer.conf"; [ ! -f "$f" ] ||
        sed -i "s/^root default capabilities = full/root default capabilities = file/" "$f"' \
    --customize-hook='echo "ci:x:2000:2000::/home/ci:/bin/sh" >>"$1/etc/passwd";
        echo "ci:x:2000:" >>"$1/etc/group"; mkdir -p "$1/home/ci"; chown 2000:2000 "$1/home/ci"
        echo "vacpilot:x:2001:2001::/home/vacpilot:/bin/sh" >>"$1/etc/passwd";
        echo "vacpilot:x:2001:" >>"$1/etc/group"; mkdir -p "$1/home/vacpilot"; chown 2001:2001 "$1/home/vacpilot"' \
    --customize-hook='i="$1/srv/img"; mkdir -p "$i/bin" "$i/etc"
        for s in dev proc sys tmp var/tmp home root; do mkdir -p "$i/$s"; done
        cp "$1/bin/busybox" "$i/bin/busybox"
        for l in sh true false echo id cat ls; do ln -s busybox "$i/bin/$l"; done
        echo "root:x:0:0::/root:/bin/sh" >"$i/etc/passwd"; echo "root:x:0:" >"$i/etc/group"' \
    "$SUITE" "$d" "deb $mirror $SUITE main"
  echo "chroot-apptainer: mmdebstrap $SUITE in $(since "$t1") s"
  t2=$(now)
  # The images are built by the real apptainer, so they must be built after pivot_root too.
  ( enter /bin/sh -ec 'apptainer -s build --sandbox /srv/sbx /srv/img && apptainer -s build /srv/x.sif /srv/img' )
  echo "chroot-apptainer: images /srv/sbx and /srv/x.sif in $(since "$t2") s"
  touch "$d/.complete"
  echo "chroot-apptainer: built $d in $(since "$t0") s ($(du -sm "$d" | cut -f1) MB)"
}

cmd=${1:-build}
[ $# -eq 0 ] || shift
case $cmd in
  build) t=$(now); build; echo "chroot-apptainer: build step took $(since "$t") s" ;;
  path) path ;;
  prun) prun "$@" ;;
  *) echo "usage: $0 build|path|prun CMD..." >&2; exit 2 ;;
esac
