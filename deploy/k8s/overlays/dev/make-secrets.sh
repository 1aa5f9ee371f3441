#!/usr/bin/env bash
# Writes what the dev overlay makes its Secrets from into secrets/ beside this script (git-ignored):
#   ca.crt, ca.key          a development certificate authority
#   silo.crt, silo.key      the silos' certificate (server and client authentication: silos dial each other)
#   client.crt, client.key  a client certificate, for Orleans clients such as flowctl
#   root/                   a development blessing root (a principal blessed as flow-orleans-dev)
#   principal/              the silos' principal, blessed by the root as flow-orleans-dev:silo and trusting that root
# Existing files are kept, so running it again changes nothing. FLOWCTL is the flowctl command to use
# (default: dotnet run --project Cli --, from the repository). Development only: keep production keys elsewhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
out="$here/secrets"
namespace="flow-orleans-dev"
read -r -a flowctl <<< "${FLOWCTL:-dotnet run --project $repo/Cli --}"

mkdir -p "$out"
chmod 700 "$out"

# Certificates: P-256 keys, one year, signed by the development CA.
if [ ! -f "$out/ca.crt" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
        -subj "/CN=flow-orleans development CA" -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
fi

issue() {
    local name="$1" names="$2"
    [ -f "$out/$name.crt" ] && return 0
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=flow-orleans-$name" \
        -keyout "$out/$name.key" -out "$out/$name.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$names" > "$out/$name.ext"
    openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -days 365 \
        -extfile "$out/$name.ext" -out "$out/$name.crt" 2>/dev/null
    rm -f "$out/$name.csr" "$out/$name.ext"
}
issue silo "DNS:*.flow-orleans-silo.$namespace.svc.cluster.local,DNS:flow-orleans-gateway.$namespace.svc,DNS:flow-orleans-gateway.$namespace.svc.cluster.local,DNS:localhost,IP:127.0.0.1"
issue client "DNS:flowctl"

# The silos' principal: the key every silo presents, blessed by the development root, which it also trusts.
if [ ! -f "$out/principal/state.bin" ]; then
    rm -rf "$out/root" "$out/principal"
    "${flowctl[@]}" principal create "$out/root" --name flow-orleans-dev >/dev/null
    "${flowctl[@]}" principal create "$out/principal" >/dev/null
    "${flowctl[@]}" bless "$out/root" --to "$out/principal" --extension silo --output "$out/silo.blessings" >/dev/null
    "${flowctl[@]}" principal install "$out/principal" "$out/silo.blessings" >/dev/null
    "${flowctl[@]}" roots add "$out/principal" --blessings "$out/silo.blessings" >/dev/null
fi

echo "development secrets in $out"
