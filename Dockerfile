# searchaddr: uWSGI with Debian's Chromium headless shell and ChromeDriver, serving a unix
# socket for the host's nginx. Build and run (README "Deploying"):
#   docker build -t searchaddr .          podman build --format docker -t searchaddr .
#   docker run -d --name searchaddr --user 1000 \
#     -v /srv/searchaddr/run:/app/run -v /srv/searchaddr/logs:/app/logs searchaddr
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

# The virtualenv is built in its own stage: the compiler uWSGI needs never reaches the image.
FROM ${BASE_IMAGE} AS venv
RUN apt-get update \
 && apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-unsafe-io \
        python3 python3-venv python3-dev gcc libc6-dev libpcre2-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt requirements-build.txt /tmp/
# The service's packages only (the test tools are in requirements-test.txt), uWSGI built as
# requirements-build.txt says. Selenium Manager, the tool that would download a browser or
# driver, is removed: nothing is downloaded at run time.
RUN python3 -m venv /opt/venv \
 && export PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements-build.txt \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --use-pep517 \
        --no-build-isolation -r /tmp/requirements.txt \
 && /opt/venv/bin/pip uninstall -y -q pip setuptools wheel \
 && rm -rf /opt/venv/lib/python3.11/site-packages/selenium/webdriver/common/*/selenium-manager*

# The demo site's address index, built from the pinned kozip wheel (Korea Post's address data):
# the wheel and the build stay in this stage, only demo_site/data/ reaches the image.
FROM venv AS index
COPY demo_site/*.py demo_site/landmarks.json /build/demo_site/
RUN python3 -m venv /tmp/fetch \
 && PIP_CERT=/etc/ssl/certs/ca-certificates.crt /tmp/fetch/bin/pip download --no-cache-dir \
        --disable-pip-version-check --no-deps --only-binary=:all: --dest /build/.cache kozip==1.1.4 \
 && echo "36b43c07219473454d42319b5361b057078b006bfd8348e5b9e9d1f1eb8482e7  /build/.cache/kozip-1.1.4-py3-none-any.whl" \
        | sha256sum --check \
 && python3 /build/demo_site/build_index.py

FROM ${BASE_IMAGE}
# Files a headless Chromium run with --disable-gpu never opens, left out (~230 MB):
# Mesa's GPU drivers and the LLVM they need (~160 MB; Chromium renders with its own SwiftShader),
# Vulkan's debugging layer, desktop icon themes, and Chromium's translations other than en-US.
# The full browser's binary too (~300 MB): the service runs the headless shell, and
# chromium-driver depends on the chromium package, so it is installed without its binary
# (docs/deploy.md "Image size").
RUN printf '%s\n' \
        'path-exclude /usr/lib/chromium/chromium' \
        'path-exclude /usr/lib/x86_64-linux-gnu/dri/*' \
        'path-exclude /usr/lib/x86_64-linux-gnu/libLLVM-*' \
        'path-exclude /usr/lib/x86_64-linux-gnu/libz3.so*' \
        'path-exclude /usr/lib/chromium/libVkLayer_khronos_validation.so' \
        'path-exclude /usr/share/icons/*' \
        'path-include /usr/share/icons/*/index.theme' \
        'path-include /usr/share/icons/Adwaita/cursor.theme' \
        'path-exclude /usr/lib/chromium/locales/*' \
        'path-include /usr/lib/chromium/locales/en-US.pak' > /etc/dpkg/dpkg.cfg.d/headless-chromium \
 && apt-get update \
 && apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-unsafe-io \
        chromium-headless-shell chromium-driver python3 libpython3.11 tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && groupadd --gid 1000 searchaddr \
 && useradd --uid 1000 --gid 1000 --create-home --home-dir /home/searchaddr \
        --shell /usr/sbin/nologin searchaddr

COPY --from=venv /opt/venv /opt/venv
# The code stays root-owned: the service user can write only its socket, logs, HOME and /tmp.
COPY . /app
COPY --from=index /build/demo_site/data /app/demo_site/data
RUN mkdir -p /app/run /app/logs \
 && chown searchaddr:searchaddr /app/run /app/logs \
 && python3 -m compileall -q /app

# HOME must be writable or Chromium's crash handler stops it from starting.
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    HOME=/home/searchaddr \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    SEARCHADDR_LOG_DIR=/app/logs
USER 1000:1000
WORKDIR /app
# The socket (run/searchaddr.sock) and the log (logs/searchaddr.log), bind-mounted by the host.
VOLUME ["/app/run", "/app/logs"]

# Liveness (/livez): the service answers. Readiness (/readyz: a browser can serve) is for the
# load balancer or orchestrator; a restart would not bring browsers back sooner (docs/monitoring.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "/app/deploy/healthcheck.py", "/livez"]
# tini is PID 1: it passes SIGTERM to the uWSGI master and reaps any process left orphaned.
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/venv/bin/uwsgi", "--ini", "/app/uwsgi.ini"]
