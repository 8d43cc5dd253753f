/**
 * The events table's upkeep, as `bounce-guard maintain` (once) and `bounce-guard serve` (on a
 * timer) run it: `rollupEvents` of the events past the mark, then `pruneEvents` of the rolled-up
 * events older than the retention. Recipient state, suppressions and retry jobs are never touched.
 */
import { BounceGuardError } from '@bounce-guard/core'
import { DEFAULT_EVENT_RETENTION_MS, pruneEvents, rollupEvents } from '@bounce-guard/typeorm'
import type { SqlStore } from './sql-store.js'

/** `--retention-days` when not given: the TypeORM store's documented default (30 days). */
export const DEFAULT_RETENTION_DAYS = DEFAULT_EVENT_RETENTION_MS / 86_400_000

/**
 * Check a `--retention-days` value: a whole number of days from 1 to 36,500, or `never` (keep
 * every event; `Infinity`). Returns milliseconds. Throws `EINVALID_OPTION` (exit code 2).
 */
export function parseRetentionDays(text: string): number {
  const t = String(text).trim().toLowerCase()
  if (t === 'never') return Number.POSITIVE_INFINITY
  if (!/^\d{1,5}$/.test(t) || Number(t) < 1 || Number(t) > 36_500) {
    throw new BounceGuardError(
      'EINVALID_OPTION',
      `@bounce-guard/cli: --retention-days ${JSON.stringify(text)} must be a whole number of days from 1 to 36500, or never`,
    )
  }
  return Number(t) * 86_400_000
}

/** What one maintenance run did. */
export interface MaintenanceResult {
  /** Events the rollup read past its previous mark. */
  rolledUp: number
  /** The rollup mark after the run (every event with an id up to it is counted in the hourly rows). */
  eventId: number
  /** An id the next run will roll up to once in-flight writes have settled; absent when caught up. */
  pendingEventId?: number
  /** Events deleted by retention. */
  pruned: number
  /** The retention boundary (events before it were pruned once rolled up); absent with `never`. */
  olderThan?: Date
}

/** Options of `runMaintenance`. */
export interface RunMaintenanceOptions {
  /** Keep raw events this long. @default 30 days */
  retentionMs?: number
  /** Prune after the rollup. @default true */
  prune?: boolean
  /**
   * When the rollup leaves an id pending (PostgreSQL and MySQL wait `settleMs` for writes still
   * in flight), wait that long once and run again, so one run covers every event present at its
   * start. Milliseconds; `undefined` = the store's default settle (0 on SQLite, 30 s on servers).
   */
  settleMs?: number
  /** Wait for the pending id (see `settleMs`). @default false */
  waitForPending?: boolean
  /** Clock. @default () => new Date() */
  now?: () => Date
  /** For the wait. @default setTimeout */
  sleep?: (ms: number) => Promise<void>
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** One maintenance run: rollup, then (unless `prune: false`) retention. */
export async function runMaintenance(sql: SqlStore, options: RunMaintenanceOptions = {}): Promise<MaintenanceResult> {
  const now = options.now ?? (() => new Date())
  const retentionMs = options.retentionMs ?? DEFAULT_EVENT_RETENTION_MS
  const ds = sql.dataSource
  const tablePrefix = sql.tables.prefix
  const rollupOptions = { tablePrefix, now, ...(options.settleMs === undefined ? {} : { settleMs: options.settleMs }) }
  let r = await rollupEvents(ds, rollupOptions)
  let rolledUp = r.events
  if (options.waitForPending && r.pendingEventId !== undefined) {
    const settle = options.settleMs ?? 30_000
    await (options.sleep ?? sleepFor)(settle + 50)
    r = await rollupEvents(ds, rollupOptions)
    rolledUp += r.events
  }
  const result: MaintenanceResult = { rolledUp, eventId: r.eventId, pruned: 0 }
  if (r.pendingEventId !== undefined) result.pendingEventId = r.pendingEventId
  if (options.prune !== false && Number.isFinite(retentionMs)) {
    result.olderThan = new Date(now().getTime() - retentionMs)
    result.pruned = await pruneEvents(ds, { tablePrefix, olderThan: result.olderThan })
  }
  return result
}

/** Options of `startMaintenance`. */
export interface StartMaintenanceOptions {
  /** Keep raw events this long (`Infinity`: never prune). @default 30 days */
  retentionMs?: number
  /** Rollup period. @default 60000 */
  rollupEveryMs?: number
  /** Retention period: a tick prunes when the last prune is at least this old. @default 3600000 */
  pruneEveryMs?: number
  /** Told of each failed run (the timer keeps going). */
  onError?: (err: unknown) => void
  /** Told of each run that pruned something. */
  onPruned?: (result: MaintenanceResult) => void
  /** Clock. @default () => new Date() */
  now?: () => Date
}

/** A running maintenance timer. */
export interface MaintenanceTimer {
  /** One tick now (what the timer does): rollup, and retention when due. Never runs two at once. */
  tick(): Promise<MaintenanceResult | undefined>
  /** Stop the timer; waits for a tick in progress. Idempotent. */
  stop(): Promise<void>
}

/**
 * Rollup every `rollupEveryMs` (a minute) and retention every `pruneEveryMs` (an hour; the first
 * tick prunes too), one run at a time. The timer is `unref`ed: it never keeps the process alive.
 */
export function startMaintenance(sql: SqlStore, options: StartMaintenanceOptions = {}): MaintenanceTimer {
  const now = options.now ?? (() => new Date())
  const pruneEveryMs = options.pruneEveryMs ?? 3_600_000
  const retentionMs = options.retentionMs ?? DEFAULT_EVENT_RETENTION_MS
  let lastPrune = Number.NEGATIVE_INFINITY
  let running: Promise<MaintenanceResult | undefined> | undefined
  let stopped = false
  const tick = (): Promise<MaintenanceResult | undefined> => {
    if (running || stopped) return running ?? Promise.resolve(undefined)
    const t = now().getTime()
    const prune = Number.isFinite(retentionMs) && t - lastPrune >= pruneEveryMs
    running = runMaintenance(sql, { retentionMs, prune, now })
      .then((r) => {
        if (prune) {
          lastPrune = t
          if (r.pruned > 0) options.onPruned?.(r)
        }
        return r
      })
      .catch((err: unknown) => {
        options.onError?.(err)
        return undefined
      })
      .finally(() => {
        running = undefined
      })
    return running
  }
  const timer = setInterval(() => void tick(), options.rollupEveryMs ?? 60_000)
  timer.unref()
  return {
    tick,
    async stop() {
      stopped = true
      clearInterval(timer)
      await running
    },
  }
}
