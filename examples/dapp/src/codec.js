// The encodings between a proof artifact (what `zkml-eth prove` writes) and what the contracts take:
// docs/pipeline.md "Public layout" for the packed instances, docs/encodings.md for the pixel-art prompt and
// aigcData. Plain JavaScript with JSDoc types (checked by tsc) so that `node --test` can import it as it is,
// without a build; the page imports it like any TypeScript module.

/** The proof artifact format this page understands. */
export const ARTIFACT_FORMAT = 'zkml-eth-proof/1';
/** Prompt length in bytes: the class byte, then four signed latent bytes. */
export const PROMPT_BYTES = 5;
/** Pixel-art model inputs: a one-hot class of 10, then 4 latents. */
export const PIXEL_ART_INPUTS = 14;
/** Pixel-art model outputs: the 8x8 image, row-major. */
export const PIXEL_ART_OUTPUTS = 64;
const CLASSES = 10;
const LATENTS = 4;
/** A latent byte `z` enters the model as `z / 16`, i.e. `z * 2^(S-4)` quantized. */
const LATENT_SHIFT = 4;

/**
 * @typedef {{ kind: string, offset: number, elements: number, values: number, width: number, scales?: number[] }} Section
 * @typedef {{ packed_bits: number, sections: Section[], num_instances: number, visibility?: Record<string, string> }} Layout
 * @typedef {{ format: string, model_dir: string, model_commitment: string, layout: Layout,
 *             outputs: number[], outputs_quantized: number[], instances: string[], proof: string }} Artifact
 */

/**
 * Checks that `json` is a single-proof artifact and returns it typed.
 * @param {unknown} json The parsed file.
 * @returns {Artifact}
 */
export function parseArtifact(json) {
  const a = /** @type {Artifact} */ (json);
  if (typeof a !== 'object' || a === null) throw new Error('not a JSON object');
  if (a.format !== ARTIFACT_FORMAT) {
    throw new Error(`format is ${JSON.stringify(a.format)}, not "${ARTIFACT_FORMAT}" (a single proof made by \`zkml-eth prove\`)`);
  }
  for (const key of ['model_dir', 'model_commitment', 'layout', 'outputs_quantized', 'instances', 'proof']) {
    if (!(key in a)) throw new Error(`the artifact has no "${key}"`);
  }
  if (!/^0x([0-9a-fA-F]{2})*$/.test(a.proof)) throw new Error('"proof" is not 0x-prefixed hex');
  return a;
}

/**
 * The section of `kind` ("inputs" or "outputs") of an artifact's layout.
 * @param {Artifact} artifact
 * @param {string} kind
 * @returns {Section}
 */
export function section(artifact, kind) {
  const found = artifact.layout.sections.find((s) => s.kind === kind);
  if (!found) throw new Error(`the proof has no public ${kind} section`);
  return found;
}

/**
 * Unpacks a public section's values from the instances: `floor(packedBits / W)` values per field element,
 * value `i` in bits `[W*i, W*(i+1))` stored as `v + 2^(W-1)`.
 * @param {string[]} instances The instance words, 0x hex.
 * @param {Section} sec The section.
 * @param {number} [packedBits] Bits used per field element (the layout's `packed_bits`, 252).
 * @returns {bigint[]} The signed values.
 */
export function unpackSection(instances, sec, packedBits = 252) {
  const width = BigInt(sec.width);
  const perElement = Math.floor(packedBits / sec.width);
  const mask = (1n << width) - 1n;
  const bias = 1n << (width - 1n);
  /** @type {bigint[]} */
  const values = [];
  for (let i = 0; i < sec.values; i++) {
    const word = instances[sec.offset + Math.floor(i / perElement)];
    if (word === undefined) throw new Error(`instance ${sec.offset + Math.floor(i / perElement)} is missing`);
    const slot = BigInt(i % perElement) * width;
    values.push(((BigInt(word) >> slot) & mask) - bias);
  }
  return values;
}

/**
 * The 5-byte prompt whose model inputs are `inputs` (one-hot class at `2^S`, then `z_j * 2^(S-4)`).
 * @param {readonly (bigint | number)[]} inputs The 14 quantized inputs.
 * @param {number} scale The input scale `S`.
 * @returns {`0x${string}`} The prompt, hex.
 */
export function promptFromInputs(inputs, scale) {
  if (inputs.length !== PIXEL_ART_INPUTS) {
    throw new Error(`${inputs.length} inputs, a pixel-art prompt has ${PIXEL_ART_INPUTS}`);
  }
  const v = inputs.map(BigInt);
  const one = 1n << BigInt(scale);
  const hot = v.slice(0, CLASSES).flatMap((x, i) => (x === 0n ? [] : [[i, x]]));
  if (hot.length !== 1 || hot[0][1] !== one) {
    throw new Error(`inputs 0..9 are not a one-hot class at 2^${scale}: ${v.slice(0, CLASSES).join(', ')}`);
  }
  const step = 1n << BigInt(scale - LATENT_SHIFT);
  const bytes = [Number(hot[0][0])];
  for (let j = 0; j < LATENTS; j++) {
    const x = v[CLASSES + j];
    const z = x / step;
    if (z * step !== x || z < -128n || z > 127n) {
      throw new Error(`input ${CLASSES + j} (${x}) is not a latent byte times 2^${scale - LATENT_SHIFT}`);
    }
    bytes.push(Number(BigInt.asUintN(8, z)));
  }
  return toHex(bytes);
}

/**
 * Decodes a prompt into its class and latents; an invalid prompt is an error naming the byte at fault.
 * @param {string} prompt 0x hex.
 * @returns {{ digit: number, latents: number[] }}
 */
export function decodePrompt(prompt) {
  const bytes = fromHex(prompt);
  if (bytes.length !== PROMPT_BYTES) {
    throw new PromptError(`a prompt is ${PROMPT_BYTES} bytes, this one ${bytes.length}`, bytes.length);
  }
  if (bytes[0] >= CLASSES) throw new PromptError(`byte 0 (class) is ${bytes[0]}, above 9`, 0);
  return { digit: bytes[0], latents: [...bytes.slice(1)].map((b) => (b << 24) >> 24) };
}

/** An invalid prompt; `byte` is the offending byte's index (for a wrong length, the length). */
export class PromptError extends Error {
  /** @param {string} message @param {number} byte */
  constructor(message, byte) {
    super(message);
    this.byte = byte;
  }
}

/**
 * The model's quantized inputs for a prompt (the inverse of `promptFromInputs`).
 * @param {string} prompt 0x hex.
 * @param {number} scale The input scale `S`.
 * @returns {number[]}
 */
export function inputsFromPrompt(prompt, scale) {
  const { digit, latents } = decodePrompt(prompt);
  const inputs = new Array(CLASSES).fill(0);
  inputs[digit] = 2 ** scale;
  return [...inputs, ...latents.map((z) => z * 2 ** (scale - LATENT_SHIFT))];
}

/**
 * aigcData: each quantized output as a 4-byte big-endian two's-complement integer (256 bytes for 64).
 * @param {readonly (bigint | number)[]} outputs The quantized outputs.
 * @returns {`0x${string}`}
 */
export function aigcDataFromOutputs(outputs) {
  const bytes = [];
  for (const o of outputs) {
    const x = BigInt(o);
    if (x < -(1n << 31n) || x >= 1n << 31n) throw new Error(`output ${x} does not fit 4 bytes`);
    const u = BigInt.asUintN(32, x);
    for (let shift = 24n; shift >= 0n; shift -= 8n) bytes.push(Number((u >> shift) & 0xffn));
  }
  return toHex(bytes);
}

/**
 * Reads aigcData back into the quantized outputs.
 * @param {string} data 0x hex, a multiple of 4 bytes.
 * @returns {number[]}
 */
export function outputsFromAigcData(data) {
  const bytes = fromHex(data);
  if (bytes.length % 4 !== 0) throw new Error(`aigcData is ${bytes.length} bytes, not a multiple of 4`);
  const out = [];
  for (let i = 0; i < bytes.length; i += 4) {
    out.push(((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) | 0);
  }
  return out;
}

/** The vault model's buckets, in output order. */
export const BUCKETS = ['strong sell', 'sell', 'hold', 'buy', 'strong buy'];

/**
 * The predicted bucket: the first largest logit, as the vault's `_argmax`.
 * @param {readonly (bigint | number)[]} outputs
 * @returns {number}
 */
export function argmax(outputs) {
  let best = 0;
  for (let i = 1; i < outputs.length; i++) if (BigInt(outputs[i]) > BigInt(outputs[best])) best = i;
  return best;
}

/**
 * What an artifact can be used for here: the NFT takes a pixel-art proof (14 public inputs, 64 public
 * outputs), the vault an eth-price proof (5 public outputs; its inputs come from the vault's feed).
 * @param {Artifact} artifact
 * @returns {'nft' | 'vault' | 'other'}
 */
export function artifactUse(artifact) {
  const inputs = artifact.layout.sections.find((s) => s.kind === 'inputs');
  const outputs = artifact.layout.sections.find((s) => s.kind === 'outputs');
  if (inputs?.values === PIXEL_ART_INPUTS && outputs?.values === PIXEL_ART_OUTPUTS) return 'nft';
  if (outputs?.values === BUCKETS.length) return 'vault';
  return 'other';
}

/**
 * The prompt and aigcData a pixel-art proof mints with.
 * @param {Artifact} artifact
 * @returns {{ prompt: `0x${string}`, aigcData: `0x${string}` }}
 */
export function mintArguments(artifact) {
  const inputs = section(artifact, 'inputs');
  const scale = inputs.scales?.[0];
  if (scale === undefined) throw new Error('the input section has no scale');
  const values = unpackSection(artifact.instances, inputs, artifact.layout.packed_bits);
  return { prompt: promptFromInputs(values, scale), aigcData: aigcDataFromOutputs(artifact.outputs_quantized) };
}

/**
 * @param {number[]} bytes
 * @returns {`0x${string}`}
 */
function toHex(bytes) {
  return `0x${bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * @param {string} hex
 * @returns {Uint8Array}
 */
function fromHex(hex) {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`not 0x-prefixed hex: ${hex.slice(0, 20)}`);
  const bytes = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return bytes;
}
