// Installs forge-std for forge at lib/forge-std/src (git-ignored), from the copy the npm toolchain ships
// (@layerzerolabs/toolbox-foundry, pinned by package-lock.json). `npm ci` runs it (postinstall).
//
// Why not use the npm copy as it is: under solc 0.8.37 forge-std 1.9.7 raises about a thousand deprecation
// warnings (698 `/// @solidity memory-safe-assembly` comments, 58 parameters named `error`, 9 `pragma
// experimental ABIEncoderV2`). solc reports only the first 256 warnings of a compilation, so ours were cut
// off: a warning in our own test files never reached the screen. The three rewrites below are exactly the
// ones solc suggests, and none changes what is compiled:
//   - the comment becomes the `assembly ("memory-safe")` annotation it stands for;
//   - `error` parameters of the Vm interface are renamed (names of interface parameters are not ABI);
//   - the pragma is dropped (ABI coder v2 is the default since 0.8.0).
// Each rewrite must find what it expects, so a different forge-std fails here instead of compiling with
// some warnings left.
import {cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync} from "node:fs";
import {dirname, join, relative} from "node:path";
import {fileURLToPath} from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const source = join(root, "node_modules", "@layerzerolabs", "toolbox-foundry", "lib", "forge-std");
const target = join(root, "lib", "forge-std");
const expectedVersion = "1.9.7";

function fail(message) {
    console.error(`tools/forge-std/install.mjs: ${message}`);
    process.exit(1);
}

if (!existsSync(join(source, "package.json"))) {
    fail(`forge-std not found at ${relative(root, source)}: run \`npm ci\` in ${root} first`);
}
const version = JSON.parse(readFileSync(join(source, "package.json"), "utf8")).version;
if (version !== expectedVersion) {
    fail(`expected forge-std ${expectedVersion} in the npm toolchain, found ${version}: review the rewrites`);
}

function solidityFiles(dir) {
    return readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) return solidityFiles(path);
        return name.endsWith(".sol") ? [path] : [];
    });
}

const rewrites = [
    {
        what: "`/// @solidity memory-safe-assembly` comments",
        files: /./,
        pattern: /^([ \t]*)\/\/\/ @solidity memory-safe-assembly\n[ \t]*assembly \{/gm,
        replacement: '$1assembly ("memory-safe") {',
        expected: 698,
    },
    {
        what: "Vm parameters named `error`",
        files: /^Vm\.sol$/,
        pattern: /\b(calldata|memory) error\b/g,
        replacement: "$1 errorMessage",
        expected: 58,
    },
    {
        what: "`pragma experimental ABIEncoderV2`",
        files: /./,
        pattern: /^pragma experimental ABIEncoderV2;\n/gm,
        replacement: "",
        expected: 9,
    },
];

rmSync(target, {recursive: true, force: true});
mkdirSync(target, {recursive: true});
cpSync(source, join(target, "src"), {recursive: true});

const found = rewrites.map(() => 0);
for (const file of solidityFiles(join(target, "src"))) {
    const name = relative(join(target, "src"), file);
    let text = readFileSync(file, "utf8");
    rewrites.forEach((rewrite, i) => {
        if (!rewrite.files.test(name)) return;
        text = text.replace(rewrite.pattern, (_, group = "") => {
            found[i] += 1;
            return rewrite.replacement.replace("$1", group);
        });
    });
    if (/@solidity memory-safe-assembly/.test(text)) fail(`${name}: a memory-safe comment is not above an assembly block`);
    writeFileSync(file, text);
}
rewrites.forEach((rewrite, i) => {
    if (found[i] !== rewrite.expected) {
        fail(`expected ${rewrite.expected} ${rewrite.what} in forge-std ${version}, rewrote ${found[i]}`);
    }
});
writeFileSync(join(target, "VERSION"), `forge-std ${version} from ${relative(root, source)}, rewritten by tools/forge-std/install.mjs\n`);
console.log(`forge-std ${version} installed at ${relative(root, target)}/src (${found.reduce((a, b) => a + b)} deprecations rewritten)`);
