# Production-like image: PostgreSQL through DATABASE_URL, migrations then uvicorn, as a non-root user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv/bdg
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN useradd --system --uid 10001 --home /srv/bdg bdg && mkdir -p var && chown -R bdg var
USER bdg
EXPOSE 8000
CMD ["sh", "-c", "python -m app.cli migrate && python -m app.cli seed && python -m app.cli ensure-admin && exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --proxy-headers --workers ${WORKERS:-2}"]
