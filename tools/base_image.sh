#!/usr/bin/env bash
# Make the local default base image, offline from Docker Hub: a minimal Debian
# bookworm with python3, built with debootstrap from the machine's Debian mirror
# and imported into the Docker engine as seed/base:bookworm-python3.
#
# The example apps (examples/apps/*) build on it locally with
#     --build-arg BASE_IMAGE=seed/base:bookworm-python3
# (their Dockerfiles default to a public python image for real users).
#
# Idempotent: nothing happens when the engine already has the image.  The root
# file system is cached as a tarball under .cache/base-image/, so importing it
# into a new engine (a test session's, a fresh `make local-up`) takes seconds;
# only the first run on a machine downloads packages (~40 s).
#
# Engine: $DOCKER_HOST, else the one `tools/local_env.py up` recorded in
# <state>/docker/docker_host (<state> = $SEED_LOCAL_STATE_DIR or .local), else
# the docker CLI's default.  Needs root for debootstrap (installed with apt-get
# when missing).
#
# Usage: tools/base_image.sh [--rebuild] [--tarball-only]
#   --rebuild       rebuild the cached root file system and re-import the image
#   --tarball-only  only make sure the cached tarball exists (no engine needed)
# Prints the image ID (sha256:...) on stdout (with --tarball-only: the tarball
# path); progress goes to stderr.
#
# Environment: SEED_BASE_IMAGE (default seed/base:bookworm-python3),
# SEED_DEBIAN_MIRROR (default: the machine's apt mirror for bookworm, else
# http://deb.debian.org/debian), SEED_BASE_CACHE_DIR (default .cache/base-image).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${SEED_BASE_IMAGE:-seed/base:bookworm-python3}"
SUITE=bookworm
VARIANT=minbase
INCLUDE=python3
ARCH="$(dpkg --print-architecture)"
CACHE_DIR="${SEED_BASE_CACHE_DIR:-$REPO_ROOT/.cache/base-image}"
TARBALL="$CACHE_DIR/debian-$SUITE-$VARIANT-$INCLUDE-$ARCH.tar.gz"
STATE_DIR="${SEED_LOCAL_STATE_DIR:-$REPO_ROOT/.local}"

rebuild=0
tarball_only=0
for arg in "$@"; do
    case "$arg" in
        --rebuild) rebuild=1 ;;
        --tarball-only) tarball_only=1 ;;
        -h | --help) sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "base_image.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

log() { echo "base_image: $*" >&2; }

if [[ -z "${DOCKER_HOST:-}" && -s "$STATE_DIR/docker/docker_host" ]]; then
    DOCKER_HOST="$(<"$STATE_DIR/docker/docker_host")"
    export DOCKER_HOST
fi

image_id() { docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null; }

# The http(s) URI of the machine's apt source that serves $SUITE main (one-line
# .list files and deb822 .sources files); empty when there is none.
apt_mirror() {
    local file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r "$file" ]] || continue
        awk -v suite="$SUITE" '
            $1 == "deb" {
                i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($(i + 1) == suite && $0 ~ / main( |$)/ && $i ~ /^https?:\/\//) { print $i; exit }
            }' "$file"
    done
    for file in /etc/apt/sources.list.d/*.sources; do
        [[ -r "$file" ]] || continue
        awk -v suite="$SUITE" '
            function flush() { if (uris != "" && (" " suites " ") ~ (" " suite " ") && (" " comps " ") ~ / main /) { split(uris, u, " "); if (u[1] ~ /^https?:\/\//) { print u[1]; found = 1 } } uris = suites = comps = "" }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); if (found) exit; next }
            /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
            END { if (!found) flush() }' "$file"
    done
}

# apt's proxy (Acquire::http::Proxy) for debootstrap's wget, unless one is set.
apt_proxy() {
    apt-config dump 2>/dev/null | awk -F'"' '/^Acquire::http::Proxy /{print $2; exit}'
}

ensure_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return 0
    [[ -x /usr/sbin/debootstrap ]] && { PATH="$PATH:/usr/sbin"; return 0; }
    log "installing debootstrap with apt-get"
    local sudo=""
    [[ "$(id -u)" == 0 ]] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q --no-install-recommends debootstrap >&2 \
        || { $sudo apt-get update -q >&2 && $sudo apt-get install -y -q --no-install-recommends debootstrap >&2; }
    PATH="$PATH:/usr/sbin"
}

# Remove what a container does not need; keep apt and dpkg working for images
# built on top, and keep them from adding docs back.
trim_rootfs() {
    local root="$1"
    rm -rf "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/cache/apt/* "${root:?}"/var/cache/debconf/*-old \
        "${root:?}"/var/log/* "${root:?}"/tmp/* "${root:?}"/var/tmp/* "${root:?}"/dev/* \
        "${root:?}"/usr/share/doc/* "${root:?}"/usr/share/man/* "${root:?}"/usr/share/info/* \
        "${root:?}"/usr/share/lintian "${root:?}"/usr/share/linda "${root:?}"/usr/share/bash-completion
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d"
    cat >"$root/etc/dpkg/dpkg.cfg.d/01-seed-slim" <<'EOF'
# seed/base: no documentation, manual pages or translations in images.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
    cat >"$root/etc/apt/apt.conf.d/01-seed-slim" <<'EOF'
// seed/base: no package cache left behind in image layers.
APT::Install-Recommends "false";
APT::Install-Suggests "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    # No hostname or resolver of the build machine in the image (the engine provides them).
    : >"$root/etc/hostname"
    rm -f "$root/etc/resolv.conf"
}

build_tarball() {
    [[ "$(id -u)" == 0 ]] || { log "debootstrap needs root"; exit 1; }
    ensure_debootstrap
    local mirror="${SEED_DEBIAN_MIRROR:-}"
    [[ -n "$mirror" ]] || mirror="$(apt_mirror | head -n 1)"
    [[ -n "$mirror" ]] || mirror=http://deb.debian.org/debian
    if [[ -z "${http_proxy:-}" ]]; then
        local proxy
        proxy="$(apt_proxy)"
        [[ -z "$proxy" ]] || export http_proxy="$proxy"
    fi
    local work
    work="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
    # shellcheck disable=SC2064  # expand $work now
    trap "rm -rf '$work'" EXIT
    log "debootstrap --variant=$VARIANT --include=$INCLUDE $SUITE from $mirror (log $CACHE_DIR/debootstrap.log)"
    local start=$SECONDS
    if ! debootstrap --variant="$VARIANT" --include="$INCLUDE" --arch="$ARCH" "$SUITE" "$work/rootfs" "$mirror" \
        >"$CACHE_DIR/debootstrap.log" 2>&1; then
        tail -n 20 "$CACHE_DIR/debootstrap.log" >&2
        log "debootstrap failed"
        exit 1
    fi
    trim_rootfs "$work/rootfs"
    tar --numeric-owner --xattrs --sort=name -C "$work/rootfs" -czf "$work/rootfs.tar.gz" .
    mv -f "$work/rootfs.tar.gz" "$TARBALL"
    rm -rf "$work"
    trap - EXIT
    log "cached $TARBALL ($(du -h "$TARBALL" | cut -f1), $((SECONDS - start))s)"
}

mkdir -p "$CACHE_DIR"

if (( ! tarball_only && ! rebuild )); then
    docker version --format '{{.Server.Version}}' >/dev/null \
        || { log "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-default}); run make local-up"; exit 1; }
    if id="$(image_id)"; then
        log "$IMAGE already present"
        echo "$id"
        exit 0
    fi
fi

# One builder at a time (parallel test workers, CI and a developer share the cache).
exec 9>"$CACHE_DIR/.lock"
flock 9

if (( rebuild )); then
    rm -f "$TARBALL"
fi
if [[ ! -s "$TARBALL" ]]; then
    build_tarball
else
    log "using cached $TARBALL"
fi
if (( tarball_only )); then
    echo "$TARBALL"
    exit 0
fi

docker version --format '{{.Server.Version}}' >/dev/null \
    || { log "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-default}); run make local-up"; exit 1; }
# Another holder of the lock may have imported it meanwhile.
if (( ! rebuild )) && id="$(image_id)"; then
    log "$IMAGE already present"
    echo "$id"
    exit 0
fi
start=$SECONDS
docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'LABEL org.opencontainers.image.title=seed/base org.opencontainers.image.description="Debian bookworm minbase with python3 (tools/base_image.sh)"' \
    --change 'CMD ["python3"]' \
    --message "debootstrap --variant=$VARIANT --include=$INCLUDE $SUITE" \
    "$TARBALL" "$IMAGE" >/dev/null
id="$(image_id)"
log "imported $IMAGE in $((SECONDS - start))s: $id ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}'))"
echo "$id"
