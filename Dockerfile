# perflab controller image: the CLI, a Celery worker, or the beat scheduler.
#   docker build -t perflab .
#   docker run --rm -v perflab-home:/data perflab run examples/quickstart.yaml
# Runners are reached over SSH; mount keys and known_hosts under /data.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends openssh-client git procps \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/perflab
COPY pyproject.toml README.md ./
COPY perflab ./perflab
COPY schemas ./schemas
COPY playbooks ./playbooks
COPY inventories ./inventories
COPY examples ./examples
RUN pip install --no-cache-dir ".[postgres]"

ENV PERFLAB_HOME=/data
VOLUME ["/data"]
ENTRYPOINT ["perflab"]
CMD ["--help"]
