/**
 * Options shared by the database commands: `--db`, the suppression filters, and how their values
 * are checked. Bad values throw `EINVALID_OPTION` (exit code 2).
 */
import { BOUNCE_REASONS, BounceGuardError, normalizeDomain, type SuppressionFilter, type SuppressionReason } from '@bounce-guard/core'
import { Option, type Command } from 'commander'
import { defaultDatabaseUrl } from './db-url.js'
import { parsePointInTime } from './time.js'

/** Reasons accepted by `--reason`: bounce reasons and the non-bounce causes. */
export const SUPPRESSION_REASONS: readonly SuppressionReason[] = [...BOUNCE_REASONS, 'complaint', 'manual', 'unsubscribe']

/** Add `--db <url>` (default: `sqlite:./bounce-guard.sqlite` in the working folder). */
export function addDbOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--db <url>', 'database: sqlite:<path>, postgres://user:pass@host:5432/db or mysql://user:pass@host:3306/db')
      .env('BOUNCE_GUARD_DB')
      .default(undefined, 'sqlite:./bounce-guard.sqlite'),
  )
}

/** The `--db` value, or the default SQLite file. */
export function dbUrl(opts: { db?: string }): string {
  return opts.db ?? defaultDatabaseUrl()
}

/** Add the suppression-list filters: --reason, --domain, --scope, --since, --until, --include-expired. */
export function addFilterOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--reason <reason>', 'only this reason (userunknown, mailboxfull, complaint, manual, ...)'))
    .option('--domain <domain>', 'only addresses of this domain (and the domain entry itself)')
    .addOption(new Option('--scope <scope>', 'only address or domain entries').choices(['address', 'domain']))
    .option('--since <when>', 'only entries created since: a duration back from now (7d, 12h) or an ISO date')
    .option('--until <when>', 'only entries created before: a duration back from now or an ISO date')
    .option('--include-expired', 'also entries whose expiry has passed', false)
}

/** Raw filter option values, as commander gives them. */
export interface FilterOptionValues {
  reason?: string
  domain?: string
  scope?: 'address' | 'domain'
  since?: string
  until?: string
  includeExpired?: boolean
}

/** Check a `--reason` value. */
export function checkReason(text: string): SuppressionReason {
  const r = text.trim().toLowerCase()
  if (!(SUPPRESSION_REASONS as readonly string[]).includes(r)) {
    throw new BounceGuardError(
      'EINVALID_OPTION',
      `@bounce-guard/cli: unknown reason ${JSON.stringify(text)}; one of: ${SUPPRESSION_REASONS.join(', ')}`,
    )
  }
  return r as SuppressionReason
}

/** Turn filter option values into a `SuppressionFilter`. */
export function toFilter(opts: FilterOptionValues, now: Date): SuppressionFilter {
  const filter: SuppressionFilter = { now }
  if (opts.reason) filter.reason = checkReason(opts.reason)
  if (opts.domain) {
    const d = normalizeDomain(opts.domain.replace(/^@/, ''))
    if (!d) throw new BounceGuardError('EINVALID_OPTION', `@bounce-guard/cli: --domain ${JSON.stringify(opts.domain)} is not a domain`)
    filter.domain = d
  }
  if (opts.scope) filter.scope = opts.scope
  if (opts.since) filter.since = parsePointInTime('--since', opts.since, now)
  if (opts.until) filter.until = parsePointInTime('--until', opts.until, now)
  if (opts.includeExpired) filter.includeExpired = true
  return filter
}
