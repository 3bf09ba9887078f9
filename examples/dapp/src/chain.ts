// The deployment, the RPC and the account the page acts with.
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  type Address,
  type Chain,
  type EIP1193Provider,
  type Hex,
  type PublicClient,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

/** The file `zkml-eth deploy` writes (camelCase keys), served by vite.config.ts as /deployment.json. */
export interface Deployment {
  chainId: number;
  registry: Address;
  book: Address;
  ethPriceModelId: number;
  pixelArtModelId: number;
  nft: Address;
  vault: Address;
  usd: Address;
  weth: Address;
  feed: Address;
  market: Address;
  /** Index in examples/eth-price/feed.json of the test feed's first answer (test market only). */
  feedFirstAnswer?: number;
  /** The test feed's first round id, a decimal string: round ids exceed 2^53. */
  feedFirstRound?: string;
  /** Batch verifiers registered by `zkml-eth register --aggregated`, by aggregation hash. */
  batchVerifiers?: Record<string, number>;
}

/** anvil's chain id: the chain where the dev keys below hold ether and test tokens can be minted. */
export const ANVIL_CHAIN_ID = 31337;

/**
 * anvil's well-known dev keys (mnemonic "test test ... junk"), the first five. Account #0 is the one
 * `zkml-eth deploy` uses by default (it owns the models and the test market). Public keys: never for
 * anything but a local chain.
 */
export const DEV_KEYS: readonly Hex[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
];

const REQUIRED: (keyof Deployment)[] = ['chainId', 'registry', 'nft', 'vault', 'usd', 'weth', 'feed'];

/** Reads /deployment.json; the server's own message (e.g. ZKML_DEPLOYMENT unset) when it has none. */
export async function loadDeployment(): Promise<Deployment> {
  const res = await fetch(`${import.meta.env.BASE_URL}deployment.json`, { cache: 'no-store' });
  const text = await res.text();
  if (!res.ok) throw new Error(text || `GET /deployment.json: HTTP ${res.status}`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('/deployment.json is not JSON: is ZKML_DEPLOYMENT the file `zkml-eth deploy` wrote?');
  }
  const missing = REQUIRED.filter((key) => !(key in json));
  if (missing.length) throw new Error(`/deployment.json has no ${missing.join(', ')}: not a zkml-eth deployment`);
  return json as unknown as Deployment;
}

/** Page options from the query string: `?rpc=URL` (a built page cannot read the server's env) and `?account=N`. */
export function options(): { rpc: string; accountIndex: number } {
  const q = new URLSearchParams(location.search);
  const index = Number(q.get('account') ?? 0);
  return {
    rpc: q.get('rpc') ?? 'http://127.0.0.1:8545',
    accountIndex: Number.isInteger(index) && index >= 0 && index < DEV_KEYS.length ? index : 0,
  };
}

/** Who signs: an injected wallet, a local dev key, or nobody (read only). */
export interface Wallet {
  chain: Chain;
  rpc: string;
  /** Reads go to the page's RPC, whoever signs. */
  publicClient: PublicClient;
  walletClient?: WalletClient;
  account?: Address;
  kind: 'injected' | 'local' | 'read-only';
  accountIndex?: number;
  /** Mines a block on anvil (`evm_mine`), undefined elsewhere. */
  mine?: () => Promise<void>;
}

/** Connects to the RPC, checks it is the deployment's chain, and picks the account. */
export async function connect(deployment: Deployment, rpc: string, accountIndex: number): Promise<Wallet> {
  const chain = defineChain({
    id: deployment.chainId,
    name: deployment.chainId === ANVIL_CHAIN_ID ? 'anvil' : `chain ${deployment.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpc] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(rpc) }) as PublicClient;
  let chainId: number;
  try {
    chainId = await publicClient.getChainId();
  } catch (err) {
    throw new Error(`no node answers at ${rpc} (${(err as Error).message.split('\n')[0]}): pass ?rpc=URL`);
  }
  if (chainId !== deployment.chainId) {
    throw new Error(`the node at ${rpc} is chain ${chainId}; the deployment is on chain ${deployment.chainId}`);
  }
  const local = chainId === ANVIL_CHAIN_ID;
  const mine = local
    ? async () => {
        await createTestClient({ chain, mode: 'anvil', transport: http(rpc) }).mine({ blocks: 1 });
      }
    : undefined;

  if (window.ethereum) {
    // A wallet extension signs; it must be on the same chain as the RPC the page reads.
    const walletClient = createWalletClient({ chain, transport: custom(window.ethereum) });
    const [account] = await walletClient.requestAddresses();
    if ((await walletClient.getChainId()) !== chainId) await walletClient.switchChain({ id: chainId });
    return { chain, rpc, publicClient, walletClient, account, kind: 'injected', mine };
  }
  if (local) {
    // No extension on a local chain: sign in the page with one of anvil's public dev keys.
    const account = privateKeyToAccount(DEV_KEYS[accountIndex]);
    const walletClient = createWalletClient({ account, chain, transport: http(rpc) });
    return { chain, rpc, publicClient, walletClient, account: account.address, kind: 'local', accountIndex, mine };
  }
  return { chain, rpc, publicClient, kind: 'read-only' };
}
