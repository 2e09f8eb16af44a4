# txtcrm's production image: one image for every process (web, workers, beat, migrate);
# docker-compose.yml picks the command (deploy/processes.py). Settings come from the
# environment (docs/operations.md, "Production").
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=txtcrm.settings \
    TXTCRM_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# The pinned dependencies first (pyproject.toml's [project] list), so that a code change
# does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# Hashed, compressed static files, served by WhiteNoise from the image (read-only).
RUN python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin txtcrm \
    && mkdir -p /app/var \
    && chown txtcrm /app/var

# var/ holds CSV import uploads shared by web and workers, and beat's schedule: a volume.
VOLUME ["/app/var"]
USER txtcrm
EXPOSE 8000
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py"]
