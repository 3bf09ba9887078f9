#!/usr/bin/env bash
# The end-to-end demo (`make demo`). It grows with the product; today it runs what exists:
#   1. compile the digits MLP (ONNX -> calibrated fixed-point model and its Poseidon commitment),
#   2. measure its fidelity against the float model on the 450 held-out digits,
#   3. prove a digit and verify it natively and on the EVM (revm), then aggregate two more proofs into one
#      and verify that natively and on the EVM,
#   4. start anvil on a free loopback port (Prague, as foundry.toml and revm),
#   5. deploy the contracts with script/Deploy.s.sol (registry, inference book, the examples' verifiers
#      registered as models, the EIP-7007 NFT, the trading vault and a test market),
#   6. read the registered models back with the zkml-eth CLI (alloy),
#   7. stop anvil by its PID, also on failure or Ctrl-C.
# Expects the toolchain and builds from `make build` (make demo does that first).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$PATH"
export FOUNDRY_SOLC="$ROOT/tools/solc/solc"
export FOUNDRY_DISABLE_NIGHTLY_WARNING=1
HARDFORK=prague
ZKML_ETH="$ROOT/target/release/zkml-eth"
[ -x "$ZKML_ETH" ] || { echo "$ZKML_ETH is missing: run \`make demo\` (it builds first) or \`make build\`" >&2; exit 1; }

demo_start=$SECONDS
step_start=$SECONDS
step() {
  local now=$SECONDS
  if [ -n "${current_step:-}" ]; then printf '    done in %ds\n' $((now - step_start)); fi
  current_step=$1
  step_start=$now
  printf '\n==> %s\n' "$1"
}

workdir=$(mktemp -d "${TMPDIR:-/tmp}/zkml-demo.XXXXXX")
anvil_pid=
cleanup() {
  if [ -n "$anvil_pid" ] && kill -0 "$anvil_pid" 2>/dev/null; then
    kill "$anvil_pid" 2>/dev/null || true
    wait "$anvil_pid" 2>/dev/null || true
    echo "    anvil (pid $anvil_pid) stopped"
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DIGITS="$ROOT/examples/digits"
MODEL_DIR="$ROOT/target/demo/digits-mlp"

step "Compile the digits MLP (zkml-eth compile)"
"$ZKML_ETH" compile "$DIGITS/mlp.onnx" --calibration "$DIGITS/calibration.json" --out "$MODEL_DIR" 2>&1 | sed 's/^/    /'

step "Quantized vs float on 450 held-out digits (zkml-eth fidelity)"
"$ZKML_ETH" fidelity "$MODEL_DIR" --data "$DIGITS/test.json" 2>&1 | sed 's/^/    /'

# Keys and the development SRS are cached in the repo's git-ignored cache, so a second demo skips keygen.
export ZKML_CACHE_DIR="${ZKML_CACHE_DIR:-$ROOT/.zkml-cache}"

step "Circuit, SRS and keys (zkml-eth setup; UNSAFE development SRS)"
# The demo shows automatic sizing: settings an earlier demo wrote into circuit.json would pin its choices.
rm -f "$MODEL_DIR/circuit.json"
"$ZKML_ETH" setup "$MODEL_DIR" --unsafe-dev-srs 2>&1 | sed 's/^/    /'

step "Prove the first held-out digit (zkml-eth prove, keccak transcript for the EVM)"
"$ZKML_ETH" prove "$MODEL_DIR" --input "$DIGITS/test.json" --sample 0 --transcript keccak \
  --out "$workdir/proof.json" --unsafe-dev-srs 2>&1 | sed 's/^/    /'

step "Verify the proof natively (zkml-eth verify)"
"$ZKML_ETH" verify "$workdir/proof.json" --unsafe-dev-srs 2>&1 | sed 's/^/    /'

step "Verify it on the EVM (zkml-eth verify --evm: generated verifier, revm under mainnet limits)"
"$ZKML_ETH" verify "$workdir/proof.json" --evm --unsafe-dev-srs 2>&1 | sed 's/^/    /'

step "Prove two more digits for aggregation (zkml-eth prove, Poseidon transcript)"
for sample in 1 2; do
  "$ZKML_ETH" prove "$MODEL_DIR" --input "$DIGITS/test.json" --sample "$sample" --transcript poseidon \
    --out "$workdir/inner-$sample.json" --unsafe-dev-srs 2>&1 | sed 's/^/    /'
done

step "Aggregate them into one proof (zkml-eth aggregate; minutes the first time, keys are cached)"
# Not piped: on a terminal, aggregate's spinner then shows the minutes pass.
"$ZKML_ETH" aggregate "$workdir/inner-1.json" "$workdir/inner-2.json" --out "$workdir/aggregated.json" \
  --unsafe-dev-srs

step "Verify the aggregated proof natively and on the EVM (zkml-eth verify --evm)"
"$ZKML_ETH" verify "$workdir/aggregated.json" --evm --unsafe-dev-srs 2>&1 | sed 's/^/    /'

step "Start anvil on a free loopback port (hardfork $HARDFORK)"
anvil --host 127.0.0.1 --port 0 --hardfork "$HARDFORK" >"$workdir/anvil.log" 2>&1 &
anvil_pid=$!
for _ in $(seq 1 100); do
  grep -q '^Listening on ' "$workdir/anvil.log" && break
  kill -0 "$anvil_pid" 2>/dev/null || { cat "$workdir/anvil.log" >&2; echo "anvil exited before listening" >&2; exit 1; }
  sleep 0.1
done
address=$(sed -n 's/^Listening on \(.*\)$/\1/p' "$workdir/anvil.log" | head -n 1)
[ -n "$address" ] || { echo "anvil did not report a listening address" >&2; exit 1; }
rpc_url="http://$address"
# anvil's first dev account, read from its own banner: well known and for local chains only.
deployer_key=$(sed -n 's/^(0) \(0x[0-9a-f]\{64\}\)$/\1/p' "$workdir/anvil.log" | head -n 1)
[ -n "$deployer_key" ] || { echo "could not read anvil's first dev key" >&2; exit 1; }
echo "    anvil pid $anvil_pid at $rpc_url"

step "Deploy the contracts (forge script script/Deploy.s.sol)"
deployment="deployments/demo.json"
DEPLOYMENT_FILE="$deployment" forge script script/Deploy.s.sol --rpc-url "$rpc_url" --private-key "$deployer_key" \
  --broadcast >"$workdir/deploy.log" 2>&1 || { cat "$workdir/deploy.log" >&2; exit 1; }
field() { node -e 'console.log(require(process.argv[1])[process.argv[2]])' "$ROOT/$deployment" "$1"; }
registry=$(field registry)
for name in registry book nft vault market; do
  code=$(cast code --rpc-url "$rpc_url" "$(field "$name")")
  [ "${#code}" -gt 2 ] || { echo "no code at $name" >&2; exit 1; }
  printf '    %-9s %s  %6d bytes of code (EIP-170 limit: 24576)\n' "$name" "$(field "$name")" $(((${#code} - 2) / 2))
done
echo "    addresses and model ids: $deployment"

step "Read the registered models back (zkml-eth registry show)"
for id in "$(field ethPriceModelId)" "$(field pixelArtModelId)"; do
  "$ZKML_ETH" registry show --rpc-url "$rpc_url" --registry "$registry" --model-id "$id" | sed 's/^/    /'
done

step "Stop anvil"
cleanup
anvil_pid=
printf '    done\n'

cat <<MSG

Demo finished in $((SECONDS - demo_start))s.
What ran: ONNX import, calibration and quantization of the digits MLP with its Poseidon commitment,
its fidelity against the float model, its circuit and keys, a proof of one inference verified natively
and by its generated Solidity verifier in revm, two more proofs aggregated into one and verified natively
and on the EVM, and the contracts (registry with the eth-price and pixel-art models, inference book,
EIP-7007 NFT, trading vault, test market) deployed on a local chain and read back.
Not yet part of the demo (coming with the next issue): submit-proof, minting and the vault acting.
MSG
