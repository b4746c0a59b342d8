#!/bin/sh
# Make sure the base image the Dockerfile starts FROM is in podman's storage.
#
# Where a registry is reachable this is a plain pull. Where it is not (build
# machines that only reach the Debian mirror), the same image is made locally:
# debootstrap a minbase bookworm and trim it the way the official -slim image is
# trimmed. The result is cached in podman's storage, so only the first run pays.
#
#   deploy/base-image.sh            # uses $BASE_IMAGE, default debian:bookworm-slim
set -eu

image=${BASE_IMAGE:-docker.io/library/debian:bookworm-slim}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

if podman image exists "$image"; then
    echo "base image $image: cached"
    exit 0
fi
if timeout 60 podman pull -q "$image" >/dev/null 2>&1; then
    echo "base image $image: pulled"
    exit 0
fi

echo "base image $image: no registry, building it with debootstrap from $mirror"
command -v debootstrap >/dev/null || { echo "debootstrap is not installed" >&2; exit 1; }
rootfs=$(mktemp -d /var/tmp/searchaddr-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT INT TERM

debootstrap --variant=minbase bookworm "$rootfs" "$mirror"

# The same sources the official image ships: chromium updates arrive through bookworm-security.
rm -f "$rootfs/etc/apt/sources.list"
cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

# The -slim trimming: packages installed later leave out docs, man pages and translations.
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
DPKG
cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
echo 'Acquire::Languages "none";' > "$rootfs/etc/apt/apt.conf.d/docker-no-languages"
echo 'APT::Install-Recommends "false";' > "$rootfs/etc/apt/apt.conf.d/docker-no-recommends"

# A TLS-intercepting proxy's CA, where the build machine has one: the image build's
# pip trusts it once the Dockerfile installs ca-certificates (which reads this folder).
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    mkdir -p "$rootfs/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
fi

rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
       "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
       "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
tar -C "$rootfs" --numeric-owner -c . | podman import --change 'CMD ["bash"]' - "$image" >/dev/null
echo "base image $image: imported ($(podman image inspect --format '{{.Size}}' "$image") bytes)"
