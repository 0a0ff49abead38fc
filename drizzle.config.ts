import { defineConfig } from 'drizzle-kit';

// `drizzle-kit generate` writes SQL into the top-level migrations/ folder, which is committed and
// applied by @pay/db's migrator to PostgreSQL and PGlite alike. Nothing uses `push`.
export default defineConfig({
  dialect: 'postgresql',
  schema: './packages/db/src/schema/*.ts',
  out: './migrations',
  casing: 'snake_case',
  schemaFilter: ['pay'],
  migrations: { schema: 'pay', table: '__migrations' },
});
