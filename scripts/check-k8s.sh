#!/usr/bin/env bash
# Renders every overlay of a deploy/k8s tree with kubectl kustomize and validates each object offline against the
# Kubernetes schemas (scripts/k8s/validate.mjs). Writes OUT/<overlay>.yaml and OUT/<overlay>.json (the objects).
#   scripts/check-k8s.sh [K8S_DIR [OUT_DIR]]     default: deploy/k8s and artifacts/k8s
# The dev overlay's Secrets come from files its make-secrets.sh writes; run that first (Tests/Deploy does, in a copy).
# The validator's npm packages (pinned by scripts/k8s/package-lock.json) are installed on first use into .cache/k8s-check,
# a folder this script creates and git-ignores, and reused afterwards.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
k8s="$(cd "${1:-$repo/deploy/k8s}" && pwd)"
out="${2:-$repo/artifacts/k8s}"
mkdir -p "$out"

for tool in kubectl node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "check-k8s: '$tool' is not installed; expected kubectl (with kustomize) and Node.js with npm on PATH" >&2
        exit 2
    fi
done

# The validator and its packages, installed once per lock file. A lock serialises parallel runs (test classes).
cache="$repo/.cache/k8s-check"
mkdir -p "$cache"
[ -f "$repo/.cache/.gitignore" ] || echo '*' > "$repo/.cache/.gitignore"
exec 9> "$cache/.lock"
flock 9
if ! cmp -s "$repo/scripts/k8s/package-lock.json" "$cache/package-lock.json" || [ ! -d "$cache/node_modules/kubernetes-models" ]; then
    cp "$repo/scripts/k8s/package.json" "$repo/scripts/k8s/package-lock.json" "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
cp "$repo/scripts/k8s/validate.mjs" "$cache/"
flock -u 9

status=0
for overlay in "$k8s"/overlays/*/; do
    name="$(basename "$overlay")"
    if ! kubectl kustomize "$overlay" > "$out/$name.yaml"; then
        echo "check-k8s: kubectl kustomize $overlay failed" >&2
        status=1
        continue
    fi
    if node "$cache/validate.mjs" "$out/$name.yaml" > "$out/$name.json"; then
        echo "check-k8s: $name: $(grep -c '^kind:' "$out/$name.yaml") objects rendered and valid"
    else
        echo "check-k8s: $name: invalid objects (above)" >&2
        status=1
    fi
done
exit $status
