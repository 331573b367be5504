#!/usr/bin/env bash
# Builds and runs the consumer package (Tests/Consumer) outside GateLab's tree, depending on
# GateLab by URL at the current commit, as a user's package would: it must build, and its
# program (the getting-started article) must run to "getting started: done".
# Only committed work is tested: a dirty tree gets a warning.
set -euo pipefail
repo="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
revision="$(git -C "$repo" rev-parse HEAD)"
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "consumer: warning: uncommitted changes are not part of what is built (commit $revision)" >&2
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/gatelab-consumer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -R "$repo/Tests/Consumer/Package.swift" "$repo/Tests/Consumer/Sources" "$work/"
cd "$work"
export GATELAB_URL="file://$repo" GATELAB_REVISION="$revision"
echo "consumer: building a package that depends on $GATELAB_URL at $revision"
swift build --product GettingStarted
"$(swift build --show-bin-path)/GettingStarted"
