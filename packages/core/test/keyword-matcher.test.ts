/**
 * The keyword scanner finds exactly what a plain search finds: every occurrence of every keyword
 * in the text as the scanner reads it (lower-case, white space runs as one space, typographic
 * apostrophes as `'`, any ASCII punctuation matching any other), reported in the order the
 * keywords end, the payloads ending at one place once each and ascending, cut at the output's
 * length. The reference below searches a normalised copy of the text with `startsWith` at every
 * position, so a faster matcher (a different automaton, one that skips characters) can be checked
 * against it. Inputs: seeded random keyword sets and texts over a small alphabet (so that keywords
 * overlap, nest and repeat), and the built-in rules' keywords over every rule example.
 */
import { describe, expect, it } from 'vitest'
import { BUILTIN_RULES } from '@bounce-guard/core'
import { KeywordMatcher, normalizeKeyword, type KeywordEntry } from '../src/keyword-matcher.js'

// ---- The reference. ----

const ASCII_SPACE = new Set([9, 10, 11, 12, 13, 32])
const OTHER_SPACE = new Set([0xa0, 0x2028, 0x2029, 0x3000])
const APOSTROPHES = new Set([0x2018, 0x2019, 0x02bc])

/** One character as the scanner compares it. */
function foldChar(ch: string): string {
  const c = ch.charCodeAt(0)
  if (ASCII_SPACE.has(c) || OTHER_SPACE.has(c)) return ' '
  if (APOSTROPHES.has(c) || c === 39) return "'"
  if (c < 128) {
    const lower = ch.toLowerCase()
    const own = /[a-z0-9]/.test(lower)
    return own ? lower : c > 32 && c < 127 ? '.' : '\u0000'
  }
  const lower = ch.toLowerCase()
  return lower.length === 1 ? lower : ch
}

/** The text as the scanner reads it, one entry per character kept (white space runs as one). */
function foldText(text: string): string {
  let out = ''
  for (const ch of text) {
    const f = foldChar(ch)
    if (f === ' ' && out.endsWith(' ')) continue
    out += f
  }
  return out
}

/** Keywords as the reference compares them, by their first character. */
type FoldedKeywords = Map<string, Array<{ k: string; payload: number }>>

function foldKeywords(entries: readonly KeywordEntry[]): FoldedKeywords {
  const byFirst: FoldedKeywords = new Map()
  for (const e of entries) {
    const k = foldText(normalizeKeyword(e.keyword))
    if (k.length === 0) continue
    const list = byFirst.get(k.charAt(0))
    if (list === undefined) byFirst.set(k.charAt(0), [{ k, payload: e.payload }])
    else list.push({ k, payload: e.payload })
  }
  return byFirst
}

/** What `scan` must write: payloads by end position, each end's set ascending, cut at `cap`. */
function referenceScan(keywords: FoldedKeywords, text: string, cap: number): number[] {
  const t = foldText(text)
  const byEnd = new Map<number, Set<number>>()
  for (let i = 0; i < t.length; i++) {
    for (const { k, payload } of keywords.get(t.charAt(i)) ?? []) {
      if (!t.startsWith(k, i)) continue
      const end = i + k.length - 1
      let set = byEnd.get(end)
      if (set === undefined) byEnd.set(end, (set = new Set()))
      set.add(payload)
    }
  }
  const out: number[] = []
  for (const end of [...byEnd.keys()].sort((a, b) => a - b)) out.push(...[...byEnd.get(end)!].sort((a, b) => a - b))
  return out.slice(0, cap)
}

// ---- Inputs. ----

function random(seed: number): (n: number) => number {
  let s = seed
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff
    return s % n
  }
}

const KEYWORD_CHARS = ['a', 'b', 'c', 'a', 'b', ' ', '.', "'", '1', 'ж']
const TEXT_PIECES = ['a', 'b', 'c', 'A', 'B', 'C', ' ', '  ', '\t', '\n ', '.', ':', '-', '’', "'", '1', '2', 'ж', 'Ж', '\u00a0', 'x', '@']

function randomKeywords(rnd: (n: number) => number): KeywordEntry[] {
  const entries: KeywordEntry[] = []
  const count = 1 + rnd(12)
  for (let i = 0; i < count; i++) {
    let k = ''
    const len = 1 + rnd(6)
    for (let j = 0; j < len; j++) k += KEYWORD_CHARS[rnd(KEYWORD_CHARS.length)]
    if (normalizeKeyword(k) === '') k = 'ab'
    entries.push({ keyword: rnd(4) === 0 ? k.toUpperCase() : k, payload: rnd(8) })
  }
  return entries
}

function randomText(rnd: (n: number) => number): string {
  let t = ''
  const len = rnd(60)
  for (let j = 0; j < len; j++) t += TEXT_PIECES[rnd(TEXT_PIECES.length)]
  return t
}

const asciiBytes = (s: string): Uint8Array | null => (/^[\x00-\x7f]*$/.test(s) ? Uint8Array.from(s, (c) => c.charCodeAt(0)) : null)

// ---- Tests. ----

describe('KeywordMatcher finds what a plain search finds', () => {
  it('on random keyword sets and texts: scan, feed in two pieces, and the byte walks', () => {
    const rnd = random(20261129)
    let compared = 0
    let found = 0
    for (let set = 0; set < 400; set++) {
      const entries = randomKeywords(rnd)
      const m = new KeywordMatcher(entries)
      const folded = foldKeywords(entries)
      for (let n = 0; n < 60; n++) {
        const text = randomText(rnd)
        const cap = rnd(5) === 0 ? 1 + rnd(4) : 256
        const expected = referenceScan(folded, text, cap)
        const out = new Int32Array(cap)
        const count = m.scan(text, out)
        expect([...out.subarray(0, count)], `${JSON.stringify(entries)} in ${JSON.stringify(text)}`).toEqual(expected)
        // The same text fed as two pieces continues one scan.
        const cut = rnd(text.length + 1)
        m.count = 0
        m.feed(text, cut, text.length, m.feed(text, 0, cut, KeywordMatcher.START, out), out)
        expect([...out.subarray(0, m.count)]).toEqual(expected)
        const bytes = asciiBytes(text)
        if (bytes !== null) {
          m.count = 0
          m.feedAscii(bytes, 0, bytes.length, KeywordMatcher.START, out)
          expect([...out.subarray(0, m.count)]).toEqual(expected)
          m.count = 0
          m.feedBytes(bytes, 0, bytes.length, KeywordMatcher.START, out)
          expect([...out.subarray(0, m.count)]).toEqual(expected)
        }
        compared++
        found += expected.length
      }
    }
    expect(compared).toBe(24_000)
    // The inputs do make keywords occur (an empty result everywhere would prove nothing).
    expect(found).toBeGreaterThan(compared)
  })

  it("on the built-in rules' keywords over every rule example (as written, upper-cased, re-spaced)", () => {
    const entries: KeywordEntry[] = []
    BUILTIN_RULES.forEach((rule, i) => {
      for (const keyword of rule.keywords ?? []) entries.push({ keyword, payload: i })
    })
    const m = new KeywordMatcher(entries)
    const folded = foldKeywords(entries)
    const out = new Int32Array(4096)
    let withRule = 0
    let examples = 0
    BUILTIN_RULES.forEach((rule, i) => {
      for (const example of rule.examples) {
        for (const text of [example, example.toUpperCase(), example.replace(/ /g, ' \t ')]) {
          const expected = referenceScan(folded, text, out.length)
          const count = m.scan(text, out)
          expect([...out.subarray(0, count)], text).toEqual(expected)
          if (text === example && expected.includes(i)) withRule++
        }
        examples++
      }
    })
    expect(examples).toBeGreaterThan(300)
    // Most examples name their own rule's keyword: the reference itself finds real matches.
    expect(withRule).toBeGreaterThan(examples / 2)
  })
})
