#!/usr/bin/env bash
# The end-to-end demo (`make demo`): the product's story with the zkml-eth CLI.
#   1. three models from ONNX: the digits MLP (with its fidelity against the float model), the eth-price
#      predictor (the vault's) and the pixel-art generator (the NFT's), each with its circuit and keys;
#   2. a proof of each: a digit, the price move predicted from a window of the feed, an image from an
#      EIP-7007 prompt (rendered to SVG and PNG), verified natively and by its generated verifier on the EVM;
#   3. the three inferences again with the Poseidon transcript, aggregated into one proof for the EVM;
#   4. anvil on a free loopback port; `zkml-eth deploy` (registry, book, models, NFT, vault, test market);
#      `zkml-eth register` of the digits model and of the aggregation's batch verifier;
#   5. the book attests the batch (one proof, three inferences); the vault, funded, acts on the proven
#      prediction for its feed's latest round; the NFT mints the token whose image is the proven output
#      (its on-chain SVG written to disk); a tampered proof is refused with its decoded error;
#   6. a summary: time of each step, proof sizes, gas of each transaction.
# anvil is stopped by its PID on exit, failure or Ctrl-C. Expects `make build` (make demo does it first).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$PATH"
export FOUNDRY_SOLC="$ROOT/tools/solc/solc"
export ZKML_SOLC="$ROOT/tools/solc/solc"
export FOUNDRY_DISABLE_NIGHTLY_WARNING=1
HARDFORK=prague
ZKML_ETH="$ROOT/target/release/zkml-eth"
[ -x "$ZKML_ETH" ] || { echo "$ZKML_ETH is missing: run \`make demo\` (it builds first) or \`make build\`" >&2; exit 1; }
# Keys and the development SRS are cached in the repo's git-ignored cache: a second demo skips keygen.
export ZKML_CACHE_DIR="${ZKML_CACHE_DIR:-$ROOT/.zkml-cache}"

OUT="$ROOT/target/demo"
mkdir -p "$OUT"
# What an earlier demo wrote there is replaced (the commands refuse to overwrite without --force).
rm -f "$OUT"/*-proof.json "$OUT"/*-proof.svg "$OUT"/*-proof.png "$OUT/aggregated.json" "$OUT/token.svg"
workdir=$(mktemp -d "${TMPDIR:-/tmp}/zkml-demo.XXXXXX")
summary="$workdir/summary.tsv"
anvil_pid=
stop_anvil() {
  if [ -n "$anvil_pid" ] && kill -0 "$anvil_pid" 2>/dev/null; then
    kill "$anvil_pid" 2>/dev/null || true
    wait "$anvil_pid" 2>/dev/null || true
    echo "    anvil (pid $anvil_pid) stopped"
  fi
  anvil_pid=
}
cleanup() {
  stop_anvil
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

demo_start=$SECONDS
step_start=$SECONDS
step() {
  local now=$SECONDS
  if [ -n "${current_step:-}" ]; then
    printf '    done in %ds\n' $((now - step_start))
    printf 'step\t%s\t%d\n' "$current_step" $((now - step_start)) >>"$summary"
  fi
  current_step=$1
  step_start=$now
  [ -n "$1" ] && printf '\n==> %s\n' "$1"
  return 0
}
indent() { sed 's/^/    /'; }
# zkml-eth, without its warning about the development SRS on every call (the demo says it once, in setup).
z() { "$ZKML_ETH" "$@" 2> >(sed '/^WARNING: UNSAFE development SRS/d' >&2); }
# Runs zkml-eth --json, keeps the document, and records each transaction's gas for the summary.
chain() {
  local name=$1
  shift
  z --json "$@" >"$workdir/$name.json"
  python3 - "$workdir/$name.json" "$summary" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
with open(sys.argv[2], "a") as summary:
    for tx in report.get("transactions", []):
        names = [e["event"] for e in tx["events"]]
        # Repeated events once, with their count (the feed's thirteen RoundPushed).
        events = ", ".join(n if names.count(n) == 1 else f"{n} x{names.count(n)}" for n in dict.fromkeys(names))
        print(f"    {tx['action']}: gas {tx['gasUsed']:,}" + (f"  [{events}]" if events else ""))
        summary.write(f"tx\t{tx['action']}\t{tx['gasUsed']}\n")
PY
}
field() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$1" "$2"; }

EXAMPLES="$ROOT/examples"
DIGITS="$EXAMPLES/digits"
FEED="$EXAMPLES/eth-price/feed.json"
FEED_AT=8000
PROMPT=0x0310f00000

step "Compile the three models from ONNX (zkml-eth compile)"
z -q compile "$DIGITS/mlp.onnx" --calibration "$DIGITS/calibration.json" --out "$OUT/digits"
for model in eth-price pixel-art; do
  z -q compile "$EXAMPLES/$model/model.onnx" --calibration "$EXAMPLES/$model/calibration.json" \
    --scale 12 --out "$OUT/$model"
done
echo "    digits MLP, eth-price predictor, pixel-art generator -> $OUT/{digits,eth-price,pixel-art}"

step "Quantized vs float on 450 held-out digits (zkml-eth fidelity)"
z fidelity "$OUT/digits" --data "$DIGITS/test.json" 2>&1 | indent

step "Circuits, SRS and keys (zkml-eth setup; UNSAFE development SRS)"
echo "    The demo uses the UNSAFE development SRS: anyone can forge proofs under it. Use --srs FILE for real."
for model in digits eth-price pixel-art; do
  z -q setup "$OUT/$model" --unsafe-dev-srs
  printf '    %-10s k = %s\n' "$model" "$(field "$OUT/$model/circuit.json" 'd["k"]')"
done

step "Inputs: the feed window ending at answer $FEED_AT, the prompt $PROMPT (zkml-eth input)"
z -q input feed "$FEED" --at "$FEED_AT" --model "$OUT/eth-price" --out "$workdir/eth-price-input.json"
z -q input prompt "$PROMPT" --model "$OUT/pixel-art" --out "$workdir/pixel-art-input.json"
echo "    eth-price: 12 returns of the feed, as the vault recomputes them; pixel-art: digit 3, two latents nudged"

step "Prove one inference of each for the EVM (zkml-eth prove, keccak transcript)"
z -q prove "$OUT/digits" --input "$DIGITS/test.json" --sample 0 --transcript keccak --out "$OUT/digits-proof.json" \
  --unsafe-dev-srs
for model in eth-price pixel-art; do
  z -q prove "$OUT/$model" --input "$workdir/$model-input.json" --transcript keccak --out "$OUT/$model-proof.json" \
    --unsafe-dev-srs
done
for model in digits eth-price pixel-art; do
  printf '    %-10s %5d proof bytes\n' "$model" "$(field "$OUT/$model-proof.json" '(len(d["proof"]) - 2) // 2')"
done

step "Verify them natively and by their generated verifiers in revm (zkml-eth verify --evm)"
for model in digits eth-price pixel-art; do
  z verify "$OUT/$model-proof.json" --evm --unsafe-dev-srs | sed -n 's/^EVM (revm, mainnet limits): /'"$model"': /p' | indent
done

step "Draw the proven image (zkml-eth render)"
z render "$OUT/pixel-art-proof.json" | indent

step "Aggregate one Poseidon proof of each model into one proof (zkml-eth aggregate; minutes the first time)"
z -q prove "$OUT/digits" --input "$DIGITS/test.json" --sample 0 --transcript poseidon \
  --out "$workdir/p-digits.json" --unsafe-dev-srs
for model in eth-price pixel-art; do
  z -q prove "$OUT/$model" --input "$workdir/$model-input.json" --transcript poseidon \
    --out "$workdir/p-$model.json" --unsafe-dev-srs
done
# Not piped: on a terminal, aggregate's spinner shows the minutes pass.
z aggregate "$workdir/p-eth-price.json" "$workdir/p-pixel-art.json" "$workdir/p-digits.json" \
  --out "$OUT/aggregated.json" --unsafe-dev-srs
z verify "$OUT/aggregated.json" --evm --unsafe-dev-srs | indent
printf '    %d proof bytes for three inferences\n' "$(field "$OUT/aggregated.json" '(len(d["proof"]) - 2) // 2')"

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
export ETH_RPC_URL="http://$address"
# anvil's first dev account, read from its own banner: well known and for local chains only.
ETH_PRIVATE_KEY=$(sed -n 's/^(0) \(0x[0-9a-f]\{64\}\)$/\1/p' "$workdir/anvil.log" | head -n 1)
[ -n "$ETH_PRIVATE_KEY" ] || { echo "could not read anvil's first dev key" >&2; exit 1; }
export ETH_PRIVATE_KEY
deployer=$(cast wallet address "$ETH_PRIVATE_KEY")
echo "    anvil pid $anvil_pid at $ETH_RPC_URL"

DEPLOYMENT="$ROOT/deployments/demo.json"
rm -f "$DEPLOYMENT"
step "Deploy the contracts (zkml-eth deploy: registry, book, models, NFT, vault, test market)"
chain deploy deploy --eth-price "$OUT/eth-price" --pixel-art "$OUT/pixel-art" --feed-history "$FEED" \
  --feed-at "$FEED_AT" --out "$DEPLOYMENT" --unsafe-dev-srs
echo "    addresses and model ids: $DEPLOYMENT"

step "Register the digits model and the aggregation's batch verifier (zkml-eth register)"
chain register-digits register --model "$OUT/digits" --deployment "$DEPLOYMENT" --unsafe-dev-srs
chain register-batch register --aggregated "$OUT/aggregated.json" --deployment "$DEPLOYMENT" --unsafe-dev-srs
echo "    batch verifier $(field "$workdir/register-batch.json" 'd["batchVerifierId"]') over models $(field "$workdir/register-batch.json" 'd["slotModelIds"]')"

step "The book attests the batch: one aggregated proof, three inferences (zkml-eth submit-proof --to book)"
chain attest submit-proof "$OUT/aggregated.json" --to book --deployment "$DEPLOYMENT"

step "Fund the vault (100,000 test USD), then it acts on the proven prediction (submit-proof --to vault)"
usd=$(field "$DEPLOYMENT" 'd["usd"]')
vault=$(field "$DEPLOYMENT" 'd["vault"]')
amount=100000000000
cast send -q "$usd" 'mint(address,uint256)' "$deployer" "$amount" --private-key "$ETH_PRIVATE_KEY"
cast send -q "$usd" 'approve(address,uint256)' "$vault" "$amount" --private-key "$ETH_PRIVATE_KEY"
cast send -q "$vault" 'deposit(uint256,address)' "$amount" "$deployer" --private-key "$ETH_PRIVATE_KEY"
echo "    deposited 100,000 tUSD: $(cast call "$vault" 'balanceOf(address)(uint256)' "$deployer") shares"
chain act submit-proof "$OUT/eth-price-proof.json" --to vault --deployment "$DEPLOYMENT"
python3 - "$workdir/act.json" <<'PY' | indent
import json, sys
for tx in json.load(open(sys.argv[1]))["transactions"]:
    for e in tx["events"]:
        f = dict(e["fields"])
        if e["event"] == "Traded":
            print(f"traded on bucket {f['bucket']} (3 = buy) at feed price {int(f['feedPrice']) / 1e8:,.2f}: "
                  f"{int(f['amountIn']):,} in, {int(f['amountOut']):,} out")
        if e["event"] == "Held":
            print(f"held on bucket {f['bucket']}, reason {f['reason']} (0 predicted hold, 1 cooldown, 2 nothing to trade)")
PY

step "The NFT mints the token whose image is the proven output (submit-proof --to nft: commit, then reveal)"
chain mint submit-proof "$OUT/pixel-art-proof.json" --to nft --deployment "$DEPLOYMENT"
nft=$(field "$DEPLOYMENT" 'd["nft"]')
token=$(field "$workdir/mint.json" 'int(d["tokenId"], 16)')
cast call "$nft" 'tokenURI(uint256)(string)' "$token" | python3 -c '
import base64, json, sys
uri = json.loads(sys.stdin.read())
meta = json.loads(base64.b64decode(uri.split(",", 1)[1]))
svg = base64.b64decode(meta["image"].split(",", 1)[1]) if ";base64," in meta["image"] else meta["image"].split(",", 1)[1].encode()
open(sys.argv[1], "wb").write(svg)
name, prompt = meta["name"], meta["prompt"]
print(f"token {name}: prompt {prompt}, image written to {sys.argv[1]} ({len(svg)} bytes)")
' "$OUT/token.svg" | indent
cmp -s "$OUT/token.svg" "$OUT/pixel-art-proof.svg" || { echo "the token's on-chain SVG differs from zkml-eth render's" >&2; exit 1; }
echo "    the on-chain SVG is byte for byte the one zkml-eth render drew from the proof"

step "A tampered proof is refused, with the contract's error decoded (one proof byte flipped)"
python3 - "$OUT/aggregated.json" "$workdir/tampered.json" <<'PY'
import json, sys
artifact = json.load(open(sys.argv[1]))
proof = bytearray.fromhex(artifact["proof"][2:])
proof[100] ^= 1
artifact["proof"] = "0x" + proof.hex()
json.dump(artifact, open(sys.argv[2], "w"))
PY
if z submit-proof "$workdir/tampered.json" --to book --deployment "$DEPLOYMENT" 2>"$workdir/refused.txt"; then
  echo "a tampered proof was accepted" >&2
  exit 1
fi
indent <"$workdir/refused.txt"

step "Stop anvil"
stop_anvil
step ""

python3 - "$summary" "$OUT" "$((SECONDS - demo_start))" <<'PY'
import json, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
out, total = sys.argv[2], int(sys.argv[3])
print(f"\nDemo finished in {total} s.\n\n  step{' ' * 92}time")
for kind, what, value in rows:
    if kind == "step":
        print(f"  {what[:94]:<96}{int(value):>4} s")
print(f"\n  transaction{' ' * 70}gas")
for kind, what, value in rows:
    if kind == "tx":
        print(f"  {what[:76]:<78}{int(value):>12,}")
sizes = {m: (len(json.load(open(f"{out}/{m}.json"))["proof"]) - 2) // 2
         for m in ["digits-proof", "eth-price-proof", "pixel-art-proof", "aggregated"]}
print("\n  proof bytes: " + ", ".join(f"{m} {b:,}" for m, b in sizes.items()))
print(f"\n  On chain: 3 models and 1 batch verifier registered, 3 inferences attested, a vault trade, an NFT minted.")
print(f"  Files: {out}/ (models, proofs, aggregated.json, pixel-art-proof.svg/png, token.svg)")
PY
