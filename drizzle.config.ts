import { defineConfig } from 'drizzle-kit';

// The embedded SQLite schema; the MariaDB one is drizzle.mysql.config.ts (same tables, see
// src/db/schema-mysql.ts). `npm run db:generate` writes both.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.ts',
  out: './migrations/sqlite',
});
