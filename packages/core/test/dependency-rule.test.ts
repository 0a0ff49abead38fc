import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { ESLint } from 'eslint';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const FIXTURES = path.join(__dirname, 'fixtures/lint');

// ESLint's own CLI with the repository's config, fixtures un-ignored: the rule under test is the one CI runs.
function lintFixture(name: string): { status: number | null; result: ESLint.LintResult } {
  const bin = path.join(path.dirname(require.resolve('eslint/package.json')), 'bin/eslint.js');
  const run = spawnSync(
    process.execPath,
    [bin, '--no-ignore', '--format', 'json', path.join(FIXTURES, name)],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  );
  const [result] = JSON.parse(run.stdout || '[]') as ESLint.LintResult[];
  if (result === undefined) {
    throw new Error(`ESLint returned no result for ${name}: ${run.stderr}`);
  }
  return { status: run.status, result };
}

describe('the dependency rule of DESIGN.md §1, enforced by lint', () => {
  it('fails a core module that imports an I/O library, another pay package or reads process.env', () => {
    const { status, result } = lintFixture('forbidden-imports.ts');
    expect(status).toBe(1);
    const messages = result.messages.map((m) => m.message);
    for (const banned of [
      'express',
      'drizzle-orm/postgres-js',
      'postgres',
      '@electric-sql/pglite',
      'stripe',
      'winston',
      'prom-client',
      'node:fs',
      '@pay/db',
      '@pay/runtime/src/thing',
    ]) {
      expect(messages.some((m) => m.startsWith(`'${banned}' import is restricted`))).toBe(true);
    }
    expect(messages.filter((m) => m.includes('@pay/core imports no I/O library'))).toHaveLength(8);
    expect(messages.some((m) => m.includes("another package's src/"))).toBe(true);
    expect(messages.some((m) => m.startsWith("'process.env' is restricted"))).toBe(true);
  });

  it('passes a core module that keeps to domain code', () => {
    const { status, result } = lintFixture('clean.ts');
    expect(status).toBe(0);
    expect(result.messages).toEqual([]);
  });
});
