// Copies the repository's top-level migrations/ into this package (packages/db/migrations, gitignored),
// so the published @pay/db ships the SQL its migrator applies. Run by `pnpm build` after tsc.
const fs = require('node:fs');
const path = require('node:path');

const source = path.resolve(__dirname, '../../../migrations');
const target = path.resolve(__dirname, '../migrations');

if (!fs.existsSync(path.join(source, 'meta', '_journal.json'))) {
  console.error(`copy-migrations: no drizzle journal at ${source}/meta/_journal.json`);
  process.exit(1);
}
// Replace, not merge: a migration deleted or renamed in the repository must not linger in the package.
fs.rmSync(target, { recursive: true, force: true });
fs.cpSync(source, target, { recursive: true });
const count = JSON.parse(fs.readFileSync(path.join(target, 'meta', '_journal.json'), 'utf8')).entries.length;
console.error(`copy-migrations: ${count} migrations -> ${path.relative(process.cwd(), target) || '.'}`);
