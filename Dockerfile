# padtec-exporter image: the exporter, simulator, store and notify bridge (one CLI).
# Build: docker build -t padtec-exporter .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="padtec-exporter" \
      org.opencontainers.image.description="Prometheus exporter and companions for Padtec DWDM networks"
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin padtec
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001:10001
EXPOSE 9787
# No curl in slim images: Python checks /healthz (the port is the exporter's default).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HEALTH_PORT', '9787') + '/healthz', timeout=4)"]
ENTRYPOINT ["padtec-exporter"]
CMD ["serve", "--config", "/etc/padtec-exporter/config.yml"]
