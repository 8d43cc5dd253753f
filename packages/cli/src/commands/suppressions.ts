/**
 * `bounce-guard suppressions list|add|remove|import|export`: the suppression list in any store
 * `--db` points at. Import and export stream (CSV or JSON Lines); import is idempotent and reports
 * new, updated, unchanged and rejected rows, with the line number and reason of each rejection.
 */
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import {
  BounceGuardError,
  normalizeDomain,
  tryNormalizeAddress,
  type EventSource,
  type Suppression,
  type SuppressionScope,
} from '@bounce-guard/core'
import { Option, type Command } from 'commander'
import { action, CliError } from '../lib/errors.js'
import { addDbOption, addFilterOptions, checkReason, dbUrl, toFilter, type FilterOptionValues } from '../lib/options.js'
import { openStore } from '../lib/open-store.js'
import { startProgress } from '../lib/progress.js'
import {
  exportSuppressions,
  type FileFormat,
  formatFromName,
  type ImportSummary,
  importSuppressions,
  openInput,
} from '../lib/suppression-io.js'
import { suppressionToJson } from '../lib/suppression-rows.js'
import { formatTable } from '../lib/table.js'
import { parsePointInTime } from '../lib/time.js'

const SOURCES: EventSource[] = ['manual', 'smtp', 'dsn', 'webhook', 'feedback-loop', 'call-time']

function keyOf(input: string, scope?: SuppressionScope): { key: string; scope: SuppressionScope } {
  const s: SuppressionScope = scope ?? (input.includes('@') && !input.startsWith('@') ? 'address' : 'domain')
  const key = s === 'address' ? tryNormalizeAddress(input) : normalizeDomain(input.replace(/^@/, ''))
  if (!key || (s === 'domain' && key.includes('@'))) {
    throw new BounceGuardError(
      'EINVALID_ADDRESS',
      `@bounce-guard/cli: ${JSON.stringify(input)} is not ${s === 'address' ? 'an e-mail address' : 'a domain'}`,
    )
  }
  return { key, scope: s }
}

function date(d: Date | undefined): string {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-'
}

function printSuppressions(items: Suppression[]): void {
  process.stdout.write(
    formatTable(items, [
      { header: 'KEY', value: (s) => s.key },
      { header: 'SCOPE', value: (s) => s.scope },
      { header: 'REASON', value: (s) => s.reason },
      { header: 'SOURCE', value: (s) => s.source },
      { header: 'CREATED', value: (s) => date(s.createdAt) },
      { header: 'EXPIRES', value: (s) => (s.expiresAt ? date(s.expiresAt) : 'never') },
      {
        header: 'RULE',
        value: (s) =>
          (s.ruleId ?? (s.escalated ? '' : undefined)) === undefined
            ? undefined
            : `${s.ruleId ?? ''}${s.escalated ? ' (escalated)' : ''}`.trim(),
      },
      { header: 'DETAIL', value: (s) => s.detail, maxWidth: 60 },
    ]),
  )
}

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0)
      throw new BounceGuardError('EINVALID_OPTION', `@bounce-guard/cli: ${name} must be a whole number >= 0`)
    return n
  }
}

function checkFormat(v: string | undefined, file: string | undefined): FileFormat {
  if (v === undefined) return formatFromName(file)
  const f = v.toLowerCase()
  if (f === 'csv') return 'csv'
  if (f === 'jsonl' || f === 'ndjson' || f === 'json') return 'jsonl'
  throw new BounceGuardError('EINVALID_OPTION', `@bounce-guard/cli: --format must be csv or jsonl, not ${JSON.stringify(v)}`)
}

/** Register `suppressions` and its subcommands. */
export function register(program: Command): void {
  const cmd = program.command('suppressions').description('list, add, remove, import and export suppressed addresses and domains')

  addFilterOptions(addDbOption(cmd.command('list')))
    .description('list the suppression list, oldest first (filters combine)')
    .option('--limit <n>', 'at most this many entries (0 = all)', positiveInt('--limit'), 100)
    .option('--json', 'print a JSON array instead of a table', false)
    .action(
      action(async (opts: FilterOptionValues & { db?: string; limit: number; json: boolean }) => {
        const now = new Date()
        const filter = toFilter(opts, now)
        const db = await openStore(dbUrl(opts))
        try {
          const items: Suppression[] = []
          let cursor: string | undefined
          let more = false
          do {
            const want = opts.limit === 0 ? 1000 : Math.min(1000, opts.limit - items.length)
            const page = await db.store.listSuppressions(filter, { limit: want, ...(cursor ? { cursor } : {}) })
            items.push(...page.items)
            cursor = page.nextCursor
            more = cursor !== undefined && opts.limit !== 0 && items.length >= opts.limit
          } while (cursor && !more)
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(items.map(suppressionToJson), null, 2)}\n`)
          } else {
            printSuppressions(items)
            process.stderr.write(
              `${items.length} entr${items.length === 1 ? 'y' : 'ies'}${more ? ` (more: raise --limit, or use --limit 0)` : ''}\n`,
            )
          }
        } finally {
          await db.close()
        }
      }),
    )

  addDbOption(cmd.command('add'))
    .description('suppress addresses or whole domains (idempotent: an existing entry is updated)')
    .argument('<keys...>', 'addresses (user@example.com) or domains (example.com or @example.com)')
    .option('--reason <reason>', 'why', 'manual')
    .addOption(new Option('--scope <scope>', 'force address or domain (default: guessed from the @)').choices(['address', 'domain']))
    .option('--expires <when>', 'lapse after a duration (30d) or at an ISO date; default: never')
    .option('--detail <text>', 'a note kept with the entry')
    .action(
      action(async (keys: string[], opts: { db?: string; reason: string; scope?: SuppressionScope; expires?: string; detail?: string }) => {
        const now = new Date()
        const reason = checkReason(opts.reason)
        const expiresAt = opts.expires ? parsePointInTime('--expires', opts.expires, now, 'future') : undefined
        const entries = keys.map((k) => keyOf(k, opts.scope))
        const db = await openStore(dbUrl(opts))
        try {
          for (const e of entries) {
            const res = await db.store.suppress({
              ...e,
              reason,
              source: 'manual',
              at: now,
              ...(expiresAt ? { expiresAt } : {}),
              ...(opts.detail ? { detail: opts.detail } : {}),
            })
            process.stdout.write(
              `${res.created ? 'added' : 'updated'} ${e.scope} ${e.key} (${reason}${expiresAt ? `, until ${date(expiresAt)}` : ''})\n`,
            )
          }
        } finally {
          await db.close()
        }
      }),
    )

  addDbOption(cmd.command('remove'))
    .description('remove entries from the suppression list (idempotent)')
    .argument('<keys...>', 'addresses or domains')
    .addOption(new Option('--scope <scope>', 'force address or domain (default: guessed from the @)').choices(['address', 'domain']))
    .action(
      action(async (keys: string[], opts: { db?: string; scope?: SuppressionScope }) => {
        const entries = keys.map((k) => keyOf(k, opts.scope))
        const db = await openStore(dbUrl(opts))
        try {
          for (const e of entries) {
            const removed = await db.store.unsuppress(e.key, e.scope)
            process.stdout.write(`${removed ? 'removed' : 'not suppressed'} ${e.scope} ${e.key}\n`)
          }
        } finally {
          await db.close()
        }
      }),
    )

  addDbOption(cmd.command('import'))
    .description('import a CSV or JSON Lines file, streaming; idempotent. Malformed lines are reported (exit 4) and the rest still imports')
    .argument('<file>', 'the file, or - for standard input')
    .option('--format <format>', 'csv or jsonl (default: from the file name, else csv)')
    .option('--reason <reason>', 'reason for rows without one', 'manual')
    .addOption(new Option('--source <source>', 'source for rows without one').choices(SOURCES).default('manual'))
    .option('--dry-run', 'validate and count, write nothing', false)
    .option('--progress', 'always show the progress bar on stderr (default: files over 1 MiB on a terminal)')
    .option('--no-progress', 'never show the progress bar')
    .option('--json', 'print the summary as JSON', false)
    .addHelpText(
      'after',
      [
        '',
        'CSV: a header row names the columns (key or address/email/domain required; scope, reason, source,',
        'created_at, expires_at, escalated, rule_id, detail optional); without a header the columns are',
        'key,scope,reason,source,created_at,updated_at,expires_at,escalated,rule_id,detail. JSON Lines: one',
        'object per line with the same fields in camelCase (what `export --format jsonl` writes), or a string.',
      ].join('\n'),
    )
    .action(
      action(
        async (
          file: string,
          opts: { db?: string; format?: string; reason: string; source: EventSource; dryRun: boolean; progress?: boolean; json: boolean },
        ) => {
          const format = checkFormat(opts.format, file)
          const defaultReason = checkReason(opts.reason)
          let input: ReturnType<typeof openInput>
          try {
            input = openInput(file)
          } catch (err) {
            throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 4, { cause: err })
          }
          const db = await openStore(dbUrl(opts))
          const bar = startProgress(input.size, opts.progress, 'import')
          let summary: ImportSummary
          try {
            summary = await importSuppressions(db.store, input.stream, {
              format,
              defaultReason,
              defaultSource: opts.source,
              dryRun: opts.dryRun,
              onProgress: bar.update,
            })
          } finally {
            bar.stop()
            input.stream.destroy()
            await db.close()
          }
          if (opts.json) {
            process.stdout.write(`${JSON.stringify({ file, format, dryRun: opts.dryRun, ...summary }, null, 2)}\n`)
          } else {
            const shown = summary.rejected.slice(0, 50)
            for (const r of shown) process.stderr.write(`${file}:${r.line}: rejected: ${r.error}\n`)
            if (summary.rejected.length > shown.length)
              process.stderr.write(`... and ${summary.rejected.length - shown.length} more rejected lines (use --json for all)\n`)
            if (summary.ignoredColumns.length) process.stderr.write(`ignored columns: ${summary.ignoredColumns.join(', ')}\n`)
            process.stdout.write(
              `${opts.dryRun ? 'dry run: ' : ''}${summary.rows} rows: ${summary.created} new, ${summary.updated} updated, ${summary.unchanged} unchanged, ` +
                `${summary.expired} already expired (skipped), ${summary.rejected.length} rejected\n`,
            )
          }
          return summary.rejected.length > 0 ? 4 : 0
        },
      ),
    )

  addFilterOptions(addDbOption(cmd.command('export')))
    .description('export the suppression list as CSV (with a header) or JSON Lines, streaming')
    .argument('[file]', 'output file (default: standard output)')
    .option('--format <format>', 'csv or jsonl (default: from the file name, else csv)')
    .action(
      action(async (file: string | undefined, opts: FilterOptionValues & { db?: string; format?: string }) => {
        const format = checkFormat(opts.format, file)
        const now = new Date()
        const filter = toFilter(opts, now)
        const db = await openStore(dbUrl(opts))
        try {
          let out: NodeJS.WritableStream & Writable = process.stdout
          if (file && file !== '-') {
            const ws = createWriteStream(file)
            try {
              await once(ws, 'open')
            } catch (err) {
              throw new CliError(`cannot write ${file}: ${(err as Error).message}`, 4, { cause: err })
            }
            out = ws
          }
          const n = await exportSuppressions(db.store, out, { format, filter })
          if (out !== process.stdout) {
            out.end()
            await finished(out)
            process.stderr.write(`exported ${n} entr${n === 1 ? 'y' : 'ies'} to ${file}\n`)
          }
        } finally {
          await db.close()
        }
      }),
    )
}
