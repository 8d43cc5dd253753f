/**
 * A compiled multi-keyword scanner (Aho-Corasick automaton turned into a full transition table).
 * One pass over the text finds every occurrence of every keyword, whatever their number, in time
 * linear in the text: the work per character is one table look-up. Matching is case-insensitive
 * and treats any run of white space as one space, so keywords are written lower-case with single
 * spaces. Typographic apostrophes match `'`.
 *
 * Each keyword carries a numeric payload; `scan` reports the payloads of every keyword found
 * (a payload may be reported more than once).
 */

/** One keyword and what finding it means to the caller. */
export interface KeywordEntry {
  /** The literal text, matched case-insensitively, white space runs as one space. */
  keyword: string
  /** Reported to the caller when the keyword is found. */
  payload: number
}

/** Class of white space; class 0 is every character no keyword uses. */
const SPACE_CLASS = 1

/** Pieces of text at least this long are scanned as bytes (see `feed`). */
const BYTE_SCAN_MIN = 16
/** Scratch space of `feed`, shared by every matcher (a scan never yields to other code). */
const BYTES = new Uint8Array(16_384)
const ENCODER = new TextEncoder()

/** Up to this many distinct non-ASCII letters in the keywords get a symbol each; more are paired. */
const PAIR_THRESHOLD = 8

/** Normalise a keyword or text fragment the way the scanner sees it. */
export function normalizeKeyword(s: string): string {
  return s
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/\s+/g, ' ')
    .trim()
}

export class KeywordMatcher {
  /** Character code (< 128) to class. */
  private readonly ascii = new Uint16Array(128)
  /** Non-ASCII character code to class (only characters that occur in keywords). */
  private readonly extra = new Map<number, number>()
  private readonly classes: number
  /**
   * Every UTF-16 code unit to its symbol (one look-up per character, no branch on ASCII); a value
   * `>= classes` is a letter written as two symbols, `hiOf[v - classes]` then `loOf[v - classes]`.
   */
  private readonly classOfCode: Uint16Array
  /** `classOfCode` for codes below 128 (all single symbols; see `feedAscii`). */
  private readonly asciiClass: Uint16Array
  private readonly hiOf: Uint16Array
  private readonly loOf: Uint16Array
  private readonly delta: Int32Array | Uint16Array
  /**
   * States are numbered so that those with payloads come last: a state reports payloads exactly
   * when it is `>= firstOut` (no side table to read per character).
   */
  private readonly firstOut: number
  /** For state s, its payloads are `outs[outStart[s - firstOut] .. outStart[s - firstOut + 1])`. */
  private readonly outStart: Int32Array
  private readonly outs: Int32Array
  /** Payload count written by the last `feed` calls since `begin` (see `feed`). */
  count = 0
  /** Number of states of the automaton (exposed for diagnostics). */
  readonly states: number

  constructor(entries: readonly KeywordEntry[]) {
    // Character classes: every distinct character of the keywords gets one; white space is 1.
    let next = 2
    let punct = 0
    const classOf = (ch: string): number => {
      const code = ch.charCodeAt(0)
      if (/\s/.test(ch)) return SPACE_CLASS
      if (code < 128) {
        // Letters, digits and the apostrophe get a class each; all other ASCII punctuation shares
        // one class (a keyword's "." also matches ":" there), which keeps the table small.
        const own = (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 39
        if (!own) {
          if (punct === 0) punct = next++
          for (let p = 33; p < 127; p++) {
            const isOwn = (p >= 97 && p <= 122) || (p >= 65 && p <= 90) || (p >= 48 && p <= 57) || p === 39
            if (!isOwn) this.ascii[p] = punct
          }
          return punct
        }
        if (this.ascii[code] === 0) this.ascii[code] = next++
        return this.ascii[code] as number
      }
      let c = this.extra.get(code)
      if (c === undefined) {
        c = next++
        this.extra.set(code, c)
        extraClasses.push(c)
      }
      return c
    }
    // Every character of the keywords gets its class first (the alphabet must be known to encode it).
    const extraClasses: number[] = []
    const keywords: Array<[string, number]> = []
    for (const { keyword, payload } of entries) {
      const k = normalizeKeyword(keyword)
      if (k.length === 0) continue
      keywords.push([k, payload])
      for (const ch of k) classOf(ch)
    }
    // Upper-case forms share the class of their lower-case letter.
    for (let code = 65; code <= 90; code++) this.ascii[code] = this.ascii[code + 32] as number
    for (const [code, c] of [...this.extra]) {
      const ch = String.fromCharCode(code)
      for (const v of [ch.toUpperCase(), ch.toLowerCase()]) {
        if (v.length === 1 && !this.extra.has(v.charCodeAt(0))) {
          if (v.charCodeAt(0) < 128) this.ascii[v.charCodeAt(0)] = c
          else this.extra.set(v.charCodeAt(0), c)
        }
      }
    }
    const apostrophe = this.ascii[39] as number
    if (apostrophe !== 0) for (const code of [0x2018, 0x2019, 0x02bc]) this.extra.set(code, apostrophe)
    for (const code of [9, 10, 11, 12, 13, 32]) this.ascii[code] = SPACE_CLASS
    for (const code of [0xa0, 0x2028, 0x2029, 0x3000]) this.extra.set(code, SPACE_CLASS)
    // Non-ASCII letters of keywords (Cyrillic, CJK, accented...) would each add a column to every
    // row of the table. When there are more than a few, each is written as two symbols instead, a
    // "high" and a "low" one from two small sets (about 2 * sqrt(count) columns in all), which keeps
    // the table, and the part of it a scan touches, several times smaller. A high symbol only ever
    // starts a character and a low one only ends it, so a keyword still matches exactly where its
    // characters occur.
    const E = extraClasses.length
    const pairs = E > PAIR_THRESHOLD
    const H = pairs ? Math.ceil(Math.sqrt(E)) : 0
    const LO = pairs ? Math.ceil(E / H) : 0
    /** Old class -> new class (single symbols), or -1 for a paired letter. */
    const single = new Int32Array(next).fill(-1)
    const pairIndex = new Int32Array(next).fill(-1)
    let K = 0
    const isExtra = new Uint8Array(next)
    for (const c of extraClasses) isExtra[c] = 1
    for (let c = 0; c < next; c++) if (!pairs || isExtra[c] === 0) single[c] = K++
    const hiOf = new Uint16Array(E)
    const loOf = new Uint16Array(E)
    if (pairs) {
      extraClasses.forEach((c, id) => {
        pairIndex[c] = id
        hiOf[id] = K + Math.floor(id / LO)
        loOf[id] = K + H + (id % LO)
      })
      K += H + LO
    }
    this.classes = K
    this.hiOf = hiOf
    this.loOf = loOf
    // Trie over the symbols.
    const goto: Array<Map<number, number>> = [new Map()]
    const payloads: number[][] = [[]]
    const edge = (s: number, c: number): number => {
      let t = goto[s]!.get(c)
      if (t === undefined) {
        t = goto.length
        goto.push(new Map())
        payloads.push([])
        goto[s]!.set(c, t)
      }
      return t
    }
    for (const [k, payload] of keywords) {
      let s = 0
      for (const ch of k) {
        const c = classOf(ch)
        if (single[c]! >= 0) s = edge(s, single[c]!)
        else s = edge(edge(s, hiOf[pairIndex[c]!]!), loOf[pairIndex[c]!]!)
      }
      payloads[s]!.push(payload)
    }
    // Breadth-first: failure links, merged outputs, full transition table.
    const n = goto.length
    const delta = new Int32Array(n * K)
    const fail = new Int32Array(n)
    const order: number[] = [0]
    for (let c = 0; c < K; c++) {
      const t = goto[0]!.get(c)
      if (t !== undefined) {
        delta[c] = t
        fail[t] = 0
        order.push(t)
      }
    }
    for (let i = 1; i < order.length; i++) {
      const s = order[i]!
      const f = fail[s]!
      for (const p of payloads[f]!) payloads[s]!.push(p)
      for (let c = 0; c < K; c++) {
        const t = goto[s]!.get(c)
        if (t !== undefined) {
          fail[t] = delta[f * K + c]!
          delta[s * K + c] = t
          order.push(t)
        } else {
          delta[s * K + c] = delta[f * K + c]!
        }
      }
    }
    // White space runs: a state reached by a space stays put on further spaces (no keyword ends
    // with a space and the root has no space edge), which collapses runs inside the table itself.
    const spaceEdge: number[] = []
    for (let s = 0; s < n; s++) {
      const t = goto[s]!.get(SPACE_CLASS)
      if (t !== undefined) spaceEdge.push(t)
    }
    for (const t of spaceEdge) delta[t * K + SPACE_CLASS] = t
    // Renumber: states without payloads first (breadth-first order kept), then those with payloads.
    const renum = new Int32Array(n)
    let firstOut = 0
    for (let t = 0; t < n; t++) if (payloads[t]!.length === 0) renum[t] = firstOut++
    let k = firstOut
    for (let t = 0; t < n; t++) if (payloads[t]!.length > 0) renum[t] = k++
    const table = new Int32Array(n * K)
    for (let t = 0; t < n; t++) {
      const row = renum[t]! * K
      for (let c = 0; c < K; c++) table[row + c] = renum[delta[t * K + c]!]!
    }
    const outStart = new Int32Array(n - firstOut + 1)
    const lists: number[][] = new Array(n - firstOut)
    for (let t = 0; t < n; t++) if (payloads[t]!.length > 0) lists[renum[t]! - firstOut] = [...new Set(payloads[t])].sort((x, y) => x - y)
    let total = 0
    for (let i = 0; i < lists.length; i++) {
      outStart[i] = total
      total += lists[i]!.length
    }
    outStart[lists.length] = total
    const outs = new Int32Array(total)
    for (let i = 0; i < lists.length; i++) outs.set(lists[i]!, outStart[i]!)
    // Transition table as 16-bit state numbers when they fit (half the memory traffic).
    this.delta = n <= 0xffff ? Uint16Array.from(table) : table
    this.firstOut = firstOut
    this.outStart = outStart
    this.outs = outs
    this.states = n
    // Code unit -> symbol, or K + letter id for a paired letter (two symbols, see `feed`).
    const symbolOf = (c: number): number => (single[c]! >= 0 ? single[c]! : K + pairIndex[c]!)
    const classOfCode = new Uint16Array(0x10000)
    for (let code = 0; code < 128; code++) classOfCode[code] = symbolOf(this.ascii[code] as number)
    for (const [code, c] of this.extra) if (code >= 128) classOfCode[code] = symbolOf(c)
    this.classOfCode = classOfCode
    this.asciiClass = classOfCode.slice(0, 128)
  }

  /**
   * Scan `text` (at most `limit` characters, from `start`) and write the payload of every keyword
   * found into `out`, in text order, up to `out.length` entries; returns how many were written.
   * A payload found several times is written several times.
   * @param start - first character examined @default 0
   * @param limit - end of the examined range (exclusive) @default text.length
   */
  scan(text: string, out: Int32Array, start = 0, limit = text.length): number {
    this.count = 0
    this.feed(text, start, limit, 0, out)
    return this.count
  }

  /**
   * The state a scan starts in. `feed` continues a scan from a state over another piece of text,
   * so several pieces are scanned as if joined (a space between pieces is fed with `feedCode`).
   */
  static readonly START = 0

  /**
   * Continue a scan in state `s` over `text[start, end)` and return the new state; payloads are
   * appended to `out` at `this.count` (which the caller resets to 0 when a new scan begins).
   * @param s - the state returned by the previous `feed`, or `KeywordMatcher.START`
   */
  feed(text: string, start: number, end: number, s: number, out: Int32Array): number {
    const stop = Math.min(end, text.length)
    const len = stop - start
    if (len >= BYTE_SCAN_MIN && len <= BYTES.length) {
      // Reading a string's characters one by one costs twice as much when the strings come in
      // several internal forms (slices, concatenations, flat): copy it into bytes natively, and
      // scan the bytes, when it is all ASCII (one byte per character).
      const r = ENCODER.encodeInto(start === 0 && stop === text.length ? text : text.slice(start, stop), BYTES)
      if (r.read === len && r.written === len) return this.feedAscii(BYTES, 0, len, s, out)
    }
    const classOfCode = this.classOfCode
    const delta = this.delta
    const K = this.classes
    const firstOut = this.firstOut
    for (let i = start; i < stop; i++) {
      let c = classOfCode[text.charCodeAt(i)] as number
      if (c >= K) {
        // A paired letter: its high symbol, then its low one (no keyword ends in between).
        s = delta[s * K + (this.hiOf[c - K] as number)] as number
        c = this.loOf[c - K] as number
      }
      s = delta[s * K + c] as number
      if (s >= firstOut) this.report(s, out)
    }
    return s
  }

  /**
   * `feed` over character codes held in bytes, `bytes[start, end)` (ASCII text copied in with
   * `TextEncoder.encodeInto`, say).
   */
  feedBytes(bytes: Uint8Array, start: number, end: number, s: number, out: Int32Array): number {
    const classOfCode = this.classOfCode
    const delta = this.delta
    const K = this.classes
    const firstOut = this.firstOut
    for (let i = start; i < end; i++) {
      let c = classOfCode[bytes[i] as number] as number
      if (c >= K) {
        s = delta[s * K + (this.hiOf[c - K] as number)] as number
        c = this.loOf[c - K] as number
      }
      s = delta[s * K + c] as number
      if (s >= firstOut) this.report(s, out)
    }
    return s
  }

  /**
   * `feedBytes` over ASCII bytes (every byte < 128): no letter there is written as two symbols, so
   * the loop has no such branch and reads a 128-entry class table. The classifier's hot loop.
   * @internal
   */
  feedAscii(bytes: Uint8Array, start: number, end: number, s: number, out: Int32Array): number {
    const asciiClass = this.asciiClass
    const delta = this.delta
    const K = this.classes
    const firstOut = this.firstOut
    for (let i = start; i < end; i++) {
      s = delta[s * K + (asciiClass[(bytes[i] as number) & 127] as number)] as number
      if (s >= firstOut) this.report(s, out)
    }
    return s
  }

  /** Continue a scan in state `s` over one character code; returns the new state. */
  feedCode(code: number, s: number, out: Int32Array): number {
    const t = this.step(s, code)
    if (t >= this.firstOut) this.report(t, out)
    return t
  }

  /** The state after one character code from state `s` (payloads are not reported). */
  step(s: number, code: number): number {
    const K = this.classes
    let c = this.classOfCode[code & 0xffff] as number
    if (c >= K) {
      s = this.delta[s * K + (this.hiOf[c - K] as number)] as number
      c = this.loOf[c - K] as number
    }
    return this.delta[s * K + c] as number
  }

  /** How many payloads state `s` reports (0 for most states). */
  payloadCount(s: number): number {
    if (s < this.firstOut) return 0
    return (this.outStart[s - this.firstOut + 1] as number) - (this.outStart[s - this.firstOut] as number)
  }

  /** The `j`-th payload state `s` reports, in the order `scan` writes them (`j < payloadCount(s)`). */
  payloadAt(s: number, j: number): number {
    return this.outs[(this.outStart[s - this.firstOut] as number) + j] as number
  }

  private report(s: number, out: Int32Array): void {
    const outStart = this.outStart
    const outs = this.outs
    const cap = out.length
    let n = this.count
    const a = outStart[s - this.firstOut] as number
    const b = outStart[s - this.firstOut + 1] as number
    for (let j = a; j < b && n < cap; j++) out[n++] = outs[j] as number
    this.count = n
  }
}
