#!/usr/bin/env node
// Compiles contracts/src/*.sol with the pinned solc-js and writes contracts/build/<Name>.json
// (ABI, bytecode, compiler version, settings, source hashes). `--check` compiles in memory and
// exits 1 when the committed artifacts differ from what the sources produce.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const solc = require('solc');

const SRC = path.join(__dirname, 'src');
const OUT = path.join(__dirname, 'build');
const CONTRACTS = ['DstackKms', 'DstackApp'];
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.methodIdentifiers'] } },
};

function sources() {
  const out = {};
  for (const f of fs.readdirSync(SRC).filter((f) => f.endsWith('.sol')).sort()) {
    out[f] = { content: fs.readFileSync(path.join(SRC, f), 'utf8') };
  }
  return out;
}

function build() {
  const srcs = sources();
  const input = { language: 'Solidity', sources: srcs, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = (output.errors || []).filter((e) => e.severity === 'error' || e.severity === 'warning');
  if (problems.length) {
    for (const p of problems) console.error(p.formattedMessage);
    process.exit(2);
  }
  const sourceHashes = {};
  for (const [f, s] of Object.entries(srcs)) {
    sourceHashes[f] = crypto.createHash('sha256').update(s.content, 'utf8').digest('hex');
  }
  const artifacts = {};
  for (const name of CONTRACTS) {
    const c = output.contracts[`${name}.sol`][name];
    artifacts[name] = JSON.stringify(
      {
        contractName: name,
        compiler: `solc-js ${solc.version()}`,
        settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
        sourceHashes,
        methodIdentifiers: c.evm.methodIdentifiers,
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      },
      null,
      2,
    ) + '\n';
  }
  return artifacts;
}

const artifacts = build();
if (process.argv.includes('--check')) {
  let stale = [];
  for (const [name, text] of Object.entries(artifacts)) {
    const file = path.join(OUT, `${name}.json`);
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) stale.push(file);
  }
  if (stale.length) {
    console.error(`stale contract artifacts (run: npm run compile --prefix auth-eth): ${stale.join(', ')}`);
    process.exit(1);
  }
  console.log(`contract artifacts match the sources (solc-js ${solc.version()})`);
} else {
  fs.mkdirSync(OUT, { recursive: true });
  for (const [name, text] of Object.entries(artifacts)) fs.writeFileSync(path.join(OUT, `${name}.json`), text);
  console.log(`wrote ${Object.keys(artifacts).map((n) => `build/${n}.json`).join(', ')} with solc-js ${solc.version()}`);
}
