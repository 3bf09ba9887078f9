// Section 3: the EIP-7007 gallery: every minted token with its on-chain SVG, its prompt, and a live
// `verify(prompt, aigcData, proof)` with the proof its `AigcData` event carried.
import { zeroAddress, type Hex } from 'viem';

import { nftAbi } from './abi';
import type { Deployment, Wallet } from './chain';
import { decodePrompt } from './codec.js';
import { h, message, replace, shortHex } from './dom';

/** EIP-7007 metadata, as `tokenURI` returns it (base64 JSON). */
interface Metadata {
  name: string;
  description: string;
  image: string;
  prompt: string;
  aigc_type: string;
  aigc_data: string;
  proof_type: string;
}

/** Decodes a `data:application/json;base64,` URI (the contract escapes the JSON's strings). */
function decodeDataUri(uri: string): Metadata {
  const prefix = 'data:application/json;base64,';
  if (!uri.startsWith(prefix)) throw new Error(`tokenURI is not base64 JSON: ${uri.slice(0, 40)}…`);
  const bytes = Uint8Array.from(atob(uri.slice(prefix.length)), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function describePrompt(prompt: string): string {
  try {
    const { digit, latents } = decodePrompt(prompt);
    return `digit ${digit}, latents ${latents.join(', ')}`;
  } catch (err) {
    return message(err);
  }
}

export async function renderGallery(wallet: Wallet, deployment: Deployment, el: HTMLElement): Promise<void> {
  const c = wallet.publicClient;
  const nft = { address: deployment.nft, abi: nftAbi } as const;
  // Every token is minted once (a transfer from 0); tokens cannot be burned.
  const mints = await c.getContractEvents({ ...nft, eventName: 'Transfer', args: { from: zeroAddress }, fromBlock: 0n });
  if (mints.length === 0) {
    replace(el, h('p', { class: 'muted', testid: 'gallery-empty' }, 'No token yet: mint one with a pixel-art proof below.'));
    return;
  }
  const cards = await Promise.all(mints.map(async (log) => {
    const id = log.args.tokenId!;
    const [owner, uri, aigcData, added] = await Promise.all([
      c.readContract({ ...nft, functionName: 'ownerOf', args: [id] }),
      c.readContract({ ...nft, functionName: 'tokenURI', args: [id] }),
      c.readContract({ ...nft, functionName: 'aigcDataOf', args: [id] }),
      // The proof is not stored, only emitted: read it back from the event that added the data.
      c.getContractEvents({ ...nft, eventName: 'AigcData', args: { tokenId: id }, fromBlock: 0n }),
    ]);
    const meta = decodeDataUri(uri);
    const proof = added.at(-1)?.args.proof;
    let verified: string;
    if (aigcData === '0x') verified = 'no AIGC data yet';
    else if (!proof) verified = 'no AigcData event with a proof';
    else {
      try {
        const ok = await c.readContract({ ...nft, functionName: 'verify', args: [meta.prompt as Hex, aigcData, proof] });
        verified = String(ok);
      } catch (err) {
        verified = `error: ${message(err)}`;
      }
    }
    return h('figure', { class: 'token', testid: 'token', 'data-token-id': id },
      // An <img> and not inline markup: a data: SVG in an img runs no script, whatever a contract returns.
      meta.image
        ? h('img', { src: meta.image, width: 160, height: 160, alt: meta.name, testid: 'token-image' })
        : h('div', { class: 'placeholder' }, 'no image yet'),
      h('figcaption', {},
        h('div', {}, h('strong', {}, meta.name)),
        h('div', {}, 'prompt ', h('code', { testid: 'token-prompt' }, meta.prompt), ' ',
          h('span', { class: 'muted' }, `(${describePrompt(meta.prompt)})`)),
        h('div', {}, 'owner ', h('code', {}, owner)),
        h('div', { class: 'muted' }, 'token id ', h('code', {}, shortHex(`0x${id.toString(16)}`, 8))),
        h('div', {}, 'aigcData ', h('code', {}, shortHex(aigcData, 8)), proof ? [', proof ', h('code', {}, shortHex(proof, 8))] : ''),
        h('div', {}, 'verify: ', h('strong', { testid: 'token-verify', class: verified === 'true' ? 'good' : 'bad' }, verified))));
  }));
  replace(el, h('div', { class: 'gallery', testid: 'gallery' }, cards));
}
