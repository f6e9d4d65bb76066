# perflab: one image for the controller (the CLI), a queue worker and the beat scheduler.
#
#   docker build -t perflab .
#   docker run --rm perflab --help
#   docker run -d -e PERFLAB_DB_URL=postgresql+psycopg://lab:pw@db/perflab \
#       -e PERFLAB_BROKER_URL=redis://queue:6379/0 \
#       -v "$PWD/lab/ssh:/home/perflab/.ssh:ro" perflab worker --all
#
# The command is a perflab command (the entrypoint is perflab, under tini so that
# the processes a job leaves behind are reaped and SIGTERM reaches the worker).
# Settings come from the environment (docs/configuration.md): PERFLAB_DB_URL and
# PERFLAB_BROKER_URL above all; PERFLAB_HOME is /data, a volume (the default SQLite
# store, perflab's known_hosts, crash logs). Runners are SSH hosts: mount the SSH
# client files (config, keys, known_hosts) at /home/perflab/.ssh, read-only
# (docs/deployment.md). compose.yaml runs a whole lab from this image.
FROM python:3.11-slim-bookworm

# openssh-client: ssh-keyscan/ssh for checking a runner by hand; git: A/B jobs between
# git refs; procps: ps for status checks; tini: PID 1 that reaps and forwards signals
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssh-client git procps tini \
 && rm -rf /var/lib/apt/lists/*

# a non-root user: the controller drives runners over SSH and needs no privilege here
RUN groupadd --system --gid 10001 perflab \
 && useradd --system --uid 10001 --gid perflab --home-dir /home/perflab --create-home \
      --shell /usr/sbin/nologin perflab \
 && install -d -o perflab -g perflab -m 0700 /data

WORKDIR /opt/perflab
COPY pyproject.toml README.md ./
COPY perflab ./perflab
COPY schemas ./schemas
COPY playbooks ./playbooks
COPY inventories ./inventories
COPY examples ./examples
RUN pip install --no-cache-dir ".[postgres]" \
 && perflab --version

ENV PERFLAB_HOME=/data \
    PERFLAB_STATE_DIR=/data/state \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
USER perflab:perflab

ENTRYPOINT ["tini", "--", "perflab"]
CMD ["--help"]
