/**
 * `bounce-guard maintain --db <url>`: the events table's upkeep, once: roll the events up into the
 * hourly per-provider counts, then delete the rolled-up events older than `--retention-days`
 * (30 by default). Run it from cron (hourly or daily) when `bounce-guard serve` is not running;
 * suppressions, recipient state and retry jobs are never touched.
 */
import { BounceGuardError } from '@bounce-guard/core'
import type { Command } from 'commander'
import { action } from '../lib/errors.js'
import { DEFAULT_RETENTION_DAYS, parseRetentionDays, runMaintenance } from '../lib/maintenance.js'
import { openStore } from '../lib/open-store.js'
import { addDbOption, dbUrl } from '../lib/options.js'
import { sqlStoreOf } from '../lib/sql-store.js'
import { parseDuration } from '../lib/time.js'

/** Register `maintain`. */
export function register(program: Command): void {
  addDbOption(program.command('maintain'))
    .description('roll events up into hourly per-provider counts, then delete raw events older than the retention')
    .option('--retention-days <days>', 'keep raw events this many days (1-36500), or never', String(DEFAULT_RETENTION_DAYS))
    .option(
      '--settle <duration>',
      'on PostgreSQL and MySQL, how long to wait for writes in flight before counting the newest events (0s: do not wait; default: the store default, 30s)',
    )
    .option('--no-prune', 'roll up only, delete nothing')
    .option('--json', 'print the result as JSON', false)
    .action(
      action(async (opts: { db?: string; retentionDays: string; settle?: string; prune: boolean; json: boolean }) => {
        const retentionMs = parseRetentionDays(opts.retentionDays)
        let settleMs: number | undefined
        if (opts.settle !== undefined) {
          settleMs = parseDuration(opts.settle)
          if (settleMs === undefined)
            throw new BounceGuardError(
              'EINVALID_OPTION',
              `@bounce-guard/cli: --settle ${JSON.stringify(opts.settle)} is not a duration (0s, 30s, 2m)`,
            )
        }
        const db = await openStore(dbUrl(opts))
        try {
          const sql = sqlStoreOf(db.store)
          if (!sql) throw new BounceGuardError('EINVALID_OPTION', '@bounce-guard/cli: maintain needs a TypeORM store')
          const r = await runMaintenance(sql, {
            retentionMs,
            prune: opts.prune,
            waitForPending: true,
            ...(settleMs === undefined ? {} : { settleMs }),
          })
          const where = db.target.kind === 'sqlite' ? db.target.url : db.target.display
          if (opts.json) {
            const out = {
              database: where,
              retentionDays: Number.isFinite(retentionMs) ? retentionMs / 86_400_000 : null,
              rolledUp: r.rolledUp,
              rollupMark: r.eventId,
              ...(r.pendingEventId === undefined ? {} : { pendingEventId: r.pendingEventId }),
              pruned: r.pruned,
              olderThan: r.olderThan?.toISOString() ?? null,
            }
            process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
            return
          }
          const n = (x: number) => x.toLocaleString('en')
          let out = `${where}: rolled up ${n(r.rolledUp)} event${r.rolledUp === 1 ? '' : 's'} into the hourly counts (mark: event id ${r.eventId})\n`
          if (r.pendingEventId !== undefined) out += `  events up to id ${r.pendingEventId} will be rolled up by the next run\n`
          if (r.olderThan)
            out += `pruned ${n(r.pruned)} event${r.pruned === 1 ? '' : 's'} older than ${r.olderThan.toISOString()} (retention ${retentionMs / 86_400_000} days)\n`
          else out += `pruned nothing (${opts.prune ? 'retention: never' : '--no-prune'})\n`
          process.stdout.write(out)
        } finally {
          await db.close()
        }
      }),
    )
}
