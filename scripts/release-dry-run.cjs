#!/usr/bin/env node
/*
 * `pnpm release:dry-run`: what a release would publish, publishing nothing and changing no file here.
 *
 * A release is `pnpm changeset version` (versions bumped and CHANGELOG.md entries written from the notes
 * in .changeset/, each package on its own version) and then `pnpm release` (`changeset publish`). This
 * runs the first step in a temporary copy of the workspace's manifests, changelogs and notes, prints
 * each package's version before and after and the entries its CHANGELOG.md would gain, and lists what
 * each publishable package's tarball holds (`pnpm pack --dry-run`, offline).
 *
 * It also checks the release set-up: every publishable package is one of the libraries (the apps and
 * tooling are private), has a README.md and a CHANGELOG.md, versions are independent (no `fixed` or
 * `linked` groups) and private packages are neither versioned nor published. Records its counts in
 * PAY_TEST_RESULTS_DIR.
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { LIBRARIES, ROOT, run, writeResults } = require('./check-packages.cjs');

const WORKSPACE_FOLDERS = ['packages', 'apps', 'tooling'];
const CHANGESET_BIN = path.join(ROOT, 'node_modules', '@changesets', 'cli', 'bin.js');

/** Every workspace package: folder, name, version, private. */
function workspacePackages() {
  const found = [];
  for (const parent of WORKSPACE_FOLDERS) {
    for (const entry of fs.readdirSync(path.join(ROOT, parent))) {
      const manifest = path.join(ROOT, parent, entry, 'package.json');
      if (fs.existsSync(manifest)) {
        const { name, version, private: isPrivate } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
        found.push({ folder: path.join(parent, entry), name, version, private: isPrivate === true });
      }
    }
  }
  return found;
}

/** Runs `changeset version` on a copy; returns each package's new version and its changelog's new text. */
function planRelease(packages) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-release-'));
  try {
    for (const file of ['package.json', 'pnpm-workspace.yaml']) {
      fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
    }
    fs.cpSync(path.join(ROOT, '.changeset'), path.join(dir, '.changeset'), { recursive: true });
    for (const pkg of packages) {
      fs.mkdirSync(path.join(dir, pkg.folder), { recursive: true });
      for (const file of ['package.json', 'CHANGELOG.md']) {
        const source = path.join(ROOT, pkg.folder, file);
        if (fs.existsSync(source)) {
          fs.copyFileSync(source, path.join(dir, pkg.folder, file));
        }
      }
    }
    const version = run(process.execPath, [CHANGESET_BIN, 'version'], { cwd: dir });
    if (version.status !== 0) {
      throw new Error(`changeset version failed:\n${version.output}`);
    }
    const plan = new Map();
    for (const pkg of packages) {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, pkg.folder, 'package.json'), 'utf8'));
      const before = readOr(path.join(ROOT, pkg.folder, 'CHANGELOG.md'));
      const after = readOr(path.join(dir, pkg.folder, 'CHANGELOG.md'));
      plan.set(pkg.name, { newVersion: manifest.version, changelogAdded: added(before, after) });
    }
    return plan;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function readOr(file) {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/** The lines `after` has that `before` had not (changesets inserts below the title). */
function added(before, after) {
  const old = new Set(before.split('\n'));
  return after.split('\n').filter((line) => line.trim() !== '' && !old.has(line));
}

/** The files `pnpm pack --dry-run` would put in the tarball, or throws. */
function tarballFiles(folder) {
  const pack = run('pnpm', ['pack', '--dry-run'], { cwd: path.join(ROOT, folder) });
  if (pack.status !== 0) {
    throw new Error(`pnpm pack --dry-run failed in ${folder}:\n${pack.output}`);
  }
  const lines = pack.output.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Tarball Contents'));
  const end = lines.findIndex((line) => line.startsWith('Tarball Details'));
  return lines.slice(start + 1, end === -1 ? undefined : end).filter((line) => line.trim() !== '');
}

function releaseDryRun() {
  let passed = 0;
  let failed = 0;
  const check = (ok, what) => {
    if (ok) {
      passed += 1;
      process.stdout.write(`ok   ${what}\n`);
    } else {
      failed += 1;
      process.stdout.write(`FAIL ${what}\n`);
    }
  };

  const config = JSON.parse(fs.readFileSync(path.join(ROOT, '.changeset', 'config.json'), 'utf8'));
  const packages = workspacePackages();
  const publishable = packages.filter((pkg) => !pkg.private);
  const privateNames = packages.filter((pkg) => pkg.private).map((pkg) => pkg.name);
  check(
    config.fixed.length === 0 && config.linked.length === 0,
    'versions are independent (.changeset/config.json: no fixed or linked groups)',
  );
  check(
    JSON.stringify(publishable.map((p) => p.name).sort()) === JSON.stringify(Object.keys(LIBRARIES).sort()),
    `the publishable packages are the libraries: ${publishable.map((p) => p.name).join(', ')}`,
  );
  check(
    config.privatePackages?.version === false,
    `private packages (${privateNames.join(', ')}) are not versioned (privatePackages.version: false)`,
  );

  const plan = planRelease(packages);
  process.stdout.write('\nWould publish (`pnpm changeset version`, then `pnpm release`):\n');
  for (const pkg of publishable) {
    const { newVersion, changelogAdded } = plan.get(pkg.name);
    const files = tarballFiles(pkg.folder);
    const moved =
      newVersion === pkg.version ? `${pkg.version} (unchanged)` : `${pkg.version} → ${newVersion}`;
    process.stdout.write(`\n${pkg.name} ${moved}, ${files.length} files in the tarball\n`);
    for (const line of changelogAdded) {
      process.stdout.write(`  | ${line}\n`);
    }
    check(fs.existsSync(path.join(ROOT, pkg.folder, 'CHANGELOG.md')), `${pkg.name} has a CHANGELOG.md`);
    check(files.includes('README.md'), `${pkg.name}'s tarball holds its README.md`);
  }
  for (const pkg of packages.filter((p) => p.private)) {
    const { newVersion } = plan.get(pkg.name);
    check(newVersion === pkg.version, `${pkg.name} is private: not versioned, not published`);
  }
  process.stdout.write(`release-dry-run: ${passed} passed, ${failed} failed; nothing was published\n`);
  return { passed, failed };
}

if (require.main === module) {
  let counts;
  try {
    counts = releaseDryRun();
  } catch (error) {
    process.stdout.write(`FAIL release-dry-run: ${error instanceof Error ? error.message : String(error)}\n`);
    counts = { passed: 0, failed: 1 };
  }
  writeResults('release-dry-run', counts.passed, counts.failed);
  process.exitCode = counts.failed === 0 ? 0 : 1;
}
