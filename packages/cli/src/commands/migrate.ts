/**
 * `bounce-guard migrate --db <url>`: create or upgrade the store's tables by running the TypeORM
 * store's migrations. Safe to run again: applied migrations are skipped.
 */
import type { Command } from 'commander'
import { action } from '../lib/errors.js'
import { addDbOption, dbUrl } from '../lib/options.js'
import { migrateDatabase } from '../lib/open-store.js'

/** Register `migrate`. */
export function register(program: Command): void {
  addDbOption(program.command('migrate'))
    .description("run the store's pending migrations (creates the tables on a new database)")
    .option('--json', 'print the result as JSON', false)
    .action(
      action(async (opts: { db?: string; json: boolean }) => {
        const { target, applied } = await migrateDatabase(dbUrl(opts))
        const where = target.kind === 'sqlite' ? target.url : target.display
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ database: where, applied }, null, 2)}\n`)
        } else if (applied.length === 0) {
          process.stdout.write(`${where}: up to date, no migration to run\n`)
        } else {
          process.stdout.write(
            `${where}: applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:\n${applied.map((n) => `  ${n}\n`).join('')}`,
          )
        }
      }),
    )
}
