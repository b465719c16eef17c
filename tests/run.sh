#!/usr/bin/env bash
# `make test`: the whole suite, on the real engines whenever they can run here.
#
#  1. the browser for the page tests (Debian's Chromium, when root and missing);
#  2. the real engines (`make engines`: Kafka, FerretDB, OpenSearch on loopback), unless the
#     environment already names them (KAFKA_BOOTSTRAP_SERVERS...) or ENGINES=off; engines this
#     script started are stopped at the end;
#  3. pytest over everything: the embedded platform, and every port's contract suite on both
#     backends (the real-engine half skips with its reason when an engine is absent);
#  4. the end-to-end API suite again with every distributed backend at once
#     (SHORTSCIENCE_TEST_BACKENDS=distributed), when the engines run.
# Arguments go to both pytest runs (PYTEST_ARGS in the Makefile).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
ENGINES_ENV="${ENGINES_DIR:-.engines}/env"

bash deploy/browser/install.sh || echo "browser: install failed; the browser tests will skip" >&2

started=0
stop_engines() { if [ "$started" = 1 ]; then python3 deploy/engines/engines.py stop; fi; }
trap stop_engines EXIT
if [ "${ENGINES:-on}" != off ] && [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  rm -f "$ENGINES_ENV"
  if python3 deploy/engines/engines.py start; then
    started=1
  else
    started=1  # stop whatever did come up
    echo "engines: could not start them all; tests needing a missing one are skipped (see above)" >&2
  fi
  if [ -f "$ENGINES_ENV" ]; then
    set -a
    # shellcheck source=/dev/null
    source "$ENGINES_ENV"
    set +a
  fi
fi

"$PY" -m pytest "$@"
status=$?

if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && [ -n "${MONGODB_URL:-}" ] \
   && [ -n "${OPENSEARCH_URL:-}${ELASTICSEARCH_URL:-}" ] && [ "$status" -eq 0 ]; then
  echo "== the end-to-end API suite on Kafka + MongoDB protocol + ${OPENSEARCH_URL:+OpenSearch}${ELASTICSEARCH_URL:+Elasticsearch} =="
  SHORTSCIENCE_TEST_BACKENDS=distributed "$PY" -m pytest tests/api "$@"
  status=$?
elif [ "$status" -eq 0 ]; then
  echo "== the distributed end-to-end run was skipped: the engines are not all running ==" >&2
  if [ -n "${SHORTSCIENCE_REQUIRE_ENGINES:-}" ]; then status=1; fi
fi
exit "$status"
