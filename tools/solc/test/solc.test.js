// Tests of the solc shim against the calls forge and snark-verifier make. Run: node --test tools/solc/test/
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SOLC = path.resolve(__dirname, '..', 'solc');
const PKG_VERSION = require('solc/package.json').version;

const GOOD = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract Answer { function get() external pure returns (uint256) { return 42; } }
`;
const BROKEN = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract Broken { function f() external { undeclared = 1; } }
`;

function solc(args, input, options = {}) {
  const r = spawnSync(SOLC, args, { input, encoding: 'utf8', ...options });
  if (r.error) throw r.error;
  return r;
}

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'solc-shim-'));
}

test('--version prints a last line forge can parse', () => {
  const r = solc(['--version']);
  assert.equal(r.status, 0);
  const last = r.stdout.trim().split('\n').at(-1);
  const m = /^Version: (\d+\.\d+\.\d+)\+commit\.([0-9a-f]{8})(\.[\w.+-]+)?$/.exec(last);
  assert.ok(m, `unparsable version line: ${last}`);
  assert.equal(m[1], PKG_VERSION);
});

test('--bin - prints bytecode as the last token, in native block format', () => {
  const r = solc(['--bin', '-'], GOOD);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\n======= <stdin>:Answer =======\nBinary:\n/);
  const token = r.stdout.trim().split(/\s+/).at(-1);
  assert.match(token, /^(?:[0-9a-f]{2})+$/, 'bytecode is even-length lowercase hex');
  assert.ok(token.startsWith('6080'), 'creation code starts with the free memory pointer setup');
});

test('--optimize and --evm-version reach the compiler', () => {
  const plain = solc(['--bin', '-'], GOOD).stdout.trim().split(/\s+/).at(-1);
  const optimized = solc(['--optimize', '--optimize-runs', '1', '--bin', '-'], GOOD).stdout.trim().split(/\s+/).at(-1);
  assert.notEqual(plain, optimized);
  const bad = solc(['--evm-version', 'not-a-fork', '--bin', '-'], GOOD);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /Invalid EVM version/);
});

test('a compile error exits non-zero with the message on stderr and nothing on stdout', () => {
  const r = solc(['--bin', '-'], BROKEN);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /DeclarationError: Undeclared identifier/);
  assert.match(r.stderr, /<stdin>:3:/, 'the location is reported');
  assert.equal(r.stdout, '');
});

test('an unknown option is refused, never ignored', () => {
  const r = solc(['--no-such-flag', '--bin', '-'], GOOD);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unrecognised option '--no-such-flag'/);
});

test('--bin reads files and reports a missing one', () => {
  const dir = tempDir();
  const file = path.join(dir, 'Answer.sol');
  fs.writeFileSync(file, GOOD);
  const r = solc(['--bin', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Answer\.sol:Answer =======/);
  const missing = solc(['--bin', path.join(dir, 'Nope.sol')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /Nope\.sol" is not found/);
});

test('standard JSON round-trips: JSON in, JSON out with ABI and bytecode, exit 0', () => {
  const input = {
    language: 'Solidity',
    sources: { 'src/Answer.sol': { content: GOOD } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'prague',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const r = solc(['--standard-json'], JSON.stringify(input));
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual((out.errors ?? []).filter((e) => e.severity === 'error'), []);
  const artifact = out.contracts['src/Answer.sol'].Answer;
  assert.equal(artifact.abi[0].name, 'get');
  assert.match(artifact.evm.bytecode.object, /^6080/);
  assert.ok(artifact.evm.deployedBytecode.object.length > 0);
  assert.ok(out.sources['src/Answer.sol'], 'source ids are reported, as forge expects');
});

test('standard JSON reports compile errors inside the JSON with exit 0, as native solc does', () => {
  const input = {
    language: 'Solidity',
    sources: { 'Broken.sol': { content: BROKEN } },
    settings: { outputSelection: { '*': { '*': ['evm.bytecode.object'] } } },
  };
  const r = solc(['--standard-json'], JSON.stringify(input));
  assert.equal(r.status, 0);
  const out = JSON.parse(r.stdout);
  assert.ok(out.errors.some((e) => e.severity === 'error' && e.type === 'DeclarationError'));
});

test('standard JSON with malformed input answers with a JSON error', () => {
  const r = solc(['--standard-json'], '{ not json');
  assert.equal(r.status, 0);
  const out = JSON.parse(r.stdout);
  assert.ok(out.errors.some((e) => e.severity === 'error'));
});

test('imports resolve under the base path and never outside the allowed paths', () => {
  const root = tempDir();
  fs.mkdirSync(path.join(root, 'lib'));
  fs.writeFileSync(
    path.join(root, 'lib', 'Lib.sol'),
    '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\nlibrary Lib { function one() internal pure returns (uint256) { return 1; } }\n',
  );
  const outside = tempDir();
  fs.writeFileSync(path.join(outside, 'Secret.sol'), '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\n');

  const importing = (target) => ({
    language: 'Solidity',
    sources: {
      'Main.sol': {
        content: `// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\nimport "${target}";\ncontract Main {}\n`,
      },
    },
    settings: { outputSelection: { '*': { '*': ['evm.bytecode.object'] } } },
  });
  const args = ['--allow-paths', `${root},${path.join(root, 'lib')}`, '--base-path', root, '--standard-json'];

  const ok = JSON.parse(solc(args, JSON.stringify(importing('lib/Lib.sol'))).stdout);
  assert.deepEqual((ok.errors ?? []).filter((e) => e.severity === 'error'), []);
  assert.ok(ok.sources['lib/Lib.sol'], 'the imported unit was read from the base path');

  const denied = JSON.parse(solc(args, JSON.stringify(importing(path.join(outside, 'Secret.sol')))).stdout);
  assert.ok(
    denied.errors.some((e) => e.severity === 'error' && /not found/i.test(e.message)),
    'a file outside the allowed paths is not read',
  );
});

test('--standard-json refuses extra inputs instead of ignoring them', () => {
  const r = solc(['--standard-json', 'File.sol'], '{}');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--standard-json takes its input on stdin/);
});
