/**
 * Traffic shaping: when a destination tells us to slow down or stop, stop hammering it. Rules are
 * data: a reply pattern (or rule id, reason, scope) counted over a window, or a rate condition on a
 * destination, triggers an action for a duration: `pause` the destination or `cap` it to N
 * messages per minute. `createShaper` observes recorded outcomes and answers, at send time,
 * `check(destination)`: send now, wait until a time (paused), or wait `delayMs` (paced).
 *
 * The active actions are a plain serialisable object (`exportState` / `importState`), so several
 * app servers and MTAs can share them through a store (`ShapingStateStore`): each one observes its
 * own outcomes, saves its state and merges the others' (the later `until` wins).
 *
 * How adapters consult it (see `docs/monitoring.md`):
 * - Nodemailer wrapper: before connecting, `check(recipientDomain)` per domain of the envelope;
 *   `pause` -> schedule a retry job at `until` instead of sending; `pace` -> wait `delayMs` (or
 *   schedule a retry when the delay is long), then send.
 * - Haraka plugin: in `send_email`, `check(hmail.todo.domain)`; `pause` -> `next(DELAY, seconds)`;
 *   `pace` -> `next(DELAY, ceil(delayMs / 1000))`; `send` -> `next()`. Outcomes from `delivered`,
 *   `deferred` and `bounce` feed `observe`.
 */
import { EventEmitter } from 'node:events'
import { isSafe } from 'redos-detector'
import { BounceGuardError } from './errors.js'
import type { RecordResult } from './guard.js'
import { ProviderResolver } from './provider-map.js'
import type { BounceEvent, BounceReason, BounceScope, EventType } from './types.js'

const PKG = '@bounce-guard/core (shaping)'
const MIN = 60_000
/** Longest reply text a pattern is run on. */
const MAX_TEXT = 2000

/** What a rule does to a destination. */
export type ShapingAction = { type: 'pause' } | { type: 'cap'; perMinute: number }

/** Which outcomes a rule counts. Every given condition must hold. */
export interface ShapingMatch {
  /** A linear-time regular expression run on the raw reply (a string is compiled case-insensitive). */
  pattern?: RegExp | string
  /** Classification rule ids, e.g. `microsoft.banned-ip`. */
  ruleIds?: readonly string[]
  reasons?: readonly BounceReason[]
  scopes?: readonly BounceScope[]
  /** Providers the rule applies to (by attribution of the outcome). */
  providers?: readonly string[]
  /** Event types. @default ['bounced', 'deferred'] */
  types?: readonly EventType[]
}

/** A rate condition: the share of matching outcomes among all outcomes to the destination. */
export interface ShapingRate {
  /** Fraction (0-1) of outcomes that match, at or above which the rule triggers. */
  atLeast: number
  /** Outcomes to the destination within the window before the rate counts. */
  minEvents: number
}

/** One traffic-shaping rule. */
export interface ShapingRule {
  /** Unique id, e.g. `yahoo.tss04`. */
  id: string
  description?: string
  match: ShapingMatch
  /** Matches within `windowMs` that trigger the action (ignored when `rate` is set). @default 1 */
  threshold?: number
  /** The counting window. @default 600000 (10 minutes) */
  windowMs?: number
  /** Trigger on a rate instead of a count. */
  rate?: ShapingRate
  /** What the action applies to: the outcome's provider (falls back to the domain when unknown), or the recipient domain. @default 'provider' */
  per?: 'provider' | 'domain'
  action: ShapingAction
  /** How long the action lasts after the trigger. */
  durationMs: number
  /** Real replies this rule is written for. */
  examples?: readonly string[]
}

/**
 * Defaults for the well-known signals. Each carries the real replies it answers. Count rules
 * trigger on matches within 10 minutes; after the duration the destination is tried normally
 * again and a new trigger re-applies the action.
 */
export const DEFAULT_SHAPING_RULES: readonly ShapingRule[] = Object.freeze([
  {
    id: 'yahoo.tss04',
    description: 'Yahoo defers mail from an IP with unexpected volume or complaints (TSS04): stop for about two hours.',
    match: { pattern: /\bTSS04\b/i },
    threshold: 3,
    action: { type: 'pause' },
    durationMs: 2 * 60 * MIN,
    examples: [
      '421 4.7.0 [TSS04] Messages from 203.0.113.9 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
      '421 4.7.0 [TSS04] Messages from 198.51.100.7 temporarily deferred due to user complaints - 4.16.55.1; see https://help.yahoo.com/kb/postmaster/SLN3434.html',
    ],
  },
  {
    id: 'microsoft.reputation',
    description:
      'Microsoft refuses or rate-limits our IP for its reputation or a block list (S3150, S3140, S775, 4.7.650): one message a minute for 90 minutes.',
    match: { pattern: /\b(?:S3150|S3140|S775)\b|\b4\.7\.650\b/i },
    threshold: 1,
    action: { type: 'cap', perMinute: 1 },
    durationMs: 90 * MIN,
    examples: [
      "550 5.7.1 Unfortunately, messages from [203.0.113.9] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]",
      "550 5.7.1 Unfortunately, messages from [203.0.113.9] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [AM5EUR02FT010.eop-EUR02.prod.protection.outlook.com]",
      '451 4.7.650 The mail server [203.0.113.9] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [Name=Protocol Filter Agent][AGT=PFA][MxId=11BA6D1A3B5C2E4F] [BL6PEPF0001AB4E.namprd04.prod.outlook.com]',
    ],
  },
  {
    id: 'gmail.rate-limited',
    description: 'Gmail rate-limits unsolicited-looking mail from our IP (4.7.28): at most 20 messages a minute for an hour.',
    match: { pattern: /\b[45]\.7\.28\b/ },
    threshold: 3,
    action: { type: 'cap', perMinute: 20 },
    durationMs: 60 * MIN,
    examples: [
      '421-4.7.28 [203.0.113.9      15] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError to review our Bulk Email Senders Guidelines. a640c23a62f3a-a9e4c9f8b1csi123456566b.123 - gsmtp',
      '421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. https://support.google.com/mail/?p=UnsolicitedRateLimitError',
    ],
  },
  {
    id: 'comcast.rl000010',
    description: 'Comcast refuses more sessions from our IP (RL000010): stop for 30 minutes.',
    match: { pattern: /\bRL000010\b/i },
    threshold: 1,
    action: { type: 'pause' },
    durationMs: 30 * MIN,
    examples: ['421 Too many sessions opened RL000010 - https://postmaster.comcast.net/smtp-error-codes.php#RL000010'],
  },
  {
    id: 'sender-refusal-rate',
    description:
      'Half or more of the outcomes to one provider in 10 minutes are refusals of us (reputation, blocklist, authentication, rate): stop for 30 minutes.',
    match: { scopes: ['sender'] },
    rate: { atLeast: 0.5, minEvents: 20 },
    action: { type: 'pause' },
    durationMs: 30 * MIN,
    examples: [
      '550 5.7.1 Service unavailable, Client host [203.0.113.9] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/203.0.113.9',
    ],
  },
] satisfies ShapingRule[])

/** One active action on a destination. Plain data. */
export interface ShapingEntry {
  /** `provider:<name>` or `domain:<name>`. */
  key: string
  ruleId: string
  action: 'pause' | 'cap'
  /** Messages per minute, for `cap`. */
  perMinute?: number
  /** When the action started (epoch ms). */
  since: number
  /** When the action ends (epoch ms). */
  until: number
  /** The reply that triggered it, cut to 300 characters. */
  reply?: string
  /**
   * For a `provider:` key: recipient domains known to belong to that provider (learned from MX
   * hosts or replies), so another process that never mailed them applies the action too. At most 100.
   */
  domains?: string[]
}

/** The shareable state: active actions. Plain JSON-serialisable data. */
export interface ShapingState {
  version: 1
  /** When the state was exported (epoch ms). */
  at: number
  entries: ShapingEntry[]
  /** Learned recipient domain -> provider pairs. */
  providers?: Record<string, string>
}

/**
 * Where shaping state is shared between processes (a store implements it later). `load` returns
 * `undefined` when nothing was saved; `save` overwrites (callers merge with `importState` first).
 */
export interface ShapingStateStore {
  loadShapingState(): Promise<ShapingState | undefined>
  saveShapingState(state: ShapingState): Promise<void>
}

/** Answer of `check`. */
export type ShapingDecision =
  | { action: 'send' }
  | { action: 'pause'; until: Date; ruleId: string; key: string }
  | { action: 'pace'; delayMs: number; ruleId: string; key: string }

/** An active cap that applies to a destination (see `Shaper.caps`). */
export interface ShapingCap {
  /** `provider:<name>` or `domain:<name>`. */
  key: string
  perMinute: number
  ruleId: string
}

/** A destination to check: an address, a domain, or its parts. */
export type ShapingDestination = string | { domain?: string; provider?: string; remoteMta?: string }

/** Options of `createShaper`. */
export interface ShaperOptions {
  /** The rules. @default DEFAULT_SHAPING_RULES */
  rules?: readonly ShapingRule[]
  /** The clock. @default () => new Date() */
  now?: () => Date
  /** Extra domain / MX host -> provider pairs (see `ProviderResolver`). @default {} */
  providers?: Readonly<Record<string, string>>
}

/** Events of a shaper: `shaped` when an action starts on a destination. */
export interface ShaperEvents {
  shaped: [entry: ShapingEntry]
}

/** The shaper returned by `createShaper`. */
export interface Shaper {
  readonly rules: readonly ShapingRule[]
  /** Count one recorded outcome; may start an action. Returns the actions started by it. */
  observe(result: RecordResult | (BounceEvent & { remoteMta?: string }), meta?: { remoteMta?: string }): ShapingEntry[]
  /**
   * May we send to this destination now? `send` consumes a slot of a capped destination; `pace`
   * and `pause` consume nothing (ask again after the delay).
   */
  check(destination: ShapingDestination): ShapingDecision
  /**
   * The active caps on this destination, the strictest one per key (consumes nothing). Optional
   * for shapers written elsewhere; `createShaper`'s has it.
   */
  caps?(destination: ShapingDestination): ShapingCap[]
  /** Active actions (expired ones are dropped). */
  active(): ShapingEntry[]
  /** Lift the actions on a destination key (`provider:yahoo`, `domain:example.com`) or all; returns how many were lifted. */
  lift(key?: string): number
  /** The shareable state. */
  exportState(): ShapingState
  /** Merge a state (e.g. loaded from a store); for the same key and rule the later `until` wins. Invalid input throws `EINVALID_OPTION`. */
  importState(state: ShapingState): void
  on<K extends keyof ShaperEvents>(event: K, listener: (...args: ShaperEvents[K]) => void): this
  off<K extends keyof ShaperEvents>(event: K, listener: (...args: ShaperEvents[K]) => void): this
}

interface CompiledRule {
  rule: ShapingRule
  pattern?: RegExp
  threshold: number
  bucketMs: number
  nBuckets: number
  types: ReadonlySet<EventType>
}

interface Counter {
  /** Bucket start times and counts: [t, matched, total] triples, oldest first. */
  b: number[]
}

function fail(msg: string, cause?: unknown): never {
  throw new BounceGuardError('EINVALID_OPTION', `${PKG}: ${msg}`, cause === undefined ? {} : { cause })
}

/** Patterns already proven linear-time (the analysis takes tens of milliseconds each). */
const SAFE_PATTERNS = new Set<string>()

function compileRule(r: ShapingRule, i: number): CompiledRule {
  const where = `rules[${i}]${r && typeof r.id === 'string' ? ` (${r.id})` : ''}`
  if (!r || typeof r !== 'object') fail(`${where}: a rule must be an object`)
  if (typeof r.id !== 'string' || r.id === '') fail(`${where}: "id" must be a non-empty string`)
  if (!r.match || typeof r.match !== 'object') fail(`${where}: "match" must be an object`)
  const a = r.action as ShapingAction | undefined
  if (!a || (a.type !== 'pause' && a.type !== 'cap')) fail(`${where}: "action" must be { type: 'pause' } or { type: 'cap', perMinute }`)
  if (a.type === 'cap' && !(typeof a.perMinute === 'number' && a.perMinute > 0 && Number.isFinite(a.perMinute)))
    fail(`${where}: "action.perMinute" must be a positive number`)
  if (!(typeof r.durationMs === 'number' && r.durationMs > 0 && Number.isFinite(r.durationMs)))
    fail(`${where}: "durationMs" must be a positive number`)
  const windowMs = r.windowMs ?? 10 * MIN
  if (!(typeof windowMs === 'number' && windowMs > 0 && Number.isFinite(windowMs))) fail(`${where}: "windowMs" must be a positive number`)
  const threshold = r.threshold ?? 1
  if (!(Number.isInteger(threshold) && threshold >= 1)) fail(`${where}: "threshold" must be a positive integer`)
  if (r.rate !== undefined) {
    if (!(r.rate.atLeast > 0 && r.rate.atLeast <= 1)) fail(`${where}: "rate.atLeast" must be in (0, 1]`)
    if (!(Number.isInteger(r.rate.minEvents) && r.rate.minEvents >= 1)) fail(`${where}: "rate.minEvents" must be a positive integer`)
  }
  if (r.per !== undefined && r.per !== 'provider' && r.per !== 'domain') fail(`${where}: "per" must be 'provider' or 'domain'`)
  let pattern: RegExp | undefined
  const p = r.match.pattern
  if (p !== undefined) {
    try {
      pattern = typeof p === 'string' ? new RegExp(p, 'i') : new RegExp(p.source, p.flags.replace(/[gy]/g, ''))
    } catch (err) {
      fail(`${where}: "match.pattern" is not a valid regular expression`, err)
    }
    const sig = String(pattern)
    let safe = SAFE_PATTERNS.has(sig)
    if (!safe) {
      try {
        safe = isSafe(pattern, { timeout: 2000 }).safe
      } catch (err) {
        fail(`${where}: pattern ${String(pattern)} could not be analysed for catastrophic backtracking`, err)
      }
      if (safe && SAFE_PATTERNS.size < 1000) SAFE_PATTERNS.add(sig)
    }
    if (!safe) fail(`${where}: pattern ${String(pattern)} is not linear-time (it may backtrack catastrophically on crafted replies)`)
  }
  // Count in 1/10ths of the window (at most 1 minute), so the window slides smoothly.
  const bucketMs = Math.min(MIN, Math.max(1000, Math.floor(windowMs / 10)))
  const c: CompiledRule = {
    rule: r,
    threshold,
    bucketMs,
    nBuckets: Math.max(1, Math.ceil(windowMs / bucketMs)),
    types: new Set(r.match.types ?? ['bounced', 'deferred']),
  }
  if (pattern) c.pattern = pattern
  return c
}

function strictness(d: ShapingDecision): number {
  return d.action === 'pause' ? 2e15 + d.until.getTime() : d.action === 'pace' ? 1e15 + d.delayMs : 0
}

class ShaperImpl extends EventEmitter implements Shaper {
  readonly rules: readonly ShapingRule[]
  readonly #compiled: CompiledRule[]
  readonly #now: () => Date
  readonly #providers: ProviderResolver
  /** ruleIndex \u0000 key -> counter */
  readonly #counters = new Map<string, Counter>()
  /** key \u0000 ruleId -> entry */
  readonly #entries = new Map<string, ShapingEntry>()
  /** key -> next free send slot (epoch ms) for capped keys */
  readonly #slots = new Map<string, number>()

  constructor(o: ShaperOptions) {
    super()
    const rules = o.rules ?? DEFAULT_SHAPING_RULES
    if (!Array.isArray(rules)) fail('rules must be an array')
    this.#compiled = rules.map(compileRule)
    const ids = new Set<string>()
    for (const r of rules) {
      if (ids.has(r.id)) fail(`duplicate rule id ${JSON.stringify(r.id)}`)
      ids.add(r.id)
    }
    this.rules = Object.freeze([...rules])
    if (o.now !== undefined && typeof o.now !== 'function') fail('now must be a function')
    this.#now = o.now ?? (() => new Date())
    this.#providers = new ProviderResolver(o.providers ?? {})
  }

  #matches(c: CompiledRule, e: BounceEvent, provider: string | undefined): boolean {
    const m = c.rule.match
    if (!c.types.has(e.type)) return false
    const cl = e.classification
    if (m.ruleIds && !(cl && m.ruleIds.includes(cl.ruleId))) return false
    if (m.reasons && !(cl && m.reasons.includes(cl.reason))) return false
    if (m.scopes && !(cl && m.scopes.includes(cl.scope))) return false
    if (m.providers && !(provider !== undefined && m.providers.includes(provider))) return false
    if (c.pattern) {
      if (typeof e.reply !== 'string') return false
      c.pattern.lastIndex = 0
      if (!c.pattern.test(e.reply.length > MAX_TEXT ? e.reply.slice(0, MAX_TEXT) : e.reply)) return false
    }
    return true
  }

  /** Add to a counter; returns [matched, total] over the window. */
  #count(c: CompiledRule, id: string, t: number, matched: boolean): [number, number] {
    let k = this.#counters.get(id)
    if (!k) {
      k = { b: [] }
      this.#counters.set(id, k)
    }
    const start = Math.floor(t / c.bucketMs) * c.bucketMs
    const oldest = start - (c.nBuckets - 1) * c.bucketMs
    const b = k.b
    let drop = 0
    while (drop < b.length && b[drop]! < oldest) drop += 3
    if (drop) b.splice(0, drop)
    if (b.length === 0 || b[b.length - 3]! < start) b.push(start, 0, 0)
    const last = b.length - 3
    if (b[last] === start) {
      if (matched) b[last + 1]!++
      b[last + 2]!++
    }
    let m = 0
    let n = 0
    for (let i = 0; i < b.length; i += 3) {
      m += b[i + 1]!
      n += b[i + 2]!
    }
    return [m, n]
  }

  observe(input: RecordResult | (BounceEvent & { remoteMta?: string }), meta?: { remoteMta?: string }): ShapingEntry[] {
    if (!input || typeof input !== 'object') return []
    let e: BounceEvent & { remoteMta?: string }
    if ('event' in input && 'decision' in input) {
      if (input.duplicate) return []
      e = input.event
    } else e = input as BounceEvent
    if (typeof e.domain !== 'string' || !e.type) return []
    if (e.type === 'suppressed' || e.type === 'auto-reply') return []
    const now = this.#now().getTime()
    const provider = this.#providers.attribute(e, meta?.remoteMta ?? e.remoteMta)
    const started: ShapingEntry[] = []
    this.#compiled.forEach((c, i) => {
      const key = c.rule.per === 'domain' || provider === undefined ? `domain:${e.domain}` : `provider:${provider}`
      if (c.rule.match.providers && provider !== undefined && !c.rule.match.providers.includes(provider)) return
      const matched = this.#matches(c, e, provider)
      if (!matched && !c.rule.rate) return
      const id = `${i}\u0000${key}`
      const [m, n] = this.#count(c, id, now, matched)
      if (!matched) return
      const fire = c.rule.rate ? n >= c.rule.rate.minEvents && m / n >= c.rule.rate.atLeast : m >= c.threshold
      if (!fire) return
      this.#counters.delete(id) // a new trigger needs fresh evidence
      const entry: ShapingEntry = { key, ruleId: c.rule.id, action: c.rule.action.type, since: now, until: now + c.rule.durationMs }
      if (c.rule.action.type === 'cap') entry.perMinute = c.rule.action.perMinute
      if (typeof e.reply === 'string') entry.reply = e.reply.slice(0, 300)
      const ek = `${key}\u0000${c.rule.id}`
      const prev = this.#entries.get(ek)
      if (prev && prev.until > now) {
        prev.until = Math.max(prev.until, entry.until)
        return
      }
      this.#entries.set(ek, entry)
      started.push(entry)
      this.emit('shaped', { ...entry })
    })
    return started
  }

  #keysOf(d: ShapingDestination): string[] {
    let domain: string | undefined
    let provider: string | undefined
    if (typeof d === 'string') {
      const at = d.lastIndexOf('@')
      domain = (at >= 0 ? d.slice(at + 1) : d).trim().toLowerCase().replace(/\.$/, '')
    } else if (d && typeof d === 'object') {
      if (typeof d.domain === 'string') domain = d.domain.trim().toLowerCase().replace(/\.$/, '')
      provider = typeof d.provider === 'string' ? d.provider : this.#providers.byHost(d.remoteMta)
    }
    if (provider === undefined && domain) provider = this.#providers.byDomain(domain)
    const keys: string[] = []
    if (domain) keys.push(`domain:${domain}`)
    if (provider) keys.push(`provider:${provider}`)
    return keys
  }

  caps(destination: ShapingDestination): ShapingCap[] {
    const now = this.#now().getTime()
    const keys = this.#keysOf(destination)
    const perKey = new Map<string, ShapingCap>()
    for (const e of this.#entries.values()) {
      if (e.until <= now || e.action !== 'cap' || !keys.includes(e.key)) continue
      const perMinute = e.perMinute ?? 1
      const p = perKey.get(e.key)
      if (!p || perMinute < p.perMinute) perKey.set(e.key, { key: e.key, perMinute, ruleId: e.ruleId })
    }
    return [...perKey.values()]
  }

  check(destination: ShapingDestination): ShapingDecision {
    const now = this.#now().getTime()
    const keys = this.#keysOf(destination)
    let best: ShapingDecision = { action: 'send' }
    const caps: Array<{ key: string; perMinute: number; ruleId: string }> = []
    for (const ek of [...this.#entries.keys()]) {
      const e = this.#entries.get(ek)!
      if (e.until <= now) {
        this.#entries.delete(ek)
        continue
      }
      if (!keys.includes(e.key)) continue
      if (e.action === 'pause') {
        const d: ShapingDecision = { action: 'pause', until: new Date(e.until), ruleId: e.ruleId, key: e.key }
        if (strictness(d) > strictness(best)) best = d
      } else caps.push({ key: e.key, perMinute: e.perMinute ?? 1, ruleId: e.ruleId })
    }
    if (best.action === 'pause') return best
    // Pacing: every cap on the destination must have a free slot; the strictest cap per key wins.
    const perKey = new Map<string, { perMinute: number; ruleId: string }>()
    for (const c of caps) {
      const p = perKey.get(c.key)
      if (!p || c.perMinute < p.perMinute) perKey.set(c.key, c)
    }
    for (const [key, c] of perKey) {
      const next = this.#slots.get(key) ?? 0
      if (next > now) {
        const d: ShapingDecision = { action: 'pace', delayMs: next - now, ruleId: c.ruleId, key }
        if (strictness(d) > strictness(best)) best = d
      }
    }
    if (best.action !== 'send') return best
    for (const [key, c] of perKey) this.#slots.set(key, now + Math.ceil(MIN / c.perMinute))
    return best
  }

  active(): ShapingEntry[] {
    const now = this.#now().getTime()
    const out: ShapingEntry[] = []
    for (const [k, e] of this.#entries) {
      if (e.until <= now) this.#entries.delete(k)
      else out.push({ ...e })
    }
    return out.sort((a, b) => a.since - b.since || (a.key < b.key ? -1 : 1))
  }

  lift(key?: string): number {
    let n = 0
    for (const [k, e] of this.#entries) {
      if (key === undefined || e.key === key) {
        this.#entries.delete(k)
        this.#slots.delete(e.key)
        n++
      }
    }
    return n
  }

  exportState(): ShapingState {
    return { version: 1, at: this.#now().getTime(), entries: this.active(), providers: this.#providers.learned() }
  }

  importState(state: ShapingState): void {
    if (!state || typeof state !== 'object' || state.version !== 1 || !Array.isArray(state.entries))
      fail('importState() expects { version: 1, entries: [...] }')
    const now = this.#now().getTime()
    for (const raw of state.entries) {
      const e = raw as Partial<ShapingEntry>
      if (!e || typeof e.key !== 'string' || typeof e.ruleId !== 'string' || (e.action !== 'pause' && e.action !== 'cap'))
        fail('importState(): an entry needs key, ruleId and action')
      if (!Number.isFinite(e.until) || !Number.isFinite(e.since)) fail('importState(): an entry needs numeric since and until')
      if (e.action === 'cap' && !(typeof e.perMinute === 'number' && e.perMinute > 0))
        fail('importState(): a cap entry needs a positive perMinute')
      if ((e.until as number) <= now) continue
      const ek = `${e.key}\u0000${e.ruleId}`
      const prev = this.#entries.get(ek)
      if (prev && prev.until >= (e.until as number)) continue
      const entry: ShapingEntry = { key: e.key, ruleId: e.ruleId, action: e.action, since: e.since as number, until: e.until as number }
      if (e.perMinute !== undefined) entry.perMinute = e.perMinute
      if (typeof e.reply === 'string') entry.reply = e.reply.slice(0, 300)
      this.#entries.set(ek, entry)
    }
    if (state.providers && typeof state.providers === 'object') {
      for (const [d, p] of Object.entries(state.providers)) if (typeof p === 'string') this.#providers.learn(d, p)
    }
  }
}

/**
 * Create a traffic shaper.
 * @example
 * const shaper = createShaper()
 * guard.on('deferred', (r) => shaper.observe(r))
 * guard.on('bounce', (r) => shaper.observe(r))
 * const d = shaper.check('someone@yahoo.com')
 * if (d.action === 'pause') scheduleRetryAt(d.until)
 */
export function createShaper(options: ShaperOptions = {}): Shaper {
  return new ShaperImpl(options ?? {})
}
