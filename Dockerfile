# pmadvice: runs migrations, then serves every platform configured in the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PMADVICE_KNOWLEDGE_DIR=/app/knowledge \
    PMADVICE_DATABASE_URL=sqlite+aiosqlite:////data/pmadvice.db

WORKDIR /app
RUN useradd --create-home --uid 10001 pmadvice && mkdir /data && chown pmadvice /data

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY migrations ./migrations
COPY knowledge ./knowledge
COPY alembic.ini ./
# Editable, so the package finds migrations/ and knowledge/ beside it, as in a checkout.
RUN pip install -e .

USER pmadvice
VOLUME ["/data"]
EXPOSE 3000
CMD ["sh", "-c", "pmadvice db upgrade && exec pmadvice run"]
