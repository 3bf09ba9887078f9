// The page: reads the deployment, connects, renders each section, and re-reads them after every
// transaction.
import { privateKeyToAddress } from 'viem/accounts';

import { connect, DEV_KEYS, loadDeployment, options, type Deployment, type Wallet } from './chain';
import { byTestId, h, message, replace } from './dom';
import { renderGallery } from './gallery';
import { renderModels } from './models';
import { UploadSection } from './upload';
import { VaultSection, type Context } from './vault';

/** The header: chain, RPC, contracts, and who signs (with a picker among anvil's dev accounts). */
function renderConnection(el: HTMLElement, wallet: Wallet, deployment: Deployment): void {
  let who: Node | string;
  if (wallet.kind === 'local') {
    // Switching account reloads the page with ?account=N: every section reads for the new account.
    const select = h('select', { testid: 'account-select', 'aria-label': 'account' },
      DEV_KEYS.map((key, i) => h('option', { value: i, selected: i === wallet.accountIndex },
        `#${i} ${privateKeyToAddress(key)}${i === 0 ? ' (deployer)' : ''}`)));
    select.onchange = () => {
      const q = new URLSearchParams(location.search);
      q.set('account', select.value);
      location.search = q.toString();
    };
    who = h('span', {}, 'anvil dev account ', select, ' signing in the page');
  } else if (wallet.kind === 'injected') {
    who = h('span', {}, 'wallet account ', h('code', {}, wallet.account ?? ''));
  } else {
    who = 'read only: no wallet extension, and no dev keys off a local chain';
  }
  replace(el,
    h('div', {}, 'chain ', h('strong', { testid: 'chain-id' }, deployment.chainId), ' via ', h('code', {}, wallet.rpc)),
    h('div', {}, 'account: ', h('code', { testid: 'account' }, wallet.account ?? 'none'), ' — ', who),
    h('details', {}, h('summary', {}, 'contracts'),
      h('pre', { testid: 'deployment' }, JSON.stringify(deployment, null, 2))));
}

async function start(): Promise<void> {
  const status = byTestId('connection');
  let deployment: Deployment;
  let wallet: Wallet;
  try {
    deployment = await loadDeployment();
    const { rpc, accountIndex } = options();
    wallet = await connect(deployment, rpc, accountIndex);
  } catch (err) {
    replace(status, h('p', { class: 'bad', testid: 'load-error' }, message(err)));
    return;
  }
  renderConnection(status, wallet, deployment);

  const ctx: Context = { wallet, deployment, refreshAll };
  const vault = new VaultSection(ctx, byTestId('vault'));
  new UploadSection(ctx, byTestId('upload'));
  const sections: [string, (el: HTMLElement) => Promise<void>][] = [
    ['models', (el) => renderModels(wallet, deployment, el)],
    ['vault', () => vault.refresh()],
    ['gallery-section', (el) => renderGallery(wallet, deployment, el)],
  ];

  // Each section fails alone (e.g. a deployment without a vault): its error is shown above it, the rest
  // renders.
  async function refreshAll(): Promise<void> {
    await Promise.all(sections.map(async ([id, render]) => {
      const el = byTestId(id);
      try {
        await render(el);
        el.querySelectorAll(':scope > [data-testid="section-error"]').forEach((e) => e.remove());
        el.dataset.ready = 'true';
      } catch (err) {
        console.error(err);
        el.querySelectorAll(':scope > [data-testid="section-error"]').forEach((e) => e.remove());
        el.prepend(h('p', { class: 'bad', testid: 'section-error' }, message(err)));
      }
    }));
  }

  await refreshAll();
  document.body.dataset.ready = 'true';
}

void start();
