// Section 4: a proof artifact (the JSON `zkml-eth prove` writes) put to use: minted with (pixel-art, the
// NFT) or acted on (eth-price, the vault).
import { bytesToHex, keccak256, type Hex } from 'viem';

import { feedAbi, nftAbi, vaultAbi } from './abi';
import {
  argmax,
  artifactUse,
  BUCKETS,
  mintArguments,
  parseArtifact,
  type Artifact,
} from './codec.js';
import { busy, h, message, replace, shortHex } from './dom';
import { send } from './tx';
import type { Context } from './vault';

export class UploadSection {
  private readonly summary = h('div', { testid: 'artifact-summary' });
  private readonly result = h('div', { class: 'result', testid: 'upload-result' });

  constructor(private readonly ctx: Context, el: HTMLElement) {
    const file = h('input', { type: 'file', accept: '.json,application/json', testid: 'artifact-file' });
    file.onchange = async () => {
      const chosen = file.files?.[0];
      if (!chosen) return;
      // The previous file's summary goes at once: nothing is shown for a file it is not.
      replace(this.summary, h('p', { class: 'muted' }, `reading ${chosen.name}…`));
      try {
        this.show(chosen.name, parseArtifact(JSON.parse(await chosen.text())));
      } catch (err) {
        replace(this.summary, h('p', { class: 'bad', testid: 'artifact-error' }, `${chosen.name}: ${message(err)}`));
      }
    };
    replace(el, h('p', {}, 'A proof artifact written by ', h('code', {}, 'zkml-eth prove'), ': ', file),
      this.summary, this.result);
  }

  private show(name: string, artifact: Artifact): void {
    const use = artifactUse(artifact);
    const outputs = artifact.outputs.map((v) => v.toFixed(4));
    replace(this.summary,
      h('dl', { class: 'artifact' },
        h('dt', {}, 'file'), h('dd', {}, name),
        h('dt', {}, 'model'), h('dd', { testid: 'artifact-model' }, artifact.model_dir),
        h('dt', {}, 'commitment'), h('dd', {}, h('code', { testid: 'artifact-commitment' }, artifact.model_commitment)),
        h('dt', {}, 'outputs'), h('dd', { testid: 'artifact-outputs' },
          `${outputs.slice(0, 12).join(', ')}${outputs.length > 12 ? `, … (${outputs.length} values)` : ''}`),
        h('dt', {}, 'proof'), h('dd', {}, h('code', {}, shortHex(artifact.proof)))),
      use === 'nft' ? this.nftActions(artifact) : use === 'vault' ? this.vaultActions(artifact)
        : h('p', { class: 'bad' }, 'Neither the NFT (pixel-art) nor the vault (eth-price) takes this model\'s proofs.'));
  }

  /** Mint: prompt from the proof's public inputs, aigcData from its outputs; commit, then reveal. */
  private nftActions(artifact: Artifact): HTMLElement {
    const { wallet, deployment: d } = this.ctx;
    let args: ReturnType<typeof mintArguments>;
    try {
      args = mintArguments(artifact);
    } catch (err) {
      return h('p', { class: 'bad' }, `not a pixel-art prompt: ${message(err)}`);
    }
    const { prompt, aigcData } = args;
    const proof = artifact.proof as Hex;
    const nft = { address: d.nft, abi: nftAbi } as const;
    const check = h('span', { testid: 'artifact-verify' }, '…');
    // A view call: what the NFT's `verify` says of this proof before anything is sent.
    wallet.publicClient.readContract({ ...nft, functionName: 'verify', args: [prompt, aigcData, proof] })
      .then((ok) => replace(check, String(ok)), (err) => replace(check, `error: ${message(err)}`));
    const button = h('button', { testid: 'mint-button' }, 'Mint with this proof');
    button.onclick = () => busy(button, async () => {
      if (!wallet.account) return;
      // Commit-reveal: the prompt is bound to its minter (and a secret salt) on chain before it is public.
      const salt = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
      const commitment = await wallet.publicClient.readContract({
        ...nft, functionName: 'commitment', args: [prompt, wallet.account, salt] });
      const committed = await send(wallet, d, this.result, 'commit the prompt', { ...nft, functionName: 'commit', args: [commitment] });
      if (!committed) return;
      // The reveal must land in a later block than the commit: mine one on anvil, else wait for one.
      if (wallet.mine) await wallet.mine();
      else {
        while ((await wallet.publicClient.getBlockNumber({ cacheTime: 0 })) <= committed.blockNumber) {
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
      await send(wallet, d, this.result, 'mint (reveal, with aigcData and proof)',
        { ...nft, functionName: 'mint', args: [prompt, salt, aigcData, proof] });
      await this.ctx.refreshAll();
    });
    return h('div', { class: 'card' },
      h('h3', {}, 'Mint on the NFT'),
      h('div', {}, 'prompt ', h('code', { testid: 'artifact-prompt' }, prompt)),
      h('div', {}, 'token id ', h('code', { testid: 'artifact-token-id' }, BigInt(keccak256(prompt)).toString())),
      h('div', {}, 'aigcData ', h('code', {}, shortHex(aigcData))),
      h('div', {}, 'verify (view): ', check),
      button);
  }

  /** Act: the vault recomputes the inputs from its feed at the round; the proof carries the outputs. */
  private vaultActions(artifact: Artifact): HTMLElement {
    const { wallet, deployment: d } = this.ctx;
    const outputs = artifact.outputs_quantized.map(BigInt);
    const round = h('input', { type: 'text', size: 24, testid: 'act-round', 'aria-label': 'feed round id' });
    // Default: the feed's latest round (round ids are phase << 64 | n: bigint, never a JS number).
    wallet.publicClient.readContract({ address: d.feed, abi: feedAbi, functionName: 'latestRoundData' })
      .then(([id]) => { if (!round.value) round.value = id.toString(); }, () => undefined);
    const button = h('button', { testid: 'act-button' }, 'Submit to the vault');
    button.onclick = () => busy(button, async () => {
      let roundId: bigint;
      try {
        roundId = BigInt(round.value.trim());
      } catch {
        this.result.append(h('div', { class: 'tx bad' }, `not a round id: ${round.value}`));
        return;
      }
      await send(wallet, d, this.result, `act on round ${roundId}`,
        { address: d.vault, abi: vaultAbi, functionName: 'act', args: [roundId, outputs, artifact.proof] });
      await this.ctx.refreshAll();
    });
    const bucket = argmax(outputs);
    return h('div', { class: 'card' },
      h('h3', {}, 'Submit to the vault'),
      h('div', {}, 'predicted bucket ', h('strong', { testid: 'artifact-bucket' }, `${bucket} ${BUCKETS[bucket]}`)),
      h('label', {}, 'feed round ', round), ' ', button);
  }
}
