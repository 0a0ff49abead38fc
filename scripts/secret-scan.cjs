#!/usr/bin/env node
/*
 * RELIABILITY.md F3: a secret scan over the repository and its build output. Looks for Stripe live
 * secret and restricted keys (`sk_live_…`, `rk_live_…`), webhook signing secrets (`whsec_…`) and PEM
 * private keys in every file git tracks (or would: untracked, not ignored) and in every package's dist/.
 * A hit fails the step unless its file is listed in scripts/secret-scan-allow.txt, the fixtures whose
 * fake secrets tests need (a redaction test must log something that looks like a key).
 *
 * Before scanning, it plants one secret of each kind in a temporary file and checks that each is found,
 * so a broken pattern cannot pass silently. Writes its counts to PAY_TEST_RESULTS_DIR for `npm test`.
 */
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const ALLOW_FILE = path.join(__dirname, 'secret-scan-allow.txt');

// Built from parts so this file itself holds none of them.
const LIVE = ['sk', 'rk'].map((kind) => `${kind}_live_`);
const PATTERNS = [
  { kind: 'Stripe live key', regex: new RegExp(`\\b(?:${LIVE.join('|')})[0-9A-Za-z]{4,}`, 'g') },
  { kind: 'webhook signing secret', regex: new RegExp(`\\b${'whsec'}_[0-9A-Za-z+/=_-]{8,}`, 'g') },
  { kind: 'PEM private key', regex: new RegExp(`-----BEGIN (?:[A-Z]+ )?${'PRIVATE'} KEY-----`, 'g') },
];

const BINARY = /\.(?:png|jpe?g|gif|ico|woff2?|gz|tgz|zip|wasm|data)$/i;

/** Every file of the repository that is not ignored, and every file under a package's dist/. */
function filesToScan() {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
    .split('\0')
    .filter((file) => file !== '');
  const built = [];
  for (const group of ['packages', 'apps', 'tooling']) {
    const groupDir = path.join(ROOT, group);
    if (!fs.existsSync(groupDir)) continue;
    for (const pkg of fs.readdirSync(groupDir)) {
      const dist = path.join(groupDir, pkg, 'dist');
      if (fs.existsSync(dist)) {
        for (const file of fs.readdirSync(dist, { recursive: true })) {
          built.push(path.join(group, pkg, 'dist', String(file)));
        }
      }
    }
  }
  return [...new Set([...listed, ...built])].filter((file) => {
    const full = path.join(ROOT, file);
    return !BINARY.test(file) && fs.existsSync(full) && fs.statSync(full).isFile();
  });
}

/** Each secret-looking match in `text`, by kind; the value itself is never printed whole. */
function findSecrets(text) {
  const found = [];
  for (const { kind, regex } of PATTERNS) {
    for (const match of text.matchAll(regex)) {
      found.push({ kind, preview: `${match[0].slice(0, 10)}…` });
    }
  }
  return found;
}

function readAllowList() {
  return new Set(
    fs
      .readFileSync(ALLOW_FILE, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

/** Plants one secret of each kind and checks the scanner sees each: 0 when it does. */
function selfTest() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-secret-scan-'));
  try {
    const planted = [
      `${LIVE[0]}${'51H'}abcdefghijklmnop`,
      `${LIVE[1]}${'51H'}abcdefghijklmnop`,
      `${'whsec'}_${'0123456789abcdef'}`,
      `-----BEGIN RSA ${'PRIVATE'} KEY-----`,
      `-----BEGIN ${'PRIVATE'} KEY-----`,
    ];
    const file = path.join(dir, 'planted.txt');
    fs.writeFileSync(file, planted.map((secret) => `config = "${secret}"`).join('\n'));
    const missed = planted.filter((secret) => findSecrets(secret).length === 0);
    const total = findSecrets(fs.readFileSync(file, 'utf8')).length;
    if (missed.length > 0 || total !== planted.length) {
      process.stderr.write(`secret-scan: the self-test missed ${missed.length} planted secret(s)\n`);
      return 1;
    }
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function scan() {
  const started = Date.now();
  const allowed = readAllowList();
  const files = filesToScan();
  const hits = [];
  const allowedHits = new Set();
  for (const file of files) {
    const found = findSecrets(fs.readFileSync(path.join(ROOT, file), 'utf8'));
    if (found.length === 0) continue;
    if (allowed.has(file)) {
      allowedHits.add(file);
    } else {
      hits.push(...found.map((hit) => `${file}: ${hit.kind} (${hit.preview})`));
    }
  }
  // An allow-list entry that no longer matches anything is stale: it would hide a future real secret.
  // (A dist/ entry counts only once built.)
  const stale = [...allowed].filter((file) => !allowedHits.has(file) && fs.existsSync(path.join(ROOT, file)));
  for (const hit of hits) process.stderr.write(`secret-scan: ${hit}\n`);
  for (const file of stale) {
    process.stderr.write(
      `secret-scan: ${file} is allow-listed but holds no secret-looking value: remove it\n`,
    );
  }
  process.stdout.write(
    `secret-scan: ${files.length} files scanned in ${Date.now() - started} ms, ` +
      `${hits.length} secret(s) outside the allow-list, ${allowedHits.size} allow-listed fixture file(s)\n`,
  );
  return hits.length + stale.length === 0 ? 0 : 1;
}

if (require.main === module) {
  let passed = 0;
  let failed = 0;
  for (const step of [selfTest, scan]) {
    if (step() === 0) passed++;
    else failed++;
  }
  const dir = process.env.PAY_TEST_RESULTS_DIR;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'secret-scan.json'),
      JSON.stringify({ package: 'secret-scan', passed, failed }),
    );
  }
  process.exitCode = failed === 0 ? 0 : 1;
}
