#!/usr/bin/env bash
# Installs Debian's chromium for the end-to-end tests when it is missing (make browser).
# As root: apt-get. With password-less sudo: sudo apt-get. Otherwise: says the one command to run
# and exits 0, so that `make test` goes on and the browser tests skip naming the same command.
# In CI (CI=true) a browser that could not be installed is an error: CI must run those tests.
set -euo pipefail

if [[ -n "${JIKIMI_CHROMIUM:-}" && -x "${JIKIMI_CHROMIUM}" ]] || command -v chromium >/dev/null 2>&1; then
    exit 0
fi

install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)
update=(apt-get update -qq)
if [[ "$(id -u)" -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo)
else
    if [[ "${CI:-}" == "true" ]]; then
        echo "make browser: CI must run the browser tests, but chromium is missing and cannot be installed here (not root, no sudo)" >&2
        exit 1
    fi
    echo "make browser: Debian's chromium is not installed; the browser tests will be skipped." >&2
    echo "make browser: install it with:  sudo apt-get install chromium" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "make browser: no apt-get here; install Chromium and set JIKIMI_CHROMIUM to its path." >&2
    [[ "${CI:-}" == "true" ]] && exit 1
    exit 0
fi

echo "make browser: installing Debian's chromium (a minute or two) ..." >&2
start=$SECONDS
if ! { "${sudo[@]}" "${update[@]}" && "${sudo[@]}" "${install[@]}" >/dev/null; }; then
    echo "make browser: apt-get could not install chromium; the browser tests will be skipped." >&2
    [[ "${CI:-}" == "true" ]] && exit 1
    exit 0
fi
echo "make browser: chromium $(dpkg-query -W -f='${Version}' chromium) installed in $((SECONDS - start)) s" >&2
