# One image for the server services: `occupancy ingest`, `occupancy api`,
# `occupancy simulate` (the compose file picks the command).
#
# Stage 1 builds wheels of the project and its "server" extra with the build
# tools; stage 2 installs only those wheels and runs as an unprivileged user.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core ./core
COPY storage ./storage
COPY metrics ./metrics
COPY summaries ./summaries
COPY charging ./charging
COPY webhooks ./webhooks
COPY alerts ./alerts
COPY edge ./edge
COPY ingest ./ingest
COPY api ./api
COPY simulators ./simulators
COPY dashboards ./dashboards
COPY occupancy ./occupancy
RUN pip wheel --wheel-dir /wheels ".[server]"

FROM python:3.11-slim
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --create-home --home-dir /app occupancy
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels "occupancy-platform[server]" \
    && rm -rf /wheels
WORKDIR /app
# Example site and tariff: the compose file mounts the operator's own over them.
COPY --chown=occupancy:occupancy examples/sites /app/sites
COPY --chown=occupancy:occupancy examples/tariffs /app/tariffs
RUN mkdir -p /app/var && chown occupancy:occupancy /app/var
USER occupancy
EXPOSE 8000 9464
ENTRYPOINT ["occupancy"]
CMD ["--help"]
