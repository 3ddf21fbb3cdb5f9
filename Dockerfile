FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk softhsm2 \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 eseal
WORKDIR /srv/eseal
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY pki ./pki
COPY seals ./seals
RUN pip install --no-cache-dir .

USER eseal
ENV ESEAL_DATA_DIR=/srv/eseal/var
EXPOSE 8000
# init runs the migrations (alembic upgrade head) and creates the CA hierarchy once.
CMD ["sh", "-c", "eseal init && exec uvicorn --factory app.main:app_from_environment --host 0.0.0.0 --port 8000 --workers 4 --no-access-log"]
