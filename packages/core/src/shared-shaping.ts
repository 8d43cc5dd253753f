/**
 * `createSharedShaper`: one shaper per process whose *actions* are shared through the store, so a
 * pause decided by one app server or MTA is honoured by all of them within `refreshMs`.
 *
 * - Actions the local shaper starts (its `shaped` event) are written to the store at once
 *   (`putShapingEntries`); extensions of a running action are written on the next refresh.
 * - Every `refreshMs` the others' actions are read (`listShapingEntries`) and merged into the local
 *   shaper (`importState`: for one key and rule the later `until` wins).
 * - `check` never touches the store: it answers from the local copy, synchronously.
 *
 * Counters that lead to a trigger stay local (each process counts its own outcomes).
 *
 * Caps: `check` paces each process on its own (one send every `60 s / perMinute`). A cap shared by
 * several processes holds in total only through `acquire(destination)`, which adapters call at send
 * time: after the local `check` allows a send to a capped destination, it takes a slot of that
 * key's current minute window from the store (`takeShapingSlots`, atomic, one budget of
 * `max(1, floor(perMinute))` per window for all processes). No slot left: `pace` until the next
 * window. A store without `takeShapingSlots`, or one that fails, leaves the per-process pacing in
 * force (the failure goes to `onError`): sending is never blocked by the store.
 */
import { EventEmitter } from 'node:events'
import { BounceGuardError } from './errors.js'
import type { RecordResult } from './guard.js'
import {
  createShaper,
  type Shaper,
  type ShapingCap,
  type ShaperEvents,
  type ShapingDecision,
  type ShapingDestination,
  type ShapingEntry,
  type ShapingState,
} from './shaping.js'
import type { BounceStore } from './store.js'
import type { BounceEvent } from './types.js'

const PKG = '@bounce-guard/core (shared shaping)'

/** A store with the optional shaping members (see `BounceStore.putShapingEntries`). */
export type ShapingCapableStore = BounceStore &
  Required<Pick<BounceStore, 'putShapingEntries' | 'listShapingEntries' | 'liftShapingEntries'>>

/** Length of a shared cap's slot window (`takeShapingSlots`). */
export const SHAPING_SLOT_WINDOW_MS = 60_000

/** How long a store keeps a slot window's row after the window started; older rows may be pruned by any `takeShapingSlots` call. */
export const SHAPING_SLOT_RETENTION_MS = 5 * 60_000

/** True when the store implements the three optional shaping members. */
export function supportsSharedShaping(store: unknown): store is ShapingCapableStore {
  const s = store as Partial<BounceStore> | null | undefined
  return (
    !!s &&
    typeof s.putShapingEntries === 'function' &&
    typeof s.listShapingEntries === 'function' &&
    typeof s.liftShapingEntries === 'function'
  )
}

/**
 * Check one entry of `putShapingEntries` (stores call it before writing). Throws `EINVALID_OPTION`
 * for a missing key or rule id, an unknown action, non-finite times or a cap without `perMinute`.
 */
export function assertShapingEntry(e: unknown, where: string): asserts e is ShapingEntry {
  const x = e as Partial<ShapingEntry> | null
  const bad = (m: string): never => {
    throw new BounceGuardError('EINVALID_OPTION', `${where}: ${m}`)
  }
  if (!x || typeof x !== 'object') bad('an entry must be an object')
  if (typeof x!.key !== 'string' || x!.key === '' || x!.key.length > 320)
    bad('entry.key must be a non-empty string of at most 320 characters')
  if (typeof x!.ruleId !== 'string' || x!.ruleId === '' || x!.ruleId.length > 128)
    bad('entry.ruleId must be a non-empty string of at most 128 characters')
  if (x!.action !== 'pause' && x!.action !== 'cap') bad("entry.action must be 'pause' or 'cap'")
  if (!Number.isFinite(x!.since) || !Number.isFinite(x!.until)) bad('entry.since and entry.until must be finite epoch milliseconds')
  if (x!.action === 'cap' && !(typeof x!.perMinute === 'number' && x!.perMinute > 0 && Number.isFinite(x!.perMinute)))
    bad('a cap entry needs a positive perMinute')
  if (
    x!.domains !== undefined &&
    !(Array.isArray(x!.domains) && x!.domains.length <= 100 && x!.domains.every((d) => typeof d === 'string' && d.length <= 255))
  )
    bad('entry.domains must be an array of at most 100 domain names')
}

/**
 * Check the arguments of `takeShapingSlots` (stores call it first). Throws `EINVALID_OPTION` for an
 * empty key or one longer than 320 characters, an invalid date, a `limit` that is not a
 * non-negative safe integer or an `n` that is not a positive safe integer.
 */
export function assertShapingSlotRequest(key: unknown, windowStart: unknown, limit: unknown, n: unknown, where: string): void {
  const bad = (m: string): never => {
    throw new BounceGuardError('EINVALID_OPTION', `${where}: ${m}`)
  }
  if (typeof key !== 'string' || key === '' || key.length > 320) bad('key must be a non-empty string of at most 320 characters')
  if (!(windowStart instanceof Date) || Number.isNaN(windowStart.getTime())) bad('windowStart must be a valid Date')
  if (!(Number.isSafeInteger(limit) && (limit as number) >= 0)) bad('limit must be a non-negative integer')
  if (!(Number.isSafeInteger(n) && (n as number) >= 1)) bad('n must be a positive integer')
}

/** Options of `createSharedShaper`. */
export interface SharedShaperOptions {
  /** The store that holds the shared actions; it must implement the optional shaping members. */
  store: BounceStore
  /** The local shaper (its rules decide what this process starts). @default createShaper() */
  shaper?: Shaper
  /** How often the others' actions are read and this process's extensions written. @default 5000 */
  refreshMs?: number
  /** The clock used for store calls. @default () => new Date() */
  now?: () => Date
  /** Called with store errors of the background refresh and writes (they never throw into `check`). @default ignore */
  onError?: (err: unknown) => void
}

/** A shaper whose actions are shared through a store. Everything of `Shaper`, plus: */
export interface SharedShaper extends Shaper {
  /** The local shaper this one wraps. */
  readonly local: Shaper
  /** Resolves after the first read of the store (or its failure, reported to `onError`). */
  readonly ready: Promise<void>
  /** Write this process's actions and read everyone's now. Rejects on store errors. */
  refresh(): Promise<void>
  /** Lift actions here and in the store; other processes keep their local copy until it expires or they lift it too. Returns the larger of the two counts. */
  liftShared(key?: string): Promise<number>
  /**
   * `check` for the moment of sending, with caps that hold across processes: when the local answer
   * is `send` and the destination is capped, take one slot of each cap's current minute window from
   * the store (`takeShapingSlots`); when a window is used up, answer `pace` until the next window.
   * Without `takeShapingSlots`, or when the store fails (reported to `onError`), the local answer
   * (per-process pacing) stands. Never rejects.
   */
  acquire(destination: ShapingDestination): Promise<ShapingDecision>
  /** The active caps on a destination, from the local copy (empty when the local shaper has no `caps`). */
  caps(destination: ShapingDestination): ShapingCap[]
  /** Stop the refresh timer (the store is not closed). Idempotent. */
  stop(): void
}

class SharedShaperImpl extends EventEmitter implements SharedShaper {
  readonly local: Shaper
  readonly ready: Promise<void>
  readonly #store: ShapingCapableStore
  readonly #now: () => Date
  readonly #onError: (err: unknown) => void
  /** key \u0000 ruleId -> until already written to (or read from) the store */
  readonly #written = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #inflight: Promise<void> | undefined
  #followUp: Promise<void> | undefined
  readonly #onShaped = (e: ShapingEntry): void => {
    this.emit('shaped', e)
    this.#push([e]).catch(this.#onError)
  }

  constructor(o: SharedShaperOptions) {
    super()
    if (!o || typeof o !== 'object') throw new BounceGuardError('EINVALID_OPTION', `${PKG}: options must be an object`)
    if (!supportsSharedShaping(o.store))
      throw new BounceGuardError(
        'EINVALID_OPTION',
        `${PKG}: the store does not implement putShapingEntries / listShapingEntries / liftShapingEntries`,
      )
    const refreshMs = o.refreshMs ?? 5000
    if (!(typeof refreshMs === 'number' && Number.isFinite(refreshMs) && refreshMs >= 10))
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: refreshMs must be a number of at least 10`)
    if (o.now !== undefined && typeof o.now !== 'function') throw new BounceGuardError('EINVALID_OPTION', `${PKG}: now must be a function`)
    if (o.onError !== undefined && typeof o.onError !== 'function')
      throw new BounceGuardError('EINVALID_OPTION', `${PKG}: onError must be a function`)
    this.#store = o.store
    this.local = o.shaper ?? createShaper(o.now ? { now: o.now } : {})
    this.#now = o.now ?? (() => new Date())
    this.#onError = o.onError ?? (() => {})
    this.local.on('shaped', this.#onShaped)
    this.ready = this.refresh().catch(this.#onError)
    this.#timer = setInterval(() => {
      this.refresh().catch(this.#onError)
    }, refreshMs)
    this.#timer.unref?.()
  }

  get rules() {
    return this.local.rules
  }

  /** Write the entries whose `until` is later than what the store was last known to hold. */
  async #push(entries: readonly ShapingEntry[]): Promise<void> {
    let fresh = entries.filter((e) => (this.#written.get(`${e.key}\u0000${e.ruleId}`) ?? 0) < e.until)
    if (fresh.length === 0) return
    // Learned domain -> provider pairs travel with provider actions (yahoo.com is known everywhere;
    // a domain hosted at Yahoo is known only where its MX or replies were seen).
    const learned = fresh.some((e) => e.key.startsWith('provider:')) ? (this.local.exportState().providers ?? {}) : {}
    fresh = fresh.map((e) => {
      if (!e.key.startsWith('provider:')) return e
      const p = e.key.slice('provider:'.length)
      const domains = new Set(e.domains ?? [])
      for (const [d, q] of Object.entries(learned)) if (q === p && domains.size < 100) domains.add(d)
      return domains.size > 0 ? { ...e, domains: [...domains] } : e
    })
    await this.#store.putShapingEntries(fresh, this.#now())
    for (const e of fresh) {
      const k = `${e.key}\u0000${e.ruleId}`
      this.#written.set(k, Math.max(this.#written.get(k) ?? 0, e.until))
    }
  }

  refresh(): Promise<void> {
    // One refresh at a time. Callers arriving while one runs share one follow-up refresh that
    // starts after it, so what they observed before calling is written.
    if (this.#inflight) {
      if (!this.#followUp) {
        this.#followUp = this.#inflight
          .catch(() => {})
          .then(() => {
            this.#followUp = undefined
            return this.refresh()
          })
      }
      return this.#followUp
    }
    const run = (async () => {
      await this.#push(this.local.active())
      const now = this.#now()
      const rows = await this.#store.listShapingEntries(now)
      for (const e of rows) {
        const k = `${e.key}\u0000${e.ruleId}`
        this.#written.set(k, Math.max(this.#written.get(k) ?? 0, e.until))
      }
      const t = now.getTime()
      for (const [k, until] of this.#written) if (until <= t) this.#written.delete(k)
      const providers: Record<string, string> = {}
      for (const e of rows) {
        if (!e.key.startsWith('provider:') || !Array.isArray(e.domains)) continue
        for (const d of e.domains.slice(0, 100)) if (typeof d === 'string' && d !== '') providers[d] = e.key.slice('provider:'.length)
      }
      const state: ShapingState = { version: 1, at: t, entries: rows, providers }
      this.local.importState(state)
    })()
    this.#inflight = run
    return run.finally(() => {
      this.#inflight = undefined
    })
  }

  observe(result: RecordResult | (BounceEvent & { remoteMta?: string }), meta?: { remoteMta?: string }): ShapingEntry[] {
    return this.local.observe(result, meta)
  }

  check(destination: ShapingDestination): ShapingDecision {
    return this.local.check(destination)
  }

  caps(destination: ShapingDestination): ShapingCap[] {
    return typeof this.local.caps === 'function' ? this.local.caps(destination) : []
  }

  async acquire(destination: ShapingDestination): Promise<ShapingDecision> {
    const d = this.local.check(destination)
    const store = this.#store
    if (d.action !== 'send' || typeof store.takeShapingSlots !== 'function') return d
    let caps: ShapingCap[]
    try {
      caps = this.caps(destination)
    } catch (err) {
      this.#onError(err)
      return d
    }
    if (caps.length === 0) return d
    const now = this.#now().getTime()
    const start = Math.floor(now / SHAPING_SLOT_WINDOW_MS) * SHAPING_SLOT_WINDOW_MS
    try {
      // Strictest first: a refusal then wastes no slot of a looser cap.
      for (const c of [...caps].sort((a, b) => a.perMinute - b.perMinute)) {
        const limit = Math.max(1, Math.floor(c.perMinute))
        const got = await store.takeShapingSlots(c.key, new Date(start), limit, 1)
        if (!(got >= 1)) return { action: 'pace', delayMs: Math.max(1, start + SHAPING_SLOT_WINDOW_MS - now), ruleId: c.ruleId, key: c.key }
      }
    } catch (err) {
      this.#onError(
        new BounceGuardError(
          'ESTORE',
          `${PKG}: shared cap slots not taken; pacing per process instead: ${(err as Error)?.message ?? String(err)}`,
          {
            cause: err,
          },
        ),
      )
    }
    return d
  }

  active(): ShapingEntry[] {
    return this.local.active()
  }

  /** Lift locally only (another process's copy comes back on the next refresh); use `liftShared` to lift everywhere. */
  lift(key?: string): number {
    return this.local.lift(key)
  }

  async liftShared(key?: string): Promise<number> {
    const n = this.local.lift(key)
    const m = await this.#store.liftShapingEntries(key)
    for (const k of [...this.#written.keys()]) if (key === undefined || k.startsWith(`${key}\u0000`)) this.#written.delete(k)
    return Math.max(n, m)
  }

  exportState(): ShapingState {
    return this.local.exportState()
  }

  importState(state: ShapingState): void {
    this.local.importState(state)
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    this.local.off('shaped', this.#onShaped)
  }

  override on<K extends keyof ShaperEvents>(event: K, listener: (...args: ShaperEvents[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void)
  }

  override off<K extends keyof ShaperEvents>(event: K, listener: (...args: ShaperEvents[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void)
  }
}

/**
 * Share a shaper's actions through a store (see the module comment). Throws `EINVALID_OPTION`
 * when the store lacks the shaping members or an option is invalid. Call `stop()` when done (the
 * timer is unref'd, so it never keeps the process alive).
 * @example
 * const shaper = createSharedShaper({ store })   // store: MemoryBounceStore or the TypeORM store
 * guard.on('deferred', (r) => shaper.observe(r))
 * if (shaper.check('a@yahoo.com').action === 'pause') ...
 */
export function createSharedShaper(options: SharedShaperOptions): SharedShaper {
  return new SharedShaperImpl(options)
}
