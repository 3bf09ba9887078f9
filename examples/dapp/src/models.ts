// Section 1: the registry's models, as `ZkmlModelRegistry.model(id)` returns them.
import { registryAbi } from './abi';
import type { Deployment, Wallet } from './chain';
import { h, replace } from './dom';

const STATUS = ['unregistered', 'active', 'retired'];
const WEIGHTS = ['fixed', 'committed'];
const INPUTS = ['public', 'hashed', 'private'];
const OUTPUTS = ['public', 'hashed'];

export async function renderModels(wallet: Wallet, deployment: Deployment, el: HTMLElement): Promise<void> {
  const registry = { address: deployment.registry, abi: registryAbi } as const;
  const count = await wallet.publicClient.readContract({ ...registry, functionName: 'modelCount' });
  const ids = Array.from({ length: Number(count) }, (_, i) => BigInt(i + 1));
  const models = await Promise.all(
    ids.map((id) => wallet.publicClient.readContract({ ...registry, functionName: 'model', args: [id] })),
  );
  const usedBy = (id: bigint) =>
    [
      BigInt(deployment.ethPriceModelId) === id && 'the vault (eth-price)',
      BigInt(deployment.pixelArtModelId) === id && 'the NFT (pixel-art)',
    ].filter(Boolean).join(', ') || '—';

  replace(
    el,
    h('p', { class: 'muted' }, `${count} model(s) in the registry at `, h('code', {}, deployment.registry)),
    h('table', { testid: 'models-table' },
      h('thead', {}, h('tr', {}, ['id', 'used by', 'status', 'owner', 'commitment', 'verifier', 'public layout']
        .map((c) => h('th', {}, c)))),
      h('tbody', {}, models.map((m, i) => {
        const l = m.publicLayout;
        // The layout as the registry holds it: visibility, then each section's count, scale and slot width.
        const layout = `weights ${WEIGHTS[l.weights]}; ` +
          `inputs ${INPUTS[l.input]} ×${l.inputCount} (scale 2^${l.inputScale}, ${l.inputWidth}-bit slots); ` +
          `outputs ${OUTPUTS[l.output]} ×${l.outputCount} (scale 2^${l.outputScale}, ${l.outputWidth}-bit slots)`;
        return h('tr', { testid: 'model-row', 'data-model-id': ids[i] },
          h('td', { testid: 'model-id' }, ids[i]),
          h('td', {}, usedBy(ids[i])),
          h('td', { testid: 'model-status' }, STATUS[m.status] ?? m.status),
          h('td', {}, h('code', {}, m.owner)),
          h('td', {}, h('code', { testid: 'model-commitment' }, m.commitment)),
          h('td', {}, h('code', {}, m.verifier), h('div', { class: 'muted' }, `gas cap ${m.verifyGasLimit}`)),
          h('td', { testid: 'model-layout' }, layout));
      })),
    ),
  );
}
