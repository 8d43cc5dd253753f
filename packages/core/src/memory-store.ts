/**
 * `MemoryBounceStore`: the reference implementation of the `BounceStore` contract, kept in plain
 * maps. For tests, examples, single-process tools and the CLI demo; state is lost on exit.
 *
 * Every member does its whole read-modify-write synchronously inside one call (no `await` in
 * between), so concurrent callers in one process never interleave: no lost updates, and
 * `claimDueRetries` never hands a job to two callers.
 */
import { BounceGuardError } from './errors.js'
import type { ShapingEntry } from './shaping.js'
import { SHAPING_SLOT_RETENTION_MS, assertShapingEntry, assertShapingSlotRequest } from './shared-shaping.js'
import { domainOf } from './address.js'
import type {
  BounceStore,
  RecordEventResult,
  StatsQuery,
  StatsRow,
  SuppressionFilter,
  SuppressionInput,
  SuppressionPage,
  SuppressResult,
} from './store.js'
import type { BounceEvent, RecipientState, RetryJob, Suppression, SuppressionScope } from './types.js'
import { applyEventToState, decodeSuppressionCursor, encodeSuppressionCursor, statsKeyOf, emptyRecipientState } from './store-helpers.js'

/** A retry job as the memory store keeps it: the job plus its lease. */
export interface MemoryRetryRow {
  job: RetryJob
  /** The lease end while a worker holds the job; absent when free. */
  leasedUntil?: Date
}

/** The internal maps of a `MemoryBounceStore`, exposed read-only for the conformance suite. */
export interface MemoryBounceStoreData {
  /** Keyed by `${scope}:${key}`. */
  readonly suppressions: ReadonlyMap<string, Suppression>
  readonly states: ReadonlyMap<string, RecipientState>
  /** Every stored event, in insertion order. */
  readonly events: readonly BounceEvent[]
  readonly eventIds: ReadonlySet<string>
  readonly retries: ReadonlyMap<string, MemoryRetryRow>
  /** Shared shaping actions keyed by `${key}\u0000${ruleId}`. */
  readonly shaping: ReadonlyMap<string, ShapingEntry>
  /** Shared cap slots granted (`takeShapingSlots`), keyed by `${key}\u0000${windowStart ms}`. */
  readonly shapingSlots: ReadonlyMap<string, { readonly key: string; readonly windowStart: number; readonly used: number }>
}

const PKG = '@bounce-guard/core (memory store)'

const cloneDate = (d: Date | undefined): Date | undefined => (d === undefined ? undefined : new Date(d.getTime()))

function cloneSuppression(s: Suppression): Suppression {
  const c: Suppression = { ...s, createdAt: new Date(s.createdAt.getTime()), updatedAt: new Date(s.updatedAt.getTime()) }
  if (s.expiresAt) c.expiresAt = new Date(s.expiresAt.getTime())
  return c
}

function cloneState(s: RecipientState): RecipientState {
  const c: RecipientState = { ...s }
  for (const k of ['firstSoftFailureAt', 'lastSoftFailureAt', 'lastDeliveredAt', 'lastEventAt'] as const) {
    const v = cloneDate(s[k])
    if (v) c[k] = v
  }
  return c
}

function cloneEvent(e: BounceEvent): BounceEvent {
  const c: BounceEvent = { ...e, at: new Date(e.at.getTime()) }
  if (e.classification) c.classification = { ...e.classification }
  return c
}

function cloneJob(j: RetryJob): RetryJob {
  return { ...j, recipients: [...j.recipients], dueAt: new Date(j.dueAt.getTime()), firstFailedAt: new Date(j.firstFailedAt.getTime()) }
}

function isExpired(s: Suppression, now: Date): boolean {
  return s.expiresAt !== undefined && s.expiresAt.getTime() <= now.getTime()
}

function assertDate(d: unknown, what: string): asserts d is Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: ${what} must be a valid Date`)
  }
}

/** An in-memory `BounceStore`. See the module comment. */
export class MemoryBounceStore implements BounceStore {
  #suppressions = new Map<string, Suppression>()
  #states = new Map<string, RecipientState>()
  #events: BounceEvent[] = []
  #eventIds = new Set<string>()
  #retries = new Map<string, MemoryRetryRow>()
  /** Shared shaping actions, keyed by `${key}\u0000${ruleId}`. */
  #shaping = new Map<string, ShapingEntry>()
  /** Shared cap slots granted, keyed by `${key}\u0000${windowStart ms}`. */
  #slots = new Map<string, { key: string; windowStart: number; used: number }>()
  #closed = false

  /**
   * The internal maps, for a second read path in tests (the conformance suite's inspector).
   * Treat as read-only.
   */
  rawData(): MemoryBounceStoreData {
    return {
      suppressions: this.#suppressions,
      states: this.#states,
      events: this.#events,
      eventIds: this.#eventIds,
      retries: this.#retries,
      shaping: this.#shaping,
      shapingSlots: this.#slots,
    }
  }

  #open(): void {
    if (this.#closed) throw new BounceGuardError('ESTORE_CLOSED', `${PKG}: the store was used after close()`)
  }

  #active(key: string, scope: SuppressionScope, now: Date): Suppression | undefined {
    const s = this.#suppressions.get(`${scope}:${key}`)
    return s && !isExpired(s, now) ? s : undefined
  }

  async findSuppressions(addresses: readonly string[], now: Date = new Date()): Promise<Map<string, Suppression>> {
    this.#open()
    const out = new Map<string, Suppression>()
    for (const address of addresses) {
      if (out.has(address)) continue
      const hit = this.#active(address, 'address', now) ?? this.#active(domainOf(address), 'domain', now)
      if (hit) out.set(address, cloneSuppression(hit))
    }
    return out
  }

  async suppress(entry: SuppressionInput): Promise<SuppressResult> {
    this.#open()
    assertDate(entry.at, 'suppress(): at')
    if (typeof entry.key !== 'string' || entry.key === '')
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: suppress(): key must be a non-empty string`)
    const id = `${entry.scope}:${entry.key}`
    const old = this.#suppressions.get(id)
    const created = old === undefined || isExpired(old, entry.at)
    const s: Suppression = {
      key: entry.key,
      scope: entry.scope,
      reason: entry.reason,
      source: entry.source,
      createdAt: created ? new Date(entry.at.getTime()) : old!.createdAt,
      updatedAt: new Date(entry.at.getTime()),
    }
    if (entry.expiresAt) s.expiresAt = new Date(entry.expiresAt.getTime())
    if (entry.escalated !== undefined) s.escalated = entry.escalated
    if (entry.ruleId !== undefined) s.ruleId = entry.ruleId
    if (entry.detail !== undefined) s.detail = entry.detail
    this.#suppressions.set(id, s)
    return { created, suppression: cloneSuppression(s) }
  }

  async unsuppress(key: string, scope?: SuppressionScope): Promise<boolean> {
    this.#open()
    let removed = false
    for (const sc of scope ? [scope] : (['address', 'domain'] as const)) {
      if (this.#suppressions.delete(`${sc}:${key}`)) removed = true
    }
    return removed
  }

  async listSuppressions(filter: SuppressionFilter = {}, page: { cursor?: string; limit?: number } = {}): Promise<SuppressionPage> {
    this.#open()
    const limit = page.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1)
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: listSuppressions(): limit must be a positive integer`)
    const after = page.cursor === undefined ? undefined : decodeSuppressionCursor(page.cursor, PKG)
    const now = filter.now ?? new Date()
    const matches: Suppression[] = []
    for (const s of this.#suppressions.values()) {
      if (filter.scope && s.scope !== filter.scope) continue
      if (filter.reason && s.reason !== filter.reason) continue
      if (filter.domain && (s.scope === 'domain' ? s.key : domainOf(s.key)) !== filter.domain) continue
      if (filter.since && s.createdAt.getTime() < filter.since.getTime()) continue
      if (filter.until && s.createdAt.getTime() >= filter.until.getTime()) continue
      if (!filter.includeExpired && isExpired(s, now)) continue
      if (after) {
        const t = s.createdAt.getTime()
        if (t < after.t || (t === after.t && (s.key < after.k || (s.key === after.k && s.scope <= after.s)))) continue
      }
      matches.push(s)
    }
    matches.sort(
      (a, b) =>
        a.createdAt.getTime() - b.createdAt.getTime() ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0),
    )
    const items = matches.slice(0, limit).map(cloneSuppression)
    const last = items[items.length - 1]
    const result: SuppressionPage = { items }
    if (matches.length > limit && last) result.nextCursor = encodeSuppressionCursor(last)
    return result
  }

  async recordEvent(event: BounceEvent): Promise<{ state: RecipientState; duplicate: boolean }> {
    this.#open()
    assertDate(event.at, 'recordEvent(): event.at')
    return this.#apply(event)
  }

  /** Validate every event, then apply them in order in one synchronous step (all or nothing). */
  async recordEvents(events: readonly BounceEvent[]): Promise<RecordEventResult[]> {
    this.#open()
    if (!Array.isArray(events)) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: recordEvents() expects an array of events`)
    for (let i = 0; i < events.length; i++) {
      const e = events[i]
      // The checks' messages are built only for a bad event.
      if (e?.at instanceof Date && !Number.isNaN(e.at.getTime()) && typeof e.recipient === 'string' && e.recipient !== '') continue
      assertDate(e?.at, `recordEvents(): events[${i}].at`)
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: recordEvents(): events[${i}].recipient must be a non-empty string`)
    }
    return events.map((e) => this.#apply(e))
  }

  #apply(event: BounceEvent): RecordEventResult {
    if (event.eventId !== undefined && this.#eventIds.has(event.eventId)) {
      const current = this.#states.get(event.recipient)
      return { state: current ? cloneState(current) : emptyRecipientState(event.recipient, event.domain), duplicate: true }
    }
    const prev = this.#states.get(event.recipient) ?? emptyRecipientState(event.recipient, event.domain)
    const next = applyEventToState(prev, event)
    this.#events.push(cloneEvent(event))
    if (event.eventId !== undefined) this.#eventIds.add(event.eventId)
    this.#states.set(event.recipient, next)
    return { state: cloneState(next), duplicate: false }
  }

  async getRecipientState(recipient: string): Promise<RecipientState | undefined> {
    this.#open()
    const s = this.#states.get(recipient)
    return s ? cloneState(s) : undefined
  }

  async listEvents(recipient: string, limit = 100): Promise<BounceEvent[]> {
    this.#open()
    const out: Array<{ e: BounceEvent; i: number }> = []
    this.#events.forEach((e, i) => {
      if (e.recipient === recipient) out.push({ e, i })
    })
    out.sort((a, b) => b.e.at.getTime() - a.e.at.getTime() || b.i - a.i)
    return out.slice(0, Math.max(0, limit)).map((x) => cloneEvent(x.e))
  }

  async scheduleRetry(job: RetryJob): Promise<void> {
    this.#open()
    assertDate(job.dueAt, 'scheduleRetry(): dueAt')
    assertDate(job.firstFailedAt, 'scheduleRetry(): firstFailedAt')
    this.#retries.set(job.id, { job: cloneJob(job) })
  }

  async claimDueRetries(now: Date, limit: number, leaseMs: number): Promise<RetryJob[]> {
    this.#open()
    assertDate(now, 'claimDueRetries(): now')
    const t = now.getTime()
    const due = [...this.#retries.values()]
      .filter((r) => r.job.dueAt.getTime() <= t && (r.leasedUntil === undefined || r.leasedUntil.getTime() <= t))
      .sort((a, b) => a.job.dueAt.getTime() - b.job.dueAt.getTime() || (a.job.id < b.job.id ? -1 : 1))
      .slice(0, Math.max(0, limit))
    for (const r of due) r.leasedUntil = new Date(t + leaseMs)
    return due.map((r) => cloneJob(r.job))
  }

  async completeRetry(id: string): Promise<void> {
    this.#open()
    this.#retries.delete(id)
  }

  async failRetry(id: string, update: { dueAt: Date; recipients?: string[]; error?: string }): Promise<void> {
    this.#open()
    const r = this.#retries.get(id)
    if (!r) return
    assertDate(update.dueAt, 'failRetry(): dueAt')
    r.job.dueAt = new Date(update.dueAt.getTime())
    r.job.attempts += 1
    if (update.recipients) r.job.recipients = [...update.recipients]
    if (update.error !== undefined) r.job.lastError = update.error
    delete r.leasedUntil
  }

  async stats(query: StatsQuery): Promise<StatsRow[]> {
    this.#open()
    assertDate(query.since, 'stats(): since')
    const since = query.since.getTime()
    const until = (query.until ?? new Date()).getTime()
    const rows = new Map<string, StatsRow>()
    for (const e of this.#events) {
      const t = e.at.getTime()
      if (t < since || t >= until || e.type === 'suppressed' || e.recipient.startsWith('@')) continue
      const key = statsKeyOf(e, query.groupBy)
      let row = rows.get(key)
      if (!row) {
        row = { key, sent: 0, delivered: 0, hardBounces: 0, softBounces: 0, deferred: 0, complaints: 0, senderRejections: 0, bounceRate: 0 }
        rows.set(key, row)
      }
      row.sent++
      if (e.type === 'delivered') row.delivered++
      else if (e.type === 'bounced') {
        if (e.classification?.hard) row.hardBounces++
        else row.softBounces++
      } else if (e.type === 'deferred') row.deferred++
      else if (e.type === 'complaint') row.complaints++
      if ((e.type === 'bounced' || e.type === 'deferred') && e.classification?.scope === 'sender') row.senderRejections++
    }
    const out = [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    for (const r of out) {
      const denom = r.delivered + r.hardBounces + r.softBounces
      r.bounceRate = denom === 0 ? 0 : r.hardBounces / denom
    }
    return out
  }

  async putShapingEntries(entries: readonly ShapingEntry[], now: Date = new Date()): Promise<void> {
    this.#open()
    assertDate(now, 'putShapingEntries(): now')
    if (!Array.isArray(entries)) throw new BounceGuardError('EINVALID_OPTION', `${PKG}: putShapingEntries() expects an array`)
    for (const e of entries) assertShapingEntry(e, `${PKG}: putShapingEntries()`)
    const t = now.getTime()
    for (const e of entries) {
      if (e.until <= t) continue
      const k = `${e.key}\u0000${e.ruleId}`
      const prev = this.#shaping.get(k)
      if (prev && prev.until >= e.until) continue
      const c: ShapingEntry = { key: e.key, ruleId: e.ruleId, action: e.action, since: e.since, until: e.until }
      if (e.perMinute !== undefined) c.perMinute = e.perMinute
      if (typeof e.reply === 'string') c.reply = e.reply.slice(0, 300)
      if (e.domains && e.domains.length > 0) c.domains = [...e.domains]
      this.#shaping.set(k, c)
    }
  }

  async listShapingEntries(now: Date = new Date()): Promise<ShapingEntry[]> {
    this.#open()
    assertDate(now, 'listShapingEntries(): now')
    const t = now.getTime()
    return [...this.#shaping.values()]
      .filter((e) => e.until > t)
      .map((e) => (e.domains ? { ...e, domains: [...e.domains] } : { ...e }))
      .sort(
        (a, b) => a.since - b.since || (a.key < b.key ? -1 : a.key > b.key ? 1 : a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0),
      )
  }

  async liftShapingEntries(key?: string): Promise<number> {
    this.#open()
    let n = 0
    for (const [k, e] of this.#shaping) {
      if (key === undefined || e.key === key) {
        this.#shaping.delete(k)
        n++
      }
    }
    return n
  }

  async takeShapingSlots(key: string, windowStart: Date, limit: number, n: number): Promise<number> {
    this.#open()
    assertShapingSlotRequest(key, windowStart, limit, n, `${PKG}: takeShapingSlots()`)
    const ws = windowStart.getTime()
    const horizon = ws - SHAPING_SLOT_RETENTION_MS
    for (const [k, row] of this.#slots) if (row.windowStart < horizon) this.#slots.delete(k)
    const k = `${key}\u0000${ws}`
    let row = this.#slots.get(k)
    if (!row) {
      row = { key, windowStart: ws, used: 0 }
      this.#slots.set(k, row)
    }
    const granted = Math.max(0, Math.min(n, limit - row.used))
    row.used += granted
    return granted
  }

  async close(): Promise<void> {
    this.#closed = true
  }
}
