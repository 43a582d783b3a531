# pmadvice: the bot in a small, self-contained image.
#   docker build -t pmadvice .
#   docker run --init -e SLACK_BOT_TOKEN=... -e SLACK_APP_TOKEN=... -v pmadvice-data:/data pmadvice
# Production with PostgreSQL: compose.yaml; operations guide: docs/operations.md.
ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a virtual environment with the locked dependencies, then the wheel ---------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/pmadvice/bin:$PATH
RUN python -m venv /opt/pmadvice
WORKDIR /src
# Dependencies in their own layer, from the lock file: a code change does not reinstall them.
COPY requirements.lock ./
RUN pip install -r requirements.lock "setuptools>=77" wheel
# The package, not editable: the wheel carries knowledge/ and migrations/ (see setup.py).
COPY pyproject.toml setup.py README.md LICENSE ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY migrations ./migrations
RUN pip install --no-deps --no-build-isolation . \
    && pip uninstall --yes setuptools wheel \
    && pmadvice knowledge check

# --- run: the environment only, as an unprivileged user ---------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="pmadvice" \
      org.opencontainers.image.description="Mentoring chat bot for people moving from operations into product management" \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/pmadvice/bin:$PATH \
    PMADVICE_DATABASE_URL=sqlite+aiosqlite:////data/pmadvice.db \
    PMADVICE_HTTP_HOST=0.0.0.0 \
    PMADVICE_HTTP_PORT=8080
# /data is the writable place: the SQLite database and `pmadvice knowledge export --out
# /data/knowledge`. Bind-mount a host folder owned by uid 10001, or use a named volume.
RUN useradd --create-home --uid 10001 pmadvice && mkdir /data && chown pmadvice:pmadvice /data
COPY --from=build /opt/pmadvice /opt/pmadvice
USER pmadvice
WORKDIR /data
VOLUME ["/data"]
# Health, readiness, metrics (and Slack's HTTP mode) on one port.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PMADVICE_HTTP_PORT', '8080'), timeout=4)"]
# Exec form: pmadvice is PID 1 and handles SIGTERM itself (stops taking work, finishes what is
# in flight, gives back claimed nudges, exits 0). `docker run --init` / compose `init: true`
# adds tini on top, which also reaps any stray child.
STOPSIGNAL SIGTERM
ENTRYPOINT ["pmadvice"]
CMD ["run"]
