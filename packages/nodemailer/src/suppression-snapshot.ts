/**
 * An opt-in, in-process copy of the suppressed keys (`withBounceGuard(..., { suppressionSnapshot })`)
 * that answers most send-time lookups without a store round trip.
 *
 * It holds a *superset* of the keys suppressed in the store: every address and domain key seen
 * by the last full load, by the refreshes since (entries created since the previous refresh, less
 * `skewMarginMs` for other servers' clocks and late commits), and by this guard's own `suppressed`
 * events. A recipient whose address and domain are both absent is not suppressed and needs no
 * query; any other recipient (present, or not an address we can read) is asked to the store as
 * before, so an entry that was lifted or expired is never refused on the snapshot's word.
 *
 * Staleness, the one thing it gives up: a suppression written by *another* process (app server,
 * Haraka, the CLI) is honoured by this one at most `maxStalenessMs` after it was committed, as long
 * as the clocks of the writers are within `skewMarginMs` of this guard's. The bound is enforced:
 * a refresh runs every `maxStalenessMs / 2`, and when the last successful refresh began more than
 * `maxStalenessMs` ago (store down, event loop blocked) the snapshot is not used and every lookup
 * goes to the store, exactly as without it. Suppressions this guard makes are seen at once.
 */
import { performance } from 'node:perf_hooks'
import { domainOf, tryNormalizeAddress } from '@bounce-guard/core'
import type { BounceGuard, BounceGuardEvents, BounceGuardLogger, SuppressionFilter } from '@bounce-guard/core'

/** Options of the suppression snapshot (`WithBounceGuardOptions.suppressionSnapshot`). */
export interface SuppressionSnapshotOptions {
  /**
   * Longest time, in milliseconds, after which a suppression committed by another process is
   * honoured here. The snapshot refreshes every half of it and is bypassed when older. @default 2000
   */
  maxStalenessMs?: number
  /**
   * How far back each refresh looks before the previous one began, in milliseconds: covers the
   * clock difference between this guard and the servers that write suppressions, and
   * transactions that commit after they took their time. @default 60000
   */
  skewMarginMs?: number
  /** How often the whole snapshot is reloaded (drops lifted and expired keys), in milliseconds. @default 600000 */
  fullReloadMs?: number
  /** Most keys held; beyond it the snapshot turns itself off (logged) and every lookup goes to the store. @default 500000 */
  maxEntries?: number
}

const PAGE = 1000

/** See the module comment. One per wrapper; `start()` loads it, `stop()` ends its timers. */
export class SuppressionSnapshot {
  private keys = new Set<string>()
  /** `performance.now()` when the last successful refresh began; the snapshot holds what was committed before. */
  private freshAt = Number.NEGATIVE_INFINITY
  /** The guard's clock when the last successful refresh began (the next refresh's `since`, less the margin). */
  private sinceBase = 0
  private lastFullAt = Number.NEGATIVE_INFINITY
  private running: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  /** Keys this guard suppressed while a full load runs: the new set must have them too. */
  private addedDuringLoad: string[] | undefined
  private off = false
  /** The guard's cached normalisation when it has one (`createBounceGuard`), else core's. */
  private readonly normalize: (address: string) => string | undefined
  readonly maxStalenessMs: number
  private readonly skewMarginMs: number
  private readonly fullReloadMs: number
  private readonly maxEntries: number

  constructor(
    private readonly guard: BounceGuard,
    private readonly logger: BounceGuardLogger,
    options: SuppressionSnapshotOptions,
  ) {
    this.maxStalenessMs = options.maxStalenessMs ?? 2000
    this.skewMarginMs = options.skewMarginMs ?? 60_000
    this.fullReloadMs = options.fullReloadMs ?? 600_000
    this.maxEntries = options.maxEntries ?? 500_000
    const own = (guard as { normalize?: (address: string) => string | undefined }).normalize
    this.normalize = typeof own === 'function' ? (a) => own.call(guard, a) : (a) => tryNormalizeAddress(a)
  }

  private readonly onSuppressed = (e: BounceGuardEvents['suppressed'][0]): void => {
    const key = e?.suppression?.key
    if (typeof key !== 'string') return
    const k = key.toLowerCase()
    this.keys.add(k)
    this.addedDuringLoad?.push(k)
  }

  /** Load the snapshot and keep it fresh until `stop()`. Idempotent. */
  start(): void {
    if (this.timer || this.off) return
    this.guard.on('suppressed', this.onSuppressed as never)
    this.timer = setInterval(() => void this.refresh(), Math.max(1, Math.floor(this.maxStalenessMs / 2)))
    this.timer.unref()
    void this.refresh()
  }

  /** Stop refreshing; lookups go to the store from now on. */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.freshAt = Number.NEGATIVE_INFINITY
    this.guard.off('suppressed', this.onSuppressed as never)
  }

  /** True when lookups may use the snapshot now. */
  get fresh(): boolean {
    return !this.off && performance.now() - this.freshAt <= this.maxStalenessMs
  }

  /**
   * The recipients the store must be asked about (they may be suppressed, or are not readable
   * addresses), or `undefined` when the snapshot cannot answer (not loaded, too old, turned off).
   */
  mayBeSuppressed(recipients: readonly string[]): string[] | undefined {
    if (!this.fresh) return undefined
    let out: string[] | undefined
    for (let i = 0; i < recipients.length; i++) {
      const r = recipients[i] as string
      // The guard's normalisation (cached: its enqueue() of this recipient after the send reuses
      // it), folded as the keys are, so whatever the guard's options a suppressed key is found
      // (a superset: the store decides).
      const n = this.normalize(r)?.toLowerCase()
      if (n === undefined || this.keys.has(n) || this.keys.has(domainOf(n))) (out ??= []).push(r)
    }
    return out ?? []
  }

  /** One refresh (a full load when due); concurrent calls share it. Never throws. */
  refresh(): Promise<void> {
    if (!this.running) {
      this.running = this.load().finally(() => {
        this.running = undefined
      })
    }
    return this.running
  }

  private async load(): Promise<void> {
    if (this.off) return
    const startedAt = performance.now()
    const since = this.guard.now().getTime()
    const full = startedAt - this.lastFullAt >= this.fullReloadMs
    const into = full ? new Set<string>() : this.keys
    const filter: SuppressionFilter = full ? {} : { since: new Date(this.sinceBase - this.skewMarginMs) }
    if (full) this.addedDuringLoad = []
    try {
      let cursor: string | undefined
      do {
        const page = await this.guard.store.listSuppressions(filter, cursor ? { cursor, limit: PAGE } : { limit: PAGE })
        for (const s of page.items) into.add(s.key.toLowerCase())
        if (into.size > this.maxEntries) {
          this.turnOff(`more than ${this.maxEntries} suppressed keys (maxEntries)`)
          return
        }
        cursor = page.nextCursor
      } while (cursor)
    } catch (err) {
      this.logger.warn({ err }, '@bounce-guard/nodemailer: suppression snapshot not refreshed; lookups go to the store until it is')
      return
    } finally {
      if (full) {
        for (const k of this.addedDuringLoad ?? []) into.add(k)
        this.addedDuringLoad = undefined
      }
    }
    if (full) {
      this.keys = into
      this.lastFullAt = startedAt
    }
    this.sinceBase = since
    this.freshAt = startedAt
  }

  private turnOff(why: string): void {
    this.off = true
    this.keys = new Set()
    this.stop()
    this.logger.warn({}, `@bounce-guard/nodemailer: suppression snapshot turned off: ${why}; every lookup goes to the store`)
  }
}
