/**
 * `classifyReply` and `createClassifier`: what an SMTP reply means, decided by data-driven rules
 * (see `rules/`). The rule list is compiled once:
 * - every rule keyword, every provider/blocklist hint and every retry hint goes into one
 *   Aho-Corasick automaton (`KeywordMatcher`), so one pass over the text finds all candidate rules
 *   at once, whatever the number of rules;
 * - only the candidates are then confirmed (code/status constraints, optional linear-time pattern),
 *   lowest index (= highest priority) first;
 * - table rules (RFC 3463 status, basic code) are hash look-ups, used when no text rule matched.
 *
 * User rules go ahead of the built-in ones and are validated (shape, and a ReDoS analysis of their
 * pattern): a bad rule throws `BounceGuardError` `EINVALID_RULE` at `createClassifier` time.
 */
import { isSafe } from 'redos-detector'
import { BounceGuardError } from './errors.js'
import { KeywordMatcher, normalizeKeyword, type KeywordEntry } from './keyword-matcher.js'
import { BUILTIN_RULES } from './rules/index.js'
import { BLOCKLIST_TEXT_HINTS, PROVIDER_DOMAIN_HINTS, PROVIDER_TEXT_HINTS, RETRY_TEXT_HINTS } from './rules/hints.js'
import type { ReplyRule } from './rules/types.js'
import { createReplyShape, parseReplyBytes, singleSpaced } from './reply-bytes.js'
import { parseSmtpReply, squash } from './smtp-reply.js'
import {
  BOUNCE_REASONS,
  type BounceClassification,
  type BounceReason,
  type BounceScope,
  type ClassifyContext,
  type SmtpReply,
} from './types.js'

export type { ReplyRule } from './rules/types.js'

/** A rule supplied by the user: a `ReplyRule` whose `examples` may be left out. */
export type UserRule = Omit<ReplyRule, 'examples'> & { examples?: readonly string[] }

/** Reasons that make an address dead (when the reply is permanent). */
export const HARD_REASONS: ReadonlySet<BounceReason> = new Set<BounceReason>(['userunknown', 'hostunknown', 'hasmoved', 'notaccept'])

/** The scope each reason has unless a rule says otherwise. */
export const REASON_SCOPE: Readonly<Record<BounceReason, BounceScope>> = {
  userunknown: 'recipient',
  hostunknown: 'domain',
  hasmoved: 'recipient',
  notaccept: 'domain',
  suspend: 'recipient',
  mailboxfull: 'recipient',
  exceedlimit: 'message',
  mesgtoobig: 'message',
  filtered: 'recipient',
  rejected: 'sender',
  blocked: 'sender',
  badreputation: 'sender',
  requireptr: 'sender',
  notcompliantrfc: 'message',
  authfailure: 'sender',
  spamdetected: 'message',
  virusdetected: 'message',
  policyviolation: 'message',
  contenterror: 'message',
  ratelimited: 'sender',
  toomanyconn: 'sender',
  speeding: 'sender',
  systemerror: 'domain',
  systemfull: 'domain',
  networkerror: 'network',
  expired: 'network',
  norelaying: 'sender',
  securityerror: 'sender',
  failedstarttls: 'network',
  syntaxerror: 'sender',
  mailererror: 'recipient',
  onhold: 'network',
  suppressed: 'recipient',
  vacation: 'recipient',
  feedback: 'recipient',
  delivered: 'recipient',
  undefined: 'network',
}

/** Reasons taken as temporary when a reply carries neither a code nor an enhanced status. */
const TEMPORARY_WHEN_UNKNOWN: ReadonlySet<BounceReason> = new Set<BounceReason>([
  'mailboxfull',
  'toomanyconn',
  'speeding',
  'ratelimited',
  'systemfull',
  'systemerror',
  'networkerror',
  'onhold',
  'delivered',
  'vacation',
  'feedback',
  'undefined',
  'failedstarttls',
])

/** Options of `createClassifier`. */
export interface ClassifierOptions {
  /**
   * Rules tried before the built-in ones, in order. Validated: a malformed rule or a pattern that
   * is not linear-time throws `BounceGuardError` `EINVALID_RULE`.
   * @default []
   */
  rules?: readonly UserRule[]
  /**
   * Use the built-in rules after the user rules.
   * @default true
   */
  builtins?: boolean
  /**
   * Characters of reply text examined (the scan is linear; this bounds it for huge inputs).
   * @default 16384
   */
  maxTextLength?: number
}

/** Per-call options of `classifyReply`. */
export interface ClassifyOptions {
  /**
   * The classifier to use.
   * @default the shared classifier built from the built-in rules
   */
  classifier?: Classifier
}

/** A compiled rule set. */
export interface Classifier {
  /** Classify one reply (a string is parsed with `parseSmtpReply` first). Never throws. */
  classify(reply: SmtpReply | string, context?: ClassifyContext): BounceClassification
  /** The rules in priority order (user rules first). */
  readonly rules: readonly ReplyRule[]
}

interface Compiled {
  rule: ReplyRule
  classes: number // bit mask of 2/4/5, 0 = any
  codes: ReadonlySet<number> | null
  statusExact: readonly string[]
  statusPrefix: readonly string[]
  pattern: RegExp | null
  /** What the result takes from the rule, worked out once: the reason makes a permanent reply hard. */
  hardable: boolean
  scope: BounceScope
  /** `permanent` when the reply has neither code nor status. */
  permanentWhenUnknown: boolean
}

const STATUS_SPEC = /^(?:[245x]\.\d{1,3}\.\d{1,3}|[245x]\.(?:\d{1,3}\.)?)$/
const RETRY =
  /(?:try again|retry|retry-after|wait|resend|come back|deferred for|blocked for|again)(?: later)?(?: in| after| for|:)? ?(?:about |at least |approximately |~)?(\d{1,7}) ?(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)\b/
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

function compileRule(rule: ReplyRule): Compiled {
  let classes = 0
  for (const c of rule.classes ?? []) classes |= 1 << c
  const exact: string[] = []
  const prefix: string[] = []
  for (const s of rule.status ?? []) {
    const forms = s.startsWith('x.') ? ['4' + s.slice(1), '5' + s.slice(1), '2' + s.slice(1)] : [s]
    for (const f of forms) (f.endsWith('.') ? prefix : exact).push(f)
  }
  return {
    rule,
    classes,
    codes: rule.codes && rule.codes.length > 0 ? new Set(rule.codes) : null,
    statusExact: exact,
    statusPrefix: prefix,
    pattern: rule.pattern ? new RegExp(rule.pattern.source, rule.pattern.flags.replace(/[gy]/g, '')) : null,
    hardable: HARD_REASONS.has(rule.reason) && rule.hard !== false,
    scope: rule.scope ?? REASON_SCOPE[rule.reason],
    permanentWhenUnknown: rule.permanentWhenUnknown ?? !TEMPORARY_WHEN_UNKNOWN.has(rule.reason),
  }
}

function constraintsHold(c: Compiled, cls: number | undefined, code: number | undefined, status: string | undefined): boolean {
  if (c.classes !== 0 && (cls === undefined || (c.classes & (1 << cls)) === 0)) return false
  if (c.codes !== null && (code === undefined || !c.codes.has(code))) return false
  if (c.statusExact.length + c.statusPrefix.length > 0) {
    if (status === undefined) return false
    let ok = false
    for (const s of c.statusExact) if (s === status) ok = true
    for (const s of c.statusPrefix) if (status.startsWith(s)) ok = true
    if (!ok) return false
  }
  return true
}

/** Throw `EINVALID_RULE` unless `rule` is well-formed and its pattern linear-time. */
export function validateRule(rule: unknown, where = 'rule'): asserts rule is UserRule {
  const fail = (msg: string, cause?: unknown): never => {
    throw new BounceGuardError('EINVALID_RULE', `@bounce-guard/core: ${where}: ${msg}`, cause === undefined ? {} : { cause })
  }
  if (typeof rule !== 'object' || rule === null) fail('a rule must be an object')
  const r = rule as Record<string, unknown>
  if (typeof r.id !== 'string' || r.id.trim() === '') fail('"id" must be a non-empty string')
  if (typeof r.reason !== 'string' || !(BOUNCE_REASONS as readonly string[]).includes(r.reason))
    fail(`"reason" must be one of ${BOUNCE_REASONS.join(', ')}`)
  if (r.provider !== undefined && typeof r.provider !== 'string') fail('"provider" must be a string')
  if (r.blocklist !== undefined && typeof r.blocklist !== 'string') fail('"blocklist" must be a string')
  if (r.scope !== undefined && !['recipient', 'domain', 'sender', 'message', 'network'].includes(r.scope as string))
    fail('"scope" is not a scope')
  if (r.hard !== undefined && r.hard !== false) fail('"hard" may only be false (a rule cannot make a reason hard)')
  if (r.keywords !== undefined) {
    if (!Array.isArray(r.keywords) || r.keywords.some((k) => typeof k !== 'string' || normalizeKeyword(k) === ''))
      fail('"keywords" must be an array of non-empty strings')
  }
  if (r.classes !== undefined && (!Array.isArray(r.classes) || r.classes.some((c) => c !== 2 && c !== 4 && c !== 5)))
    fail('"classes" must hold 2, 4 or 5')
  if (r.codes !== undefined && (!Array.isArray(r.codes) || r.codes.some((c) => !Number.isInteger(c) || c < 200 || c > 599)))
    fail('"codes" must hold reply codes 200-599')
  if (r.status !== undefined && (!Array.isArray(r.status) || r.status.some((s) => typeof s !== 'string' || !STATUS_SPEC.test(s))))
    fail('"status" must hold statuses like "5.1.1", "x.7.26" or "5.7."')
  if (r.examples !== undefined && (!Array.isArray(r.examples) || r.examples.some((e) => typeof e !== 'string')))
    fail('"examples" must be an array of strings')
  if (r.pattern !== undefined) {
    if (!(r.pattern instanceof RegExp)) fail('"pattern" must be a RegExp')
    const p = r.pattern as RegExp
    let result: ReturnType<typeof isSafe> | undefined
    try {
      result = isSafe(p, { timeout: 2000 })
    } catch (err) {
      fail(`pattern ${String(p)} could not be analysed for catastrophic backtracking`, err)
    }
    if (!result?.safe) fail(`pattern ${String(p)} is not linear-time (it may backtrack catastrophically on crafted replies)`)
  }
  const hasCondition =
    (Array.isArray(r.keywords) && r.keywords.length > 0) ||
    r.pattern !== undefined ||
    (Array.isArray(r.classes) && r.classes.length > 0) ||
    (Array.isArray(r.codes) && r.codes.length > 0) ||
    (Array.isArray(r.status) && r.status.length > 0)
  if (!hasCondition) fail('a rule needs at least one of keywords, pattern, classes, codes or status')
}

const DOMAIN_PROVIDERS = new Map<string, string>(PROVIDER_DOMAIN_HINTS.map(([d, p]) => [d, p]))

/** The provider of a host or domain name, by its longest known suffix (label by label). */
function domainProvider(host: string | undefined): string | undefined {
  if (typeof host !== 'string' || host.length === 0 || host.length > 255) return undefined
  let h = host.trim().toLowerCase()
  if (h.endsWith('.')) h = h.slice(0, -1)
  let at = 0
  while (at >= 0 && at < h.length) {
    const p = DOMAIN_PROVIDERS.get(at === 0 ? h : h.slice(at))
    if (p !== undefined) return p
    const dot = h.indexOf('.', at)
    at = dot < 0 ? -1 : dot + 1
  }
  return undefined
}

/** Scratch space of `asciiBytes` (a prefix is at most 1024 characters). */
const PREFIX_BYTES = new Uint8Array(1024)
const ENCODER = new TextEncoder()

/** `s[0, end)` as bytes in `PREFIX_BYTES` when it is all ASCII (`end <= 1024`), else null. */
function asciiBytes(s: string, end: number): Uint8Array | null {
  const r = ENCODER.encodeInto(end === s.length ? s : s.slice(0, end), PREFIX_BYTES)
  return r.read === end && r.written === end ? PREFIX_BYTES : null
}

/** `tokenChar` of a character that drops the whole prefix token (it is fed as `|`). */
const DROPS_TOKEN = 2
/** `tokenChar` of the ASCII characters. */
const TOKEN_ASCII: Uint8Array = (() => {
  const t = new Uint8Array(128)
  for (let c = 65; c <= 90; c++) t[c] = 1
  for (let c = 97; c <= 122; c++) t[c] = 1
  for (const c of '.@[<#=') t[c.charCodeAt(0)] = DROPS_TOKEN
  return t
})()

/**
 * How a character counts in a token of a reply's prefix (`scanWithPrefix`, `scanBytes`,
 * `wordsOnly`, which must agree): `DROPS_TOKEN` for `. @ [ < # =` (a host name, address or
 * similar), 1 for a letter (ASCII, or any character above 127), else 0. A token is kept as it is
 * when it has a letter and no character that drops it.
 */
function tokenChar(c: number): number {
  return c < 128 ? (TOKEN_ASCII[c] as number) : 1
}

/** Reply strings up to this long (ASCII, one line) may take the fast path (see `classifyString`). */
const FAST_INPUT_MAX = 4096
/** The reply's bytes on the fast path, and those of a text the parser built. */
const INPUT_BYTES = new Uint8Array(FAST_INPUT_MAX)
const TEXT_BYTES = new Uint8Array(FAST_INPUT_MAX)
const SHAPE = createReplyShape()

const MAX_HITS = 512
const EMPTY = new Int32Array(0)

class CompiledClassifier implements Classifier {
  readonly rules: readonly ReplyRule[]
  private readonly compiled: Compiled[]
  /** Per rule: its `classes` mask, and 1 when it has codes, statuses or a pattern to check too. */
  private readonly classMask: Uint8Array
  private readonly moreChecks: Uint8Array
  private readonly matcher: KeywordMatcher
  /** Rules with no keyword that must be checked on every reply (user pattern/code rules). */
  private readonly always: Int32Array
  private readonly statusTable = new Map<string, number>()
  private readonly codeTable = new Map<number, number>()
  private readonly classTable = new Map<number, number>()
  /** Status-class rules (`2.`), used only when the reply has an enhanced status. */
  private readonly statusClassTable = new Map<string, number>()
  private readonly hintProvider: string[] = []
  private readonly hintBlocklist: string[] = []
  private readonly providerBase: number
  private readonly blocklistBase: number
  private readonly retryPayload: number
  private readonly stamp: Uint32Array
  private gen = 0
  /** Set by `scanWithPrefix`: the reply's prefix as bytes (`asciiBytes`), or null. */
  private prefixBytes: Uint8Array | null = null
  /** The provider text hints alone (payload = index in `hintProvider`), for `rawPrefixProvider`. */
  private readonly providerMatcher: KeywordMatcher
  private readonly hits = new Int32Array(MAX_HITS)
  private readonly found = new Int32Array(MAX_HITS * 4)
  private readonly maxText: number

  constructor(rules: readonly ReplyRule[], maxText: number) {
    this.rules = rules
    this.maxText = maxText
    this.compiled = rules.map(compileRule)
    this.classMask = Uint8Array.from(this.compiled, (c) => c.classes)
    this.moreChecks = Uint8Array.from(this.compiled, (c) =>
      c.codes !== null || c.statusExact.length + c.statusPrefix.length > 0 || c.pattern !== null ? 1 : 0,
    )
    this.stamp = new Uint32Array(rules.length)
    const entries: KeywordEntry[] = []
    const always: number[] = []
    rules.forEach((rule, i) => {
      const hasKeywords = rule.keywords !== undefined && rule.keywords.length > 0
      if (hasKeywords) {
        for (const k of rule.keywords!) entries.push({ keyword: k, payload: i })
      } else if (rule.pattern !== undefined) {
        always.push(i)
      } else {
        // A table rule: decided on codes alone, after every text rule.
        const c = this.compiled[i]!
        let tabled = false
        if (c.codes === null && c.classes === 0 && c.statusPrefix.length === 0) {
          for (const s of c.statusExact) if (!this.statusTable.has(s)) this.statusTable.set(s, i)
          tabled = c.statusExact.length > 0
        } else if (c.codes !== null && c.classes === 0 && c.statusExact.length + c.statusPrefix.length === 0) {
          for (const code of c.codes) if (!this.codeTable.has(code)) this.codeTable.set(code, i)
          tabled = true
        } else if (c.codes === null && c.statusExact.length === 0 && c.statusPrefix.length === 0 && c.classes !== 0) {
          for (const cls of [2, 4, 5]) if ((c.classes & (1 << cls)) !== 0 && !this.classTable.has(cls)) this.classTable.set(cls, i)
          tabled = true
        } else if (c.statusPrefix.length > 0 && c.codes === null && c.classes === 0 && c.statusExact.length === 0) {
          for (const p of c.statusPrefix)
            if (p.length === 2 && !this.statusClassTable.has(p.charAt(0))) this.statusClassTable.set(p.charAt(0), i)
          tabled = c.statusPrefix.every((p) => p.length === 2)
        }
        if (!tabled) always.push(i)
      }
    })
    // User rules without keywords are checked on every reply, in order, with the candidates.
    this.always = Int32Array.from(always)
    this.providerBase = rules.length
    for (const [k, p] of PROVIDER_TEXT_HINTS) {
      entries.push({ keyword: k, payload: this.providerBase + this.hintProvider.length })
      this.hintProvider.push(p)
    }
    this.blocklistBase = this.providerBase + this.hintProvider.length
    for (const [k, b] of BLOCKLIST_TEXT_HINTS) {
      entries.push({ keyword: k, payload: this.blocklistBase + this.hintBlocklist.length })
      this.hintBlocklist.push(b)
    }
    this.retryPayload = this.blocklistBase + this.hintBlocklist.length
    for (const k of RETRY_TEXT_HINTS) entries.push({ keyword: k, payload: this.retryPayload })
    this.matcher = new KeywordMatcher(entries)
    this.providerMatcher = new KeywordMatcher(PROVIDER_TEXT_HINTS.map(([k], i) => ({ keyword: k, payload: i })))
  }

  /** The first (highest-priority) rule among `hits[0..n)` and the always-checked rules that holds. */
  private pick(
    n: number,
    cls: number | undefined,
    code: number | undefined,
    status: string | undefined,
    raw: string,
    text: string | null,
    prefixEnd: number,
    skipAlways: boolean,
  ): number {
    const hits = this.hits
    for (let i = 1; i < n; i++) {
      const v = hits[i]!
      let j = i - 1
      while (j >= 0 && hits[j]! > v) {
        hits[j + 1] = hits[j]!
        j--
      }
      hits[j + 1] = v
    }
    let lower: string | undefined
    const always = skipAlways ? EMPTY : this.always
    let a = 0
    let b = 0
    while (a < n || b < always.length) {
      let idx: number
      if (b >= always.length || (a < n && hits[a]! < always[b]!)) idx = hits[a++]!
      else idx = always[b++]!
      // The class test and "nothing else to check" from two small arrays: most candidates are
      // settled without reading their (cold) rule objects.
      const mask = this.classMask[idx] as number
      if (mask !== 0 && (cls === undefined || (mask & (1 << cls)) === 0)) continue
      if (this.moreChecks[idx] === 0) return idx
      const c = this.compiled[idx]!
      if (!constraintsHold(c, cls, code, status)) continue
      if (c.pattern !== null) {
        if (lower === undefined)
          lower = lowerText(
            squash(withPrefix(this.prefixWords(raw, prefixEnd), text ?? raw.slice(this.textStart, this.textEnd))),
            this.maxText,
          )
        c.pattern.lastIndex = 0
        if (!c.pattern.test(lower)) continue
      }
      return idx
    }
    return -1
  }

  /**
   * Scan `${wordsOnly(raw[0, prefixEnd))} ${text}` (just `text` when the prefix has no token), at
   * most `maxText` characters of it, into `this.found`; returns the payload count. The prefix is
   * read token by token (tokens split on plain spaces): a token holding a letter and none of
   * `. @ [ < # =` is fed as it is, any other token (a host name, address or number) as `|`; the
   * scan never builds the joined string.
   */
  private scanWithPrefix(raw: string, prefixEnd: number, text: string): number {
    const m = this.matcher
    const found = this.found
    m.count = 0
    let budget = this.maxText
    let s = KeywordMatcher.START
    let tokens = 0
    // The prefix as bytes when it is ASCII (read natively; see `KeywordMatcher.feed`), else as is.
    const bytes = prefixEnd > 0 ? asciiBytes(raw, prefixEnd) : null
    this.prefixBytes = bytes
    let i = 0
    while (i < prefixEnd && budget > 0) {
      if ((bytes !== null ? bytes[i] : raw.charCodeAt(i)) === 32) {
        i++
        continue
      }
      let j = i
      let keep = true
      let letters = 0
      for (; j < prefixEnd; j++) {
        const c = bytes !== null ? (bytes[j] as number) : raw.charCodeAt(j)
        if (c === 32) break
        const k = tokenChar(c)
        if (k === DROPS_TOKEN) keep = false
        else letters += k
      }
      if (tokens++ > 0) {
        s = m.feedCode(32, s, found)
        budget--
      }
      if (budget > 0) {
        if (keep && letters > 0) {
          const len = Math.min(j - i, budget)
          s = bytes !== null ? m.feedAscii(bytes, i, i + len, s, found) : m.feed(raw, i, i + len, s, found)
          budget -= len
        } else {
          s = m.feedCode(124, s, found)
          budget--
        }
      }
      i = j
    }
    if (budget > 0) {
      if (tokens > 0) {
        s = m.feedCode(32, s, found)
        budget--
      }
      m.feed(text, 0, Math.min(text.length, budget), s, found)
    }
    return m.count
  }

  /**
   * `scanWithPrefix` for an ASCII reply whose bytes are in `bytes`: the prefix `bytes[0,
   * prefixEnd)` read token by token as there, then the text `textBytes[ts, te)` (white space runs
   * in it read as one space, as the scan reads the squashed text). The caller makes sure the whole
   * fits in `maxText`. Returns the payload count.
   */
  private scanBytes(bytes: Uint8Array, prefixEnd: number, textBytes: Uint8Array, ts: number, te: number): number {
    const m = this.matcher
    const found = this.found
    m.count = 0
    let s = KeywordMatcher.START
    let tokens = 0
    this.prefixBytes = bytes
    // The prefix's tokens are kept (as [start, end), negated when dropped) for `rawPrefixProvider`
    // and `prefixWords` of this call.
    const edges = this.tokenEdges
    let i = 0
    while (i < prefixEnd) {
      if (bytes[i] === 32) {
        i++
        continue
      }
      let j = i
      let keep = true
      let letters = 0
      for (; j < prefixEnd; j++) {
        const c = bytes[j] as number
        if (c === 32) break
        const k = tokenChar(c)
        if (k === DROPS_TOKEN) keep = false
        else letters += k
      }
      const kept = keep && letters > 0
      if (2 * tokens + 1 < edges.length) {
        edges[2 * tokens] = kept ? i : -1 - i
        edges[2 * tokens + 1] = j
      }
      if (tokens++ > 0) s = m.feedCode(32, s, found)
      s = kept ? m.feedAscii(bytes, i, j, s, found) : m.feedCode(124, s, found)
      i = j
    }
    this.tokenCount = 2 * tokens <= edges.length && m.count < found.length ? tokens : -1
    if (tokens > 0) s = m.feedCode(32, s, found)
    m.feedAscii(textBytes, ts, te, s, found)
    return m.count
  }

  /**
   * The prefix's tokens left by `scanBytes` of this call, `tokenEdges[2k, 2k + 1]` (a dropped
   * token's start negated, minus one), or -1 when not known (the general path, too many tokens, or
   * the payload list filled up within the prefix).
   */
  private tokenCount = -1
  private readonly tokenEdges = new Int32Array(256)

  /** `wordsOnly(raw.slice(0, prefixEnd))`, from the tokens of the scan when it left them. */
  private prefixWords(raw: string, prefixEnd: number): string {
    const n = this.tokenCount
    if (n < 0) return wordsOnly(raw.slice(0, prefixEnd))
    const edges = this.tokenEdges
    let out = ''
    for (let k = 0; k < n; k++) {
      const a = edges[2 * k] as number
      const w = a >= 0 ? raw.slice(a, edges[2 * k + 1]) : '|'
      out = k === 0 ? w : `${out} ${w}`
    }
    return out
  }

  /**
   * The first provider hint in the raw prefix `raw[0, prefixEnd)`, host names included (the main
   * scan leaves them out), or undefined. Only looked for when nothing else names the provider.
   */
  private rawPrefixProvider(raw: string, prefixEnd: number): string | undefined {
    const m = this.providerMatcher
    const bytes = this.prefixBytes // left by `scanWithPrefix` of this same call
    const n = this.tokenCount
    if (n >= 0 && bytes !== null) {
      // No hint holds white space, so each lies within a token; the kept tokens were scanned as
      // they stand and gave none (else the provider would be known): only the dropped ones can
      // (the first found, in order, is the first in the raw prefix).
      const edges = this.tokenEdges
      for (let k = 0; k < n; k++) {
        const a = edges[2 * k] as number
        if (a >= 0) continue
        const b = edges[2 * k + 1] as number
        let s = KeywordMatcher.START
        for (let i = -1 - a; i < b; i++) {
          s = m.step(s, bytes[i] as number)
          if (m.payloadCount(s) > 0) return this.hintProvider[m.payloadAt(s, 0)]
        }
      }
      return undefined
    }
    let s = KeywordMatcher.START
    for (let i = 0; i < prefixEnd; i++) {
      s = m.step(s, bytes !== null ? (bytes[i] as number) : raw.charCodeAt(i))
      if (m.payloadCount(s) > 0) return this.hintProvider[m.payloadAt(s, 0)]
    }
    return undefined
  }

  classify(input: SmtpReply | string, context?: ClassifyContext): BounceClassification {
    if (typeof input === 'string') {
      const fast = this.classifyString(input, context)
      if (fast !== undefined) return fast
    }
    let reply: SmtpReply
    try {
      reply = typeof input === 'string' ? parseSmtpReply(input) : normalizeReply(input)
    } catch {
      reply = { text: '', raw: '' }
    }
    // The words before the reply code (`... refused to talk to me:`, `host X said:`) count too,
    // with host names, addresses and numbers left out (a host called spam1.example.net says
    // nothing about spam): the scan sees `${wordsOnly(prefix)} ${text}`, fed piece by piece
    // without building that string (it is built only when a pattern or a retry delay needs it).
    const text = reply.text
    const raw = reply.raw
    let prefixEnd = 0
    if (raw.length > text.length + 12) {
      const at = text.length >= 12 ? textHeadIn(raw, text.slice(0, 12)) : raw.length
      if (at > 12) prefixEnd = Math.min(at, 1024)
    }
    const nFound = this.scanWithPrefix(raw, prefixEnd, text)
    this.tokenCount = -1
    return this.decide(reply.code, reply.enhancedStatus, raw, text, prefixEnd, nFound, context)
  }

  /**
   * The fast path of `classify` for a reply string: ASCII, of a shape `parseReplyBytes` covers.
   * Parsed over its bytes into offsets (no `SmtpReply`, mostly no text string unless a pattern or
   * a retry delay needs it), scanned from the same bytes; the result is the general path's.
   * Undefined when the reply is not of such a shape.
   */
  private classifyString(raw: string, context: ClassifyContext | undefined): BounceClassification | undefined {
    const n = raw.length
    if (n === 0 || n > FAST_INPUT_MAX || n >= this.maxText) return undefined
    const bytes = INPUT_BYTES
    const w = ENCODER.encodeInto(raw, bytes)
    if (w.read !== n || w.written !== n || !parseReplyBytes(raw, bytes, n, SHAPE)) return undefined
    const code = SHAPE.code >= 0 ? SHAPE.code : undefined
    const status = SHAPE.statusEnd > SHAPE.statusStart ? raw.slice(SHAPE.statusStart, SHAPE.statusEnd) : undefined
    if (SHAPE.text !== null) {
      // A text the parser had to build (several lines, a status cut out, repeats removed): placed
      // and scanned as the general path does, its bytes copied in natively.
      const text = SHAPE.text
      const w2 = ENCODER.encodeInto(text, TEXT_BYTES)
      if (w2.read !== text.length || w2.written !== text.length) return undefined
      let prefixEnd = 0
      if (n > text.length + 12) {
        const at = text.length >= 12 ? textHeadIn(raw, text.slice(0, 12)) : n
        if (at > 12) prefixEnd = Math.min(at, 1024)
      }
      const nFound = this.scanBytes(bytes, prefixEnd, TEXT_BYTES, 0, text.length)
      return this.decide(code, status, raw, text, prefixEnd, nFound, context)
    }
    const ts = SHAPE.textStart
    const te = SHAPE.textEnd
    // The text is squash(bytes[ts, te)). Where the prefix ends depends on the text's length and
    // its first 12 characters (see `classify`): when those 12 bytes are single-spaced, they are the
    // text's, and a run further on can change the answer only if the length decides it, that is
    // when the text starts within the first 12 characters (the prefix is then empty either way)
    // or takes all but 12 of them. Otherwise the squashed text is built to place it exactly.
    let text: string | null = null
    let prefixEnd = 0
    const rawLength = te - ts
    if ((n > rawLength + 12 || ts <= 12) && singleSpaced(bytes, ts, Math.min(te, ts + 12))) {
      if (n > rawLength + 12) {
        const at = rawLength >= 12 ? textHeadAt(raw, bytes, ts, 12) : n
        if (at > 12) prefixEnd = Math.min(at, 1024)
      }
    } else {
      text = squash(raw.slice(ts, te))
      if (n > text.length + 12) {
        const at = text.length >= 12 ? textHeadIn(raw, text.slice(0, 12)) : n
        if (at > 12) prefixEnd = Math.min(at, 1024)
      }
    }
    const nFound = this.scanBytes(bytes, prefixEnd, bytes, ts, te)
    this.textStart = ts
    this.textEnd = te
    return this.decide(code, status, raw, text, prefixEnd, nFound, context)
  }

  /** Where the text lies in the raw reply when `decide` is given none (the fast path). */
  private textStart = 0
  private textEnd = 0

  /**
   * The classification from the scan's findings (`this.found[0, nFound)`): the candidate rules
   * confirmed in priority order, then the tables, then attribution. `text` null means the text is
   * `raw.slice(this.textStart, this.textEnd)`, built only if a pattern or a retry delay needs it.
   */
  private decide(
    code: number | undefined,
    status: string | undefined,
    raw: string,
    textOrNull: string | null,
    prefixEnd: number,
    nFound: number,
    context: ClassifyContext | undefined,
  ): BounceClassification {
    const c = code !== undefined ? Math.floor(code / 100) : status !== undefined ? status.charCodeAt(0) - 48 : Number.NaN
    const cls = c === 2 || c === 4 || c === 5 ? c : undefined

    // 1. One scan for every keyword of every rule and every hint (done by the caller).
    const gen = (this.gen = (this.gen + 1) >>> 0 || 1)
    const stamp = this.stamp
    const hits = this.hits
    let nHits = 0
    let providerHint = -1
    let blocklistHint = -1
    let retryHint = false
    const providerBase = this.providerBase
    const blocklistBase = this.blocklistBase
    const retryPayload = this.retryPayload
    const found = this.found
    for (let k = 0; k < nFound; k++) {
      const p = found[k]!
      if (p < providerBase) {
        if (stamp[p] !== gen && nHits < MAX_HITS) {
          stamp[p] = gen
          hits[nHits++] = p
        }
      } else if (p < blocklistBase) {
        if (providerHint < 0) providerHint = p - providerBase
      } else if (p < retryPayload) {
        if (blocklistHint < 0) blocklistHint = p - blocklistBase
      } else {
        retryHint = true
      }
    }

    // 2. Confirm candidates in priority order.
    let winner = this.pick(nHits, cls, code, status, raw, textOrNull, prefixEnd, false)

    // 2b. A sender-side status (x.1.7, x.1.8) is the precise statement: an "unknown user/domain"
    // text then speaks of the sender, and must not make the recipient a hard bounce; a vague
    // system/syntax/network wording says less than the status.
    if (winner >= 0 && status !== undefined && isSenderStatus(status)) {
      const r = this.compiled[winner]!.rule.reason
      if (
        r === 'userunknown' ||
        r === 'hostunknown' ||
        r === 'systemerror' ||
        r === 'syntaxerror' ||
        r === 'onhold' ||
        r === 'networkerror'
      )
        winner = this.statusTable.get(status) ?? winner
    }
    if (winner >= 0 && code !== undefined && code >= 530 && code <= 538 && code !== 531 && code !== 533 && code !== 537) {
      // 530, 534, 535, 538 answer AUTH (RFC 4954): credentials or a mechanism, the sender's
      // problem whatever words follow ("535 authentication failed: user [x] not found")
      const r = this.compiled[winner]!.rule.reason
      if (r === 'userunknown' || r === 'hostunknown' || r === 'hasmoved' || r === 'notaccept') winner = this.codeTable.get(code) ?? winner
    }

    // 3. Tables: enhanced status, then its subject's x.y.0, then the code, then the class.
    if (winner < 0 && status !== undefined) {
      winner = this.statusTable.get(status) ?? -1
      if (winner < 0) {
        const dot = status.lastIndexOf('.')
        winner = this.statusTable.get(status.slice(0, dot) + '.0') ?? -1
      }
      if (winner < 0) winner = this.statusClassTable.get(status.charAt(0)) ?? -1
    }
    if (winner < 0 && code !== undefined) winner = this.codeTable.get(code) ?? -1
    if (winner < 0 && cls !== undefined) winner = this.classTable.get(cls) ?? -1

    const won = winner >= 0 ? this.compiled[winner]! : undefined
    const rule = won?.rule
    const permanent = cls !== undefined ? cls === 5 : won?.permanentWhenUnknown === true
    const result: BounceClassification = {
      reason: rule !== undefined ? rule.reason : 'undefined',
      hard: permanent && won?.hardable === true,
      permanent,
      scope: won !== undefined ? won.scope : REASON_SCOPE.undefined,
      ruleId: rule !== undefined ? rule.id : 'none',
    }
    if (code !== undefined) result.code = code
    if (status !== undefined) result.enhancedStatus = status

    // 4. Attribution.
    let provider = rule?.provider ?? domainProvider(context?.remoteMta)
    if (provider === undefined && providerHint >= 0) provider = this.hintProvider[providerHint]
    // Host names were left out of the scan; they may still name the provider.
    if (provider === undefined && prefixEnd > 0) provider = this.rawPrefixProvider(raw, prefixEnd)
    if (provider === undefined) provider = domainProvider(context?.recipientDomain)
    if (provider !== undefined) result.provider = provider
    const blocklist = rule?.blocklist ?? (blocklistHint >= 0 ? this.hintBlocklist[blocklistHint] : undefined)
    if (blocklist !== undefined) result.blocklist = blocklist
    if (retryHint) {
      const text = textOrNull ?? squash(raw.slice(this.textStart, this.textEnd))
      const seconds = parseRetryAfter(lowerText(withPrefix(this.prefixWords(raw, prefixEnd), text), this.maxText))
      if (seconds !== undefined) result.retryAfter = seconds
    }
    return result
  }
}

/**
 * Where a reply's text starts in the raw reply, given its first characters `head`: the first
 * occurrence that follows a reply code or status (a digit then a space, tab or hyphen), else the
 * first occurrence. A text that repeats words of the prefix ("host mx.example.com[192.0.2.1]
 * refused to talk to me: 554 mx.example.com") is found after its code, not in the host name.
 */
function textHeadIn(raw: string, head: string): number {
  const first = raw.indexOf(head)
  for (let j = first; j >= 0; j = raw.indexOf(head, j + 1)) {
    if (followsCode(raw, j)) return j
  }
  return first
}

/**
 * `textHeadIn` for the fast path: the head is `s.slice(at, at + len)`, `b` holds the bytes of `s`
 * (ASCII); candidates are found natively by their first character and compared as bytes.
 */
function textHeadAt(s: string, b: Uint8Array, at: number, len: number): number {
  const first = s.charAt(at)
  const last = s.length - len
  let found = -1
  for (let j = s.indexOf(first); j >= 0 && j <= last; j = s.indexOf(first, j + 1)) {
    let k = 1
    while (k < len && b[j + k] === b[at + k]) k++
    if (k < len) continue
    if (followsCode(s, j)) return j
    if (found < 0) found = j
  }
  return found < 0 ? at : found
}

/** The character before `j` is a space, tab or hyphen, and the one before that a digit. */
function followsCode(s: string, j: number): boolean {
  if (j < 2) return false
  const sep = s.charCodeAt(j - 1)
  const digit = s.charCodeAt(j - 2)
  return (sep === 32 || sep === 9 || sep === 45) && digit >= 48 && digit <= 57
}

/** `status` ends in `.1.7` or `.1.8` (a problem with the sender's address). */
function isSenderStatus(status: string): boolean {
  const n = status.length
  const last = status.charCodeAt(n - 1)
  return (
    n >= 5 &&
    (last === 55 || last === 56) &&
    status.charCodeAt(n - 2) === 46 &&
    status.charCodeAt(n - 3) === 49 &&
    status.charCodeAt(n - 4) === 46
  )
}

/** Seconds to wait, when the text says so ("try again in 5 minutes", "retry after 3600 seconds"). */
export function parseRetryAfter(lowerText: string): number | undefined {
  const m = RETRY.exec(lowerText)
  if (!m) return undefined
  const n = Number(m[1])
  const unit = UNIT_SECONDS[m[2]!.charAt(0)] ?? 1
  const seconds = n * unit
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined
}

/** The text the scan saw: the words of the reply's prefix (`raw[0, prefixEnd)`), a space, its text. */
function withPrefix(prefix: string, text: string): string {
  return prefix.length > 0 ? `${prefix} ${text}` : text
}

/** The words of a prefix: tokens holding `.`, `@`, `[`, `<`, `#`, `=`, or no letter, become `|`. */
function wordsOnly(s: string): string {
  const tokens = s.split(' ')
  let out = ''
  for (const t of tokens) {
    if (t.length === 0) continue
    let keep = true
    let letters = 0
    for (let i = 0; i < t.length; i++) {
      const k = tokenChar(t.charCodeAt(i))
      if (k === DROPS_TOKEN) {
        keep = false
        break
      }
      letters += k
    }
    // A dropped token leaves a `|`, so words around it do not join into a phrase.
    const w = keep && letters > 0 ? t : '|'
    out = out.length === 0 ? w : `${out} ${w}`
  }
  return out
}

/** The text as patterns see it: lower-case, typographic apostrophes as `'` (already space-squashed). */
function lowerText(text: string, max: number): string {
  const t = (text.length > max ? text.slice(0, max) : text).toLowerCase()
  return t.includes('\u2019') || t.includes('\u2018') ? t.replace(/[\u2018\u2019]/g, "'") : t
}

/** Digits in `s` from `i` (at most 4 looked at). */
function digitRun(s: string, i: number): number {
  let n = 0
  while (n < 4 && i + n < s.length) {
    const c = s.charCodeAt(i + n)
    if (c < 48 || c > 57) break
    n++
  }
  return n
}

/** `s` is a whole enhanced status: /^[245]\.\d{1,3}\.\d{1,3}$/ without running a regex. */
function isEnhancedStatus(s: string): boolean {
  const c0 = s.charCodeAt(0)
  if ((c0 !== 50 && c0 !== 52 && c0 !== 53) || s.charCodeAt(1) !== 46) return false
  const a = digitRun(s, 2)
  if (a < 1 || a > 3 || s.charCodeAt(2 + a) !== 46) return false
  const b = digitRun(s, 3 + a)
  return b >= 1 && b <= 3 && 3 + a + b === s.length
}

function normalizeReply(r: SmtpReply): SmtpReply {
  if (typeof r !== 'object' || r === null) return { text: '', raw: '' }
  const text = typeof r.text === 'string' ? r.text : ''
  const out: SmtpReply = { text, raw: typeof r.raw === 'string' ? r.raw : text }
  if (typeof r.code === 'number' && Number.isInteger(r.code) && r.code >= 200 && r.code <= 599) out.code = r.code
  if (typeof r.enhancedStatus === 'string') {
    const st = r.enhancedStatus.trim()
    if (isEnhancedStatus(st)) out.enhancedStatus = st
  }
  return out
}

/**
 * Build a classifier from your own rules (tried first) and the built-in ones.
 * @throws BounceGuardError `EINVALID_RULE` for a malformed rule, a duplicate id, or a pattern that
 *   is not linear-time; `EINVALID_OPTION` for bad options.
 */
export function createClassifier(options: ClassifierOptions = {}): Classifier {
  if (typeof options !== 'object' || options === null) {
    throw new BounceGuardError('EINVALID_OPTION', '@bounce-guard/core: createClassifier options must be an object')
  }
  const user = options.rules ?? []
  if (!Array.isArray(user)) throw new BounceGuardError('EINVALID_RULE', '@bounce-guard/core: "rules" must be an array of rules')
  const ids = new Set<string>()
  user.forEach((r, i) => {
    validateRule(r, `rules[${i}]`)
    if (ids.has(r.id)) throw new BounceGuardError('EINVALID_RULE', `@bounce-guard/core: rules[${i}]: duplicate rule id "${r.id}"`)
    ids.add(r.id)
  })
  const maxText = options.maxTextLength ?? 16_384
  if (!Number.isInteger(maxText) || maxText < 1)
    throw new BounceGuardError('EINVALID_OPTION', '@bounce-guard/core: "maxTextLength" must be a positive integer')
  const rules = [...user.map((r) => ({ ...r, examples: r.examples ?? [] })), ...(options.builtins === false ? [] : BUILTIN_RULES)]
  return new CompiledClassifier(rules, maxText)
}

let shared: Classifier | undefined

/** The classifier built from the built-in rules alone (compiled on first use). */
export function defaultClassifier(): Classifier {
  return (shared ??= createClassifier())
}

/**
 * Classify an SMTP reply: the reason in Sisimai's vocabulary, whether the address is dead (`hard`),
 * whether the server said the failure is permanent, who must act (`scope`), the provider and
 * blocklist when named, the retry delay when stated, and the id of the deciding rule.
 * Never throws: an unrecognisable reply gives `reason: "undefined"`, `ruleId: "none"`.
 * @param reply - a reply string in any wrapping `parseSmtpReply` accepts, or a parsed `SmtpReply`
 * @param context - what the caller knows: recipient domain, remote MX host (helps the provider)
 * @param options - e.g. a classifier made by `createClassifier` @default the built-in rules
 */
export function classifyReply(reply: SmtpReply | string, context?: ClassifyContext, options?: ClassifyOptions): BounceClassification {
  const classifier = options?.classifier ?? defaultClassifier()
  return classifier.classify(reply, context)
}
