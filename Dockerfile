# syntax=docker/dockerfile:1
# padtec-exporter image: the exporter, simulator, store and notify bridge (one CLI).
# Build: docker build -t padtec-exporter .   (docker compose builds it too)
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
# The package and every dependency as wheels: the final stage needs no compiler or cache.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="padtec-exporter" \
      org.opencontainers.image.description="Prometheus exporter and companions for Padtec DWDM networks" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 padtec \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin padtec
# Bind-mount the wheels instead of COPY: a COPY layer would keep them in the image after rm.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels padtec-exporter
USER 10001:10001
EXPOSE 9787
# No curl in slim images: Python checks /healthz. HEALTH_PORT is set per service in
# docker-compose.yml (simulator 8181, store 9788, bridge 9789); 9787 is the exporter's.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HEALTH_PORT', '9787') + '/healthz', timeout=4)"]
ENTRYPOINT ["padtec-exporter"]
CMD ["serve", "--config", "/etc/padtec-exporter/config.yml"]
