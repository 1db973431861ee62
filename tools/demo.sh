#!/usr/bin/env bash
# tools/dev demo: two real nodes on loopback enforcing limits.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash tools/two_nodes.sh build/bin "$work"
