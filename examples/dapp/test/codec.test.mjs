// The page's codec against the shared fixtures: the same prompts, aigcData and unpacked values as the
// Python, Rust and Solidity sides (docs/encodings.md).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  aigcDataFromOutputs,
  argmax,
  artifactUse,
  decodePrompt,
  inputsFromPrompt,
  mintArguments,
  outputsFromAigcData,
  parseArtifact,
  promptFromInputs,
  PromptError,
  section,
  unpackSection,
} from '../src/codec.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const readJson = (path) => JSON.parse(readFileSync(join(repo, path), 'utf8'));
const encodings = readJson('test/fixtures/encodings/pixel-art.json');

test('prompt <-> inputs and outputs <-> aigcData match every fixture case', () => {
  assert.ok(encodings.cases.length >= 5);
  for (const c of encodings.cases) {
    assert.equal(promptFromInputs(c.inputs, encodings.scale), c.prompt, c.name);
    assert.deepEqual(inputsFromPrompt(c.prompt, encodings.scale), c.inputs, c.name);
    assert.equal(aigcDataFromOutputs(c.outputs), c.aigcData, c.name);
    assert.deepEqual(outputsFromAigcData(c.aigcData), c.outputs, c.name);
  }
});

test('an invalid prompt is refused naming the fixture byte', () => {
  for (const e of encodings.errors) {
    assert.throws(() => decodePrompt(e.prompt), (err) => err instanceof PromptError && err.byte === e.byte, e.name);
  }
});

test('inputs that are not a prompt are refused', () => {
  const inputs = [...encodings.cases[0].inputs];
  inputs[1] = 4096; // two classes
  assert.throws(() => promptFromInputs(inputs, 12), /one-hot/);
  const half = [...encodings.cases[0].inputs];
  half[10] = 128; // half a latent step
  assert.throws(() => promptFromInputs(half, 12), /input 10/);
});

test('the pixel-art fixture proof mints the prompt the Rust CLI derives', () => {
  const artifact = parseArtifact(readJson('test/fixtures/pixel-art/proof.json'));
  const cli = readJson('test/fixtures/pixel-art/input.json');
  assert.equal(artifactUse(artifact), 'nft');
  const inputs = unpackSection(artifact.instances, section(artifact, 'inputs'));
  assert.deepEqual(inputs.map(Number), cli.quantized[0]);
  const outputs = unpackSection(artifact.instances, section(artifact, 'outputs'));
  assert.deepEqual(outputs.map(Number), artifact.outputs_quantized);
  const { prompt, aigcData } = mintArguments(artifact);
  assert.equal(prompt, '0x0310f00000');
  assert.equal(prompt, cli.source.prompt);
  assert.equal((aigcData.length - 2) / 2, 256);
  assert.deepEqual(outputsFromAigcData(aigcData), artifact.outputs_quantized);
});

test('the eth-price fixture proof unpacks to its feed window and a bucket', () => {
  const artifact = parseArtifact(readJson('test/fixtures/eth-price/proof.json'));
  const cli = readJson('test/fixtures/eth-price/input.json');
  assert.equal(artifactUse(artifact), 'vault');
  const inputs = unpackSection(artifact.instances, section(artifact, 'inputs'));
  assert.deepEqual(inputs.map(Number), cli.quantized[0]);
  const outputs = unpackSection(artifact.instances, section(artifact, 'outputs'));
  assert.deepEqual(outputs.map(Number), artifact.outputs_quantized);
  assert.equal(argmax([1, 5, 5, 2]), 1); // ties go to the first maximum, as the vault's
  assert.equal(argmax(artifact.outputs_quantized), 3);
});

test('an artifact of another format is refused by name', () => {
  assert.throws(() => parseArtifact({ format: 'zkml-eth-aggregated/1' }), /not "zkml-eth-proof\/1"/);
  assert.throws(() => parseArtifact(null), /not a JSON object/);
});
