#!/usr/bin/env bash
# Runs script/Deploy.s.sol against a real anvil (`make test-deploy`, part of `make test`) and checks what it
# deployed: every address in the deployment file has code, the registry holds both example models, the vault
# and the NFT point at them, and each contract fits EIP-170. anvil is stopped by its PID, also on failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$PATH"
export FOUNDRY_SOLC="$ROOT/tools/solc/solc"
export FOUNDRY_DISABLE_NIGHTLY_WARNING=1
HARDFORK=prague
EIP170_LIMIT=24576

workdir=$(mktemp -d "${TMPDIR:-/tmp}/zkml-deploy-check.XXXXXX")
anvil_pid=
cleanup() {
  if [ -n "$anvil_pid" ] && kill -0 "$anvil_pid" 2>/dev/null; then
    kill "$anvil_pid" 2>/dev/null || true
    wait "$anvil_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

anvil --host 127.0.0.1 --port 0 --hardfork "$HARDFORK" >"$workdir/anvil.log" 2>&1 &
anvil_pid=$!
for _ in $(seq 1 100); do
  grep -q '^Listening on ' "$workdir/anvil.log" && break
  kill -0 "$anvil_pid" 2>/dev/null || { cat "$workdir/anvil.log" >&2; echo "anvil exited before listening" >&2; exit 1; }
  sleep 0.1
done
rpc_url="http://$(sed -n 's/^Listening on \(.*\)$/\1/p' "$workdir/anvil.log" | head -n 1)"
# anvil's first dev account, read from its own banner: well known and for local chains only.
deployer_key=$(sed -n 's/^(0) \(0x[0-9a-f]\{64\}\)$/\1/p' "$workdir/anvil.log" | head -n 1)
[ -n "$deployer_key" ] || { echo "could not read anvil's first dev key" >&2; exit 1; }

deployment="deployments/deploy-check.json"
start=$SECONDS
DEPLOYMENT_FILE="$deployment" forge script script/Deploy.s.sol --rpc-url "$rpc_url" \
  --private-key "$deployer_key" --broadcast >"$workdir/deploy.log" 2>&1 || { cat "$workdir/deploy.log" >&2; exit 1; }
echo "deploy-check: script/Deploy.s.sol broadcast to anvil in $((SECONDS - start))s -> $deployment"

field() { node -e 'console.log(require(process.argv[1])[process.argv[2]])' "$ROOT/$deployment" "$1"; }
for name in registry book nft vault usd weth feed market; do
  address=$(field "$name")
  code=$(cast code --rpc-url "$rpc_url" "$address")
  bytes=$(((${#code} - 2) / 2))
  [ "$bytes" -gt 0 ] || { echo "deploy-check: no code at $name ($address)" >&2; exit 1; }
  [ "$bytes" -le "$EIP170_LIMIT" ] || { echo "deploy-check: $name is $bytes bytes, over EIP-170" >&2; exit 1; }
  printf '  %-9s %s  %6d bytes\n' "$name" "$address" "$bytes"
done
registry=$(field registry)
[ "$(cast call --rpc-url "$rpc_url" "$registry" 'modelCount()(uint256)')" = 2 ] \
  || { echo "deploy-check: the registry does not hold the two example models" >&2; exit 1; }
[ "$(cast call --rpc-url "$rpc_url" "$(field vault)" 'MODEL_ID()(uint256)')" = "$(field ethPriceModelId)" ] \
  || { echo "deploy-check: the vault does not follow the eth-price model" >&2; exit 1; }
[ "$(cast call --rpc-url "$rpc_url" "$(field nft)" 'MODEL_ID()(uint256)')" = "$(field pixelArtModelId)" ] \
  || { echo "deploy-check: the NFT does not use the pixel-art model" >&2; exit 1; }
echo "deploy-check: ok"
