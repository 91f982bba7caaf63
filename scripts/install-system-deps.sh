#!/usr/bin/env bash
# Installs the Debian packages Parley's local speech providers need (pocketsphinx STT, flite and
# espeak-ng TTS, sox for audio tooling) and, with --with-browser (the test suite), what the tests
# drive Parley with: Chromium for the browser tests (test/browser/, driven by playwright-core),
# the SIP clients of the SIP tests (SIPp as `sip-tester`, baresip) and HAProxy (the
# several-servers tests, test/topology/). `npm start` installs the speech packages only. Idempotent: only missing
# packages are installed, and `apt-get update` runs only when something is missing, so it returns
# in well under a second when everything is present. Must run as root (CI does); otherwise it uses
# sudo when available.
set -euo pipefail

PACKAGES=(pocketsphinx pocketsphinx-en-us flite espeak-ng sox)
BINARIES=(pocketsphinx_continuous flite espeak-ng sox)
WITH_BROWSER=0
[ "${1:-}" = "--with-browser" ] && WITH_BROWSER=1
if [ "$WITH_BROWSER" = 1 ]; then
  PACKAGES+=(sip-tester baresip haproxy)
  BINARIES+=(sipp baresip haproxy)
fi

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! is_installed "$pkg"; then
    missing+=("$pkg")
  fi
done
# Debian's chromium (not a snap wrapper, unlike Ubuntu's chromium-browser).
if [ "$WITH_BROWSER" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system-deps: all present"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-system-deps: missing ${missing[*]} and not root (no sudo)" >&2
    exit 1
  fi
fi

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Debian 12 ships pocketsphinx 5prealpha, whose CLI is pocketsphinx_continuous.
for bin in "${BINARIES[@]}"; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    echo "install-system-deps: '$bin' still not on PATH after install" >&2
    exit 1
  fi
done
if [ "$WITH_BROWSER" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  echo "install-system-deps: /usr/bin/chromium still missing after install" >&2
  exit 1
fi
echo "install-system-deps: done"
