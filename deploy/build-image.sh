#!/usr/bin/env bash
# Builds the sova-dc image from deploy/Dockerfile with podman, for machines without a
# Docker engine (the container test uses it too):
#   sudo bash deploy/build-image.sh [TAG]          # default: sova-dc:latest
# Installs podman, runc, debootstrap, podman-compose and podman's netavark network stack
# with aardvark-dns (containers on a compose network find each other by name; without
# them podman falls back to CNI, which has no DNS here) when missing. When no registry
# has the base image (debian:12-slim), it makes one from the Debian mirror apt already
# uses, with debootstrap (about a minute, once). The Dockerfile itself stays Docker's.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-sova-dc:latest}
base=docker.io/library/debian:12-slim

if [ "$(id -u)" -ne 0 ]; then
  echo "build-image: run as root (sudo): podman is set up here for root only" >&2
  exit 2
fi

missing=()
for p in podman runc debootstrap podman-compose netavark aardvark-dns iptables; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-image: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/deploy/podman/containers.conf}

# The mirror apt uses here: the first Debian (not security) URI of its sources.
debian_mirror() {
  local uri
  uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
        | grep -v security | grep -oE 'https?://[^ ]+' | head -n 1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# A base image like Debian's own debian:12-slim: minbase, no documentation, man pages or
# locales (the same dpkg excludes), apt's lists emptied, the host's apt sources.
make_base_image() {
  local root mirror
  root=$(mktemp -d /var/tmp/sova-base.XXXXXX)
  trap 'rm -rf "$root"' RETURN
  mirror=$(debian_mirror)
  echo "build-image: no registry has $base; making it with debootstrap from $mirror"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  cat > "$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
CFG
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  rm -rf "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/usr/share/locale/"* \
         "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/log/"*.log
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
    rm -f "$root/etc/apt/sources.list"
  fi
  tar -C "$root" -c . | podman import --change 'CMD ["bash"]' - "$base" >/dev/null
}

if ! podman image exists "$base"; then
  timeout 60 podman pull -q "$base" >/dev/null 2>&1 || make_base_image
fi

# --format docker keeps the HEALTHCHECK (OCI images have none); chroot isolation is what
# builds here. Layers are cached: a second build compiles only what changed.
start=$(date +%s)
podman build --format docker --isolation chroot -f deploy/Dockerfile -t "$tag" .
echo "build-image: $tag built in $(( $(date +%s) - start )) s," \
     "$(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}')"
