#!/usr/bin/env bash
# The tests, on a fresh machine as on a developer's: installs the Debian packages they run for real where missing,
# then runs the whole suite. Arguments go to `dotnet test` (say, --filter ClusterTests).
set -uo pipefail
cd "$(dirname "$0")"

need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v sh >/dev/null 2>&1 || need+=(dash)
command -v setsid >/dev/null 2>&1 || need+=(util-linux)
# The dashboard test drives Debian's chromium through Playwright (never a downloaded browser).
[ -x /usr/bin/chromium ] || need+=(chromium)
# Containers run for real: podman with runc, and a busybox image the tests make from busybox-static.
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)  # static: it runs inside an image with no libraries
# The cluster test runs three silos over a real Redis (Debian's redis-server, started by the test itself).
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# deploy/kubernetes/ is checked by kubectl's client-side dry run (against the tests' fake API server; no cluster).
command -v kubectl >/dev/null 2>&1 || need+=(kubectl)
# experiments/digits (run by a test as the README says) needs Debian's scikit-learn under /usr/bin/python3.
/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1 || need+=(python3-sklearn)
# Notebooks (experiments/notebook and their tests) run through nbclient on an ipykernel, variables saved with dill.
/usr/bin/python3 -c 'import nbformat' >/dev/null 2>&1 || need+=(python3-nbformat)
/usr/bin/python3 -c 'import nbclient' >/dev/null 2>&1 || need+=(python3-nbclient)
/usr/bin/python3 -c 'import ipykernel' >/dev/null 2>&1 || need+=(python3-ipykernel)
/usr/bin/python3 -c 'import dill' >/dev/null 2>&1 || need+=(python3-dill)

if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing what the tests run: ${need[*]}"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then as_root=(sudo); else
      echo "test.sh: these Debian packages are missing and installing them needs root: sudo apt-get install ${need[*]}" >&2
      exit 2
    fi
  fi
  "${as_root[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${need[@]}" || {
    echo "test.sh: could not install ${need[*]}" >&2
    exit 2
  }
fi
command -v dotnet >/dev/null 2>&1 || { echo "test.sh: the .NET 10 SDK (dotnet) is required" >&2; exit 2; }

exec dotnet test Tuning.sln "$@"
