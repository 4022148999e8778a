# VolatileOCPP: the Locust fleet (master or worker), the OCTT compliance runner and the testbed CSMS.
#
#   docker build -t volatileocpp .
#   docker run --rm -p 8089:8089 volatileocpp --host ws://csms.example:8080/ocpp/          # web UI on :8089
#   docker run --rm volatileocpp --worker --master-host 10.0.0.5                            # a worker
#   docker run --rm --entrypoint python volatileocpp -m testbed --host 0.0.0.0 --port 8180  # the testbed CSMS
#
# Configuration by LOCUST_* environment variables (every option has one; see docs/distributed.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOCUST_LOCUSTFILE=locustfiles/fleet.py,locustfiles/shapes.py

WORKDIR /app

# The dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p ocpp_users scenarios testbed locustfiles benchmarks \
 && touch ocpp_users/__init__.py scenarios/__init__.py testbed/__init__.py benchmarks/__init__.py \
 && pip install . \
 && pip uninstall -y volatileocpp \
 && rm -rf ocpp_users scenarios testbed locustfiles benchmarks

COPY ocpp_users ./ocpp_users
COPY scenarios ./scenarios
COPY testbed ./testbed
COPY locustfiles ./locustfiles
COPY benchmarks ./benchmarks
RUN pip install --no-deps . \
 && useradd --create-home --uid 10001 volatileocpp \
 && mkdir -p /results \
 && chown volatileocpp /results

USER volatileocpp
# 8089 web UI, 5557 master <-> workers, 8180 the testbed CSMS (when the container runs it)
EXPOSE 8089 5557 8180
VOLUME ["/results"]
ENTRYPOINT ["locust"]
