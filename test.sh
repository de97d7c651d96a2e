#!/usr/bin/env bash
# The README's test command: what CI runs (.ci/run installs the Debian packages the tests need where missing, then runs
# dotnet test Tuning.sln with these arguments and prints the totals).
exec bash "$(dirname "$0")/.ci/run" "$@"
