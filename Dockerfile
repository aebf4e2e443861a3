# One image recipe for every service; SERVICE picks which one the image runs (intake, matching, notify).
# Build from the repository root:  docker build --build-arg SERVICE=matching -t mienskip-matching .
# docker-compose.yml passes SERVICE for each service.
ARG SERVICE

# -- the same for every service: the packages from the pinned constraints and a non-root user --------
# The CLI depends on all three services, so every image installs all of them; this stage does not
# depend on SERVICE, so its layers are built once and shared by the three images.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MIENSKIP_LOG_JSON=1
WORKDIR /app
COPY requirements/constraints.txt requirements/constraints.txt
COPY shared shared
COPY services/intake services/intake
COPY services/matching services/matching
COPY services/notify services/notify
COPY cli cli
RUN pip install --no-cache-dir -c requirements/constraints.txt ./shared \
      ./services/intake ./services/matching ./services/notify ./cli
RUN useradd --system --uid 10001 mienskip
USER mienskip

# -- intake: the HTTP API and pages under gunicorn on 8000 -------------------------------------------
FROM base AS mienskip-intake
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "mienskip_intake.entrypoints.wsgi:create()"]

# -- the workers: /healthz, /readyz and /metrics on 8080 ---------------------------------------------
FROM base AS worker
ENV MIENSKIP_HEALTH_HOST=0.0.0.0 MIENSKIP_HEALTH_PORT=8080
EXPOSE 8080
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"

FROM worker AS mienskip-matching
CMD ["mienskip", "matching"]

FROM worker AS mienskip-notify
CMD ["mienskip", "notify"]

# -- the image built: the stage SERVICE names (an unset or unknown SERVICE fails the build) ----------
FROM mienskip-${SERVICE}
