#!/usr/bin/env bash
# Installs what the browser tests (tests/web/test_browser.py) need, idempotently:
#   - Debian's Chromium, through apt-get, when it is missing and we run as root
#     (Playwright's own browser download does not work here: the tests drive this one);
#   - nothing for Python: playwright is pinned in pyproject.toml's dev extra, which
#     `make install` puts into .venv.
# Without root and without chromium it says so and exits 0: the browser tests then skip
# with the reason (CI runs as root, so it always gets them).
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "browser: $(chromium --version 2>/dev/null || echo chromium) already installed"
    exit 0
fi

if [ "$(id -u)" != "0" ]; then
    echo "browser: chromium is missing and this is not root; run 'sudo apt-get install -y chromium'" \
         "(the browser tests skip until then)" >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser: no apt-get here; install Chromium by hand (the browser tests skip until then)" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Lists older than a day (or none at all) are refreshed first; a fresh list is reused.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
    apt-get update -q
fi
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
echo "browser: $(chromium --version 2>/dev/null || echo chromium) installed"
