// End to end, as a user sees it: anvil, the contracts deployed by the CLI (`zkml-eth deploy`), the page
// built and served by Vite, and Debian's Chromium driven by playwright-core. Everything is started here, as
// direct child processes, and stopped in `after` (also when a step fails) or when this process exits.
// Screenshots of each scenario go to test-results/.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

const dapp = join(import.meta.dirname, '..');
const repo = join(dapp, '..', '..');
const results = join(dapp, 'test-results');
const fixtures = join(repo, 'test', 'fixtures');

const ANVIL = process.env.ZKML_ANVIL ?? join(repo, 'node_modules', '.bin', 'anvil');
const ZKML_ETH = process.env.ZKML_ETH ?? join(repo, 'target', 'release', 'zkml-eth');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/lib/chromium/chromium';
const CACHE = process.env.ZKML_CACHE_DIR ?? join(repo, '.zkml-cache');
// anvil's dev account #0: deploys the contracts and is the page's default account.
const DEPLOYER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const DEPLOYER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** A copy of a proof artifact with byte 100 of its proof flipped, written as `tmpDir/name`. */
function tamperedCopy(fixture, tmpDir, name) {
  const artifact = readJson(fixture);
  const proof = Buffer.from(artifact.proof.slice(2), 'hex');
  proof[100] ^= 1;
  artifact.proof = `0x${proof.toString('hex')}`;
  const file = join(tmpDir, name);
  writeFileSync(file, JSON.stringify(artifact));
  return file;
}
const artProof = join(fixtures, 'pixel-art', 'proof.json');
const ethProof = join(fixtures, 'eth-price', 'proof.json');
// What the Rust CLI derives from the pixel-art fixture's inputs (`zkml-eth input prompt`).
const artSource = readJson(join(fixtures, 'pixel-art', 'input.json')).source;

// ------------------------------------------------------------------------------------------- processes

/** @type {import('node:child_process').ChildProcess[]} */
const children = [];

function stopAll() {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}
// Also when the runner is interrupted: no anvil or server outlives the test.
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopAll();
    process.exit(130);
  });
}

/** Starts a long-running process, its output logged to test-results/<name>.log. */
function start(name, command, args, options = {}) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(results, `${name}.log`));
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.on('error', (err) => log.write(`spawn error: ${err.message}\n`));
  children.push(child);
  return child;
}

/** Runs a command to completion; its stderr in the error when it fails. */
async function run(command, args, options = {}) {
  try {
    return await promisify(execFile)(command, args, { maxBuffer: 64 << 20, ...options });
  } catch (err) {
    throw new Error(`${command} ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls until `probe` resolves truthy, or fails naming `what` (and the child, if it died). */
async function waitUntil(what, probe, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${what}: the process exited with ${child.exitCode}`);
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const rpcUp = (url) => async () => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
  });
  return res.ok;
};

// ------------------------------------------------------------------------------------------- the page

/** The text of the element with `data-testid` = `id` (the first, or inside `scope`). */
const text = (page, id, scope = page) => scope.locator(`[data-testid="${id}"]`).first().innerText();
/** A shown amount ("1000.5 USD") as a number. */
const amount = async (page, id) => {
  const shown = await text(page, id);
  const value = Number.parseFloat(shown);
  assert.ok(Number.isFinite(value), `${id} shows ${JSON.stringify(shown)}, not an amount`);
  return value;
};

/** Clicks a button and waits until the page re-enables it: its transactions sent and the sections re-read. */
async function clickAndWait(page, id) {
  const button = page.locator(`[data-testid="${id}"]`);
  await button.click();
  await page.waitForFunction((sel) => !document.querySelector(sel)?.disabled, `[data-testid="${id}"]`, { timeout: 60_000 });
}

/** The last transaction entry for `functionName` in the result area `area`. */
const lastTx = (page, area, functionName) =>
  page.locator(`[data-testid="${area}"] [data-testid="tx"][data-function="${functionName}"]`).last();

async function screenshot(page, name) {
  await page.screenshot({ path: join(results, `${name}.png`), fullPage: true });
}

async function upload(page, file) {
  await page.locator('[data-testid="artifact-file"]').setInputFiles(file);
  await page.locator('[data-testid="artifact-summary"] dl').waitFor();
}

// ------------------------------------------------------------------------------------------- the test

describe('the dApp in Chromium against contracts deployed by zkml-eth', { timeout: 600_000 }, () => {
  let tmp;
  let deployment;
  let browser;
  let page;
  let rpc;
  let dist;
  let vite;
  const pageErrors = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `no Chromium at ${CHROMIUM}: install Debian's with \`apt-get update && apt-get install -y ` +
          '--no-install-recommends chromium fonts-dejavu-core` (or set CHROMIUM to a Chromium binary)',
      );
    }
    for (const [what, file, how] of [
      ['anvil', ANVIL, '`npm ci` at the repo root, or set ZKML_ANVIL'],
      ['zkml-eth', ZKML_ETH, '`cargo build --release --locked -p zkml-eth`, or set ZKML_ETH'],
    ]) {
      if (!existsSync(file)) throw new Error(`no ${what} at ${file}: ${how}`);
    }
    rmSync(results, { recursive: true, force: true });
    mkdirSync(results, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'zkml-dapp-'));

    // The two models the contracts use, as crates/zkml-eth/tests/integration/cli_chain.rs sets them up
    // (keys come from the cache, so this takes seconds once `make demo` or the CLI tests have run).
    const env = { ...process.env, ZKML_CACHE_DIR: CACHE };
    const models = {};
    for (const name of ['eth-price', 'pixel-art']) {
      const example = join(repo, 'examples', name);
      models[name] = join(tmp, name);
      await run(ZKML_ETH, ['-q', 'compile', join(example, 'model.onnx'), '--calibration',
        join(example, 'calibration.json'), '--out', models[name], '--scale', '12'], { env });
      await run(ZKML_ETH, ['-q', 'setup', models[name], '--unsafe-dev-srs'], { env });
    }

    const anvilPort = await freePort();
    rpc = `http://127.0.0.1:${anvilPort}`;
    const anvil = start('anvil', ANVIL, ['--port', String(anvilPort), '--hardfork', 'prague']);
    await waitUntil('anvil', rpcUp(rpc), anvil);

    const deploymentFile = join(tmp, 'deployment.json');
    await run(ZKML_ETH, ['--json', 'deploy', '--rpc-url', rpc, '--eth-price', models['eth-price'],
      '--pixel-art', models['pixel-art'], '--feed-history', join(repo, 'examples', 'eth-price', 'feed.json'),
      '--out', deploymentFile, '--unsafe-dev-srs'], { env: { ...env, ETH_PRIVATE_KEY: DEPLOYER_KEY } });
    deployment = readJson(deploymentFile);

    // The page, built fresh (ABIs from forge's out/) into the temp dir and served by `vite preview`.
    // `--bypass-lock`: Vite refuses a second build or preview of a project while one runs (e.g. the page
    // `zkml-eth demo` serves); this one has its own output dir and port, so it does not get in the way.
    vite = join(dapp, 'node_modules', 'vite', 'bin', 'vite.js');
    dist = join(tmp, 'dist');
    await run(process.execPath, [join(dapp, 'scripts', 'abi.mjs')], { cwd: dapp });
    await run(process.execPath, [vite, 'build', '--bypass-lock', '--outDir', dist, '--emptyOutDir'], { cwd: dapp });
    const webPort = await freePort();
    const web = `http://127.0.0.1:${webPort}`;
    const server = start('vite-preview', process.execPath,
      [vite, 'preview', '--bypass-lock', '--outDir', dist, '--strictPort', '--host', '127.0.0.1', '--port', String(webPort)],
      { cwd: dapp, env: { ...process.env, ZKML_DEPLOYMENT: deploymentFile } });
    await waitUntil('vite preview', async () => (await fetch(`${web}/deployment.json`)).ok, server);

    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${web}/?rpc=${encodeURIComponent(rpc)}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
  });

  after(async () => {
    if (page) await screenshot(page, '99-final').catch(() => undefined);
    await browser?.close().catch(() => undefined);
    stopAll();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('the page shows the deployer account and both registered models', async () => {
    assert.equal(await text(page, 'chain-id'), '31337');
    assert.equal(await text(page, 'account'), DEPLOYER);
    const rows = page.locator('[data-testid="model-row"]');
    assert.equal(await rows.count(), 2);
    const eth = rows.nth(0);
    const art = rows.nth(1);
    assert.equal(await text(page, 'model-id', eth), String(deployment.ethPriceModelId));
    assert.equal(await text(page, 'model-id', art), String(deployment.pixelArtModelId));
    assert.equal(await text(page, 'model-status', eth), 'active');
    assert.equal(await text(page, 'model-status', art), 'active');
    // The commitments the registry holds are the ones the proof artifacts carry.
    assert.equal(await text(page, 'model-commitment', eth), readJson(ethProof).model_commitment);
    assert.equal(await text(page, 'model-commitment', art), readJson(artProof).model_commitment);
    assert.match(await text(page, 'model-layout', eth), /inputs public ×12 .*outputs public ×5 /);
    assert.match(await text(page, 'model-layout', art), /inputs public ×14 .*outputs public ×64 /);
    assert.equal(await page.locator('[data-testid="gallery-empty"]').count(), 1);
    await screenshot(page, '01-models');
  });

  test('a tampered proof is refused with the NFT\'s decoded custom error', async () => {
    const tampered = tamperedCopy(artProof, tmp, 'tampered-proof.json');

    await upload(page, tampered);
    assert.equal(await text(page, 'artifact-prompt'), artSource.prompt);
    await page.waitForFunction(() => document.querySelector('[data-testid="artifact-verify"]')?.textContent !== '…');
    assert.equal(await text(page, 'artifact-verify'), 'false');
    await clickAndWait(page, 'mint-button');
    assert.equal(await lastTx(page, 'upload-result', 'commit').getAttribute('data-status'), 'success');
    const mint = lastTx(page, 'upload-result', 'mint');
    assert.equal(await mint.getAttribute('data-status'), 'reverted');
    assert.equal(await text(page, 'tx-error', mint), `ERC7007ZkmlUnverifiedAigcData(tokenId: ${artSource.tokenId})`);
    assert.equal(await page.locator('[data-testid="gallery-empty"]').count(), 1, 'nothing was minted');
    await screenshot(page, '02-tampered-proof');
  });

  test('a mint with the real proof succeeds: receipt and decoded events', async () => {
    await upload(page, artProof);
    assert.equal(await text(page, 'artifact-model'), 'pixel-art');
    assert.equal(await text(page, 'artifact-prompt'), artSource.prompt);
    assert.equal(await text(page, 'artifact-token-id'), artSource.tokenId);
    await page.waitForFunction(() => document.querySelector('[data-testid="artifact-verify"]')?.textContent !== '…');
    assert.equal(await text(page, 'artifact-verify'), 'true');
    await clickAndWait(page, 'mint-button');
    const mint = lastTx(page, 'upload-result', 'mint');
    assert.equal(await mint.getAttribute('data-status'), 'success', await mint.innerText());
    assert.match(await text(page, 'tx-hash', mint), /^0x[0-9a-f]{64}$/);
    assert.ok(Number(await text(page, 'tx-gas', mint)) > 100_000, 'the mint verified a proof on chain');
    const events = await mint.locator('[data-testid="tx-event"]').allInnerTexts();
    assert.deepEqual(events.map((e) => e.split('(')[0]), ['Transfer', 'AigcData']);
    assert.equal(events[0],
      `Transfer(from: 0x0000000000000000000000000000000000000000, to: ${DEPLOYER}, tokenId: ${artSource.tokenId})`);
    assert.ok(events[1].startsWith(`AigcData(tokenId: ${artSource.tokenId}, prompt: 0x`), events[1]);
    await screenshot(page, '03-minted');
  });

  test('the gallery renders the token\'s on-chain SVG and verify shows true', async () => {
    const token = page.locator(`[data-testid="token"][data-token-id="${artSource.tokenId}"]`);
    await token.waitFor();
    assert.equal(await page.locator('[data-testid="token"]').count(), 1);
    assert.equal(await text(page, 'token-prompt', token), artSource.prompt);
    assert.equal(await text(page, 'token-verify', token), 'true');
    // The image is the SVG the contract draws from the proven outputs: byte for byte the fixture's render.
    const src = await token.locator('[data-testid="token-image"]').getAttribute('src');
    const prefix = 'data:image/svg+xml;base64,';
    assert.ok(src?.startsWith(prefix), src?.slice(0, 40));
    const svg = Buffer.from(src.slice(prefix.length), 'base64').toString('utf8');
    assert.equal(svg, readFileSync(join(fixtures, 'pixel-art', 'pixel-art-proof.svg'), 'utf8'));
    // And the browser drew it.
    const drawn = await token.locator('[data-testid="token-image"]')
      .evaluate((img) => img.complete && img.naturalWidth > 0);
    assert.ok(drawn, 'the image loaded');
    await token.screenshot({ path: join(results, '04-token.png') });
    await screenshot(page, '04-gallery');
  });

  test('mint test USD, deposit and withdraw each change the balances shown', async () => {
    const usd0 = await amount(page, 'your-usd');
    assert.equal(await amount(page, 'your-shares'), 0);

    await page.locator('[data-testid="vault-amount"]').fill('1000');
    await clickAndWait(page, 'mint-usd-button');
    assert.equal(await lastTx(page, 'vault-result', 'mint').getAttribute('data-status'), 'success');
    assert.equal(await amount(page, 'your-usd'), usd0 + 1000);

    await page.locator('[data-testid="vault-amount"]').fill('600');
    await clickAndWait(page, 'deposit-button');
    assert.equal(await lastTx(page, 'vault-result', 'approve').getAttribute('data-status'), 'success');
    const deposit = lastTx(page, 'vault-result', 'deposit');
    assert.equal(await deposit.getAttribute('data-status'), 'success', await deposit.innerText());
    assert.ok((await deposit.locator('[data-testid="tx-event"]').allInnerTexts()).some((e) => e.startsWith('Deposit(')));
    assert.equal(await amount(page, 'your-usd'), usd0 + 400);
    // An empty vault mints shares at one per USD (virtual shares: 10^6 per asset unit, 12 decimals).
    assert.equal(await amount(page, 'your-shares'), 600);
    assert.equal(await amount(page, 'vault-usd'), 600);
    assert.equal(await amount(page, 'share-price'), 1);
    await screenshot(page, '05-deposited');

    await page.locator('[data-testid="vault-amount"]').fill('250');
    await clickAndWait(page, 'withdraw-button');
    assert.equal(await lastTx(page, 'vault-result', 'withdraw').getAttribute('data-status'), 'success');
    assert.equal(await amount(page, 'your-usd'), usd0 + 650);
    const shares = await amount(page, 'your-shares');
    assert.ok(shares < 350.001 && shares > 349.999, `shares after withdrawing 250 of 600: ${shares}`);
    assert.equal(await amount(page, 'vault-usd'), 350);
    // A point at the deposit, one at the withdrawal.
    assert.equal(await page.locator('[data-testid="vault-chart"]').getAttribute('data-points'), '2');
    await screenshot(page, '06-withdrawn');
  });

  test('an eth-price proof submitted to the vault trades, and the decision is shown', async () => {
    // The fixture proof is of the window ending at the test feed's 13th round: its latest.
    const round = (BigInt(deployment.feedFirstRound) + 12n).toString();
    assert.equal(await text(page, 'feed-round'), round);

    // A tampered proof first: the registry's error, raised under the vault's `act`, decoded by name.
    const tampered = tamperedCopy(ethProof, tmp, 'tampered-eth-price.json');
    await upload(page, tampered);
    await clickAndWait(page, 'act-button');
    const refused = lastTx(page, 'upload-result', 'act');
    assert.equal(await refused.getAttribute('data-status'), 'reverted');
    assert.equal(await text(page, 'tx-error', refused), `ZkmlRegistryProofRejected(modelId: ${deployment.ethPriceModelId})`);
    assert.equal(await page.locator('[data-testid="no-decisions"]').count(), 1);

    await upload(page, ethProof);
    assert.equal(await text(page, 'artifact-model'), 'eth-price');
    assert.equal(await text(page, 'artifact-bucket'), '3 buy');
    await page.waitForFunction(() => document.querySelector('[data-testid="act-round"]')?.value !== '');
    assert.equal(await page.locator('[data-testid="act-round"]').inputValue(), round);
    await clickAndWait(page, 'act-button');
    const act = lastTx(page, 'upload-result', 'act');
    assert.equal(await act.getAttribute('data-status'), 'success', await act.innerText());
    const events = await act.locator('[data-testid="tx-event"]').allInnerTexts();
    assert.ok(events.at(-1).startsWith(`Traded(roundId: ${round}, bucket: 3, actor: ${DEPLOYER}`), events.at(-1));

    const decision = page.locator(`[data-testid="decision"][data-round="${round}"]`);
    assert.equal(await decision.getAttribute('data-kind'), 'Traded');
    assert.equal(await text(page, 'decision-bucket', decision), '3 buy');
    // A buy trades the buy tier (10%) of the 350 USD held.
    assert.match(await text(page, 'decision-outcome', decision), /^bought: 35 USD → 0\.0\d+ WETH at \d+\.\d+ USD$/);
    assert.equal(await amount(page, 'vault-usd'), 315);
    assert.ok((await amount(page, 'vault-weth')) > 0);
    assert.equal(await page.locator('[data-testid="vault-chart"]').getAttribute('data-points'), '3');
    await screenshot(page, '07-vault-traded');
  });

  test('with an injected wallet, the page signs through it', async () => {
    // A stand-in for a wallet extension: an EIP-1193 provider that forwards to anvil, where dev account #1
    // is unlocked, so `eth_sendTransaction` is signed by the node as a real wallet would sign it.
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const ACCOUNT_1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    await context.addInitScript(({ rpcUrl, account }) => {
      window.walletCalls = [];
      window.ethereum = {
        async request({ method, params }) {
          window.walletCalls.push(method);
          if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [account];
          const res = await fetch(rpcUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: params ?? [] }),
          });
          const body = await res.json();
          if (body.error) throw Object.assign(new Error(body.error.message), body.error);
          return body.result;
        },
        on() {},
        removeListener() {},
      };
    }, { rpcUrl: rpc, account: ACCOUNT_1 });
    const wallet = await context.newPage();
    wallet.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await wallet.goto(page.url());
      await wallet.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
      assert.equal(await text(wallet, 'account'), ACCOUNT_1);
      assert.match(await text(wallet, 'connection'), /wallet account/);
      assert.equal(await wallet.locator('[data-testid="account-select"]').count(), 0, 'no dev-key picker');
      assert.equal(await amount(wallet, 'your-usd'), 0);
      await wallet.locator('[data-testid="vault-amount"]').fill('42');
      await clickAndWait(wallet, 'mint-usd-button');
      assert.equal(await lastTx(wallet, 'vault-result', 'mint').getAttribute('data-status'), 'success');
      assert.equal(await amount(wallet, 'your-usd'), 42);
      const calls = await wallet.evaluate(() => window.walletCalls);
      assert.ok(calls.includes('eth_sendTransaction'), `the wallet sent it: ${calls.join(', ')}`);
      await screenshot(wallet, '08-injected-wallet');
    } finally {
      await context.close();
    }
  });

  test('without ZKML_DEPLOYMENT the server and the page say what to set', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...process.env };
    delete env.ZKML_DEPLOYMENT;
    const server = start('vite-preview-unset', process.execPath,
      [vite, 'preview', '--bypass-lock', '--outDir', dist, '--strictPort', '--host', '127.0.0.1', '--port', String(port)],
      { cwd: dapp, env });
    try {
      await waitUntil('vite preview (unset)', async () => (await fetch(url)).ok, server);
      const res = await fetch(`${url}/deployment.json`);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /^ZKML_DEPLOYMENT is not set/);
      const other = await browser.newPage();
      try {
        await other.goto(`${url}/?rpc=${encodeURIComponent(rpc)}`);
        assert.match(await text(other, 'load-error'), /^ZKML_DEPLOYMENT is not set: start the server with ZKML_DEPLOYMENT=/);
        await screenshot(other, '09-no-deployment');
      } finally {
        await other.close();
      }
    } finally {
      server.kill('SIGTERM');
    }
  });

  test('the page raised no uncaught error and every section rendered', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(await page.locator('[data-testid="section-error"]').allInnerTexts(), []);
  });
});
