/**
 * The byte-level fast paths of the reply parser and of the classifier give exactly what the
 * general paths give. The parser is checked against a reference written with the regular
 * expressions that specify it; the classifier's fast path for a string against the classification
 * of the same reply parsed first (an `SmtpReply` never takes the string fast path). Inputs: every
 * rule example, wrapped the ways replies arrive, a grid of prefixes x codes x texts, and seeded
 * random edits of those (case, white space, punctuation, codes, cuts).
 */
import { describe, expect, it } from 'vitest'
import { BUILTIN_RULES, createClassifier, parseSmtpReply, type SmtpReply } from '@bounce-guard/core'
import { createReplyShape, parseReplyBytes } from '../src/reply-bytes.js'

// ---- The reference: parseSmtpReply on one line, as regular expressions. ----

const squashRef = (s: string): string => s.replace(/\s+/g, ' ').trim()
const LEAD = /^[ \t]*#?([245]\d\d)(?:([ -])[ \t]*(?:#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d))?|$)/
const STRONG = /(?<![\w.])#?([245]\d\d)[ -]#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)/
const WEAK = /(?:[:'"([]|\bsaid)[ \t]*#?([245]\d\d)(?=[ -]|$)/i
const STATUS = /(?<![\w.])#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)/
const NODEMAILER =
  /^\s*(?:can't send mail - all recipients were rejected:|message failed:|data command failed:|mail command failed:|recipient command failed:|invalid login:|can't send mail -)/i

function stripRef(s: string): string {
  if (/^\d/.test(s)) return s
  let out = s.replace(/^[ \t]*diagnostic-code[ \t]*:[ \t]*/i, '')
  out = out.replace(/^[ \t]*(?:smtp|x-[a-z0-9-]{1,40}|unix|mailbox)[ \t]*;[ \t]*/i, '')
  const m = NODEMAILER.exec(out)
  return m !== null && m[0].length <= 64 ? out.slice(m[0].length) : out
}

function dropRepeatsRef(text: string, code: number | undefined, status: string | undefined): string {
  if (code === undefined || !text.includes(String(code))) return text
  if (status !== undefined ? !text.includes(status) : !text.includes(`${code}-`)) return text
  const spaced = ` ${text}`
  let out = spaced
  const tokens = status === undefined ? [` ${code}-`] : [` ${code}-${status} `, ` ${code} ${status} `, ` ${code}-${status}`]
  for (const tok of tokens) out = out.split(tok).join(' ')
  return out === spaced ? text : squashRef(out)
}

function referenceParse(input: string): SmtpReply {
  const src = stripRef(input)
  let code: number | undefined
  let status: string | undefined
  let text: string
  const firstBreak = src.search(/[\r\n]/)
  const lead = LEAD.exec(firstBreak < 0 ? src : src.slice(0, firstBreak))
  if (lead && firstBreak >= 0) {
    // Several lines: each loses its own code; the first status found is the reply's.
    code = Number(lead[1])
    status = lead[3]
    const parts = src.split(/\r\n|\r|\n/).map((line) => {
      const m = LEAD.exec(line)
      if (!m) return line
      status ??= m[3]
      return line.slice(m[0].length)
    })
    text = squashRef(parts.join(' '))
    const st = status === undefined ? /^#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)\s*/.exec(text) : null
    if (st) {
      status = st[1]
      text = text.slice(st[0].length)
    }
  } else if (lead) {
    code = Number(lead[1])
    status = lead[3]
    text = squashRef(src.slice(lead[0].length))
    const st = status === undefined ? /^#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)\s*/.exec(text) : null
    if (st) {
      status = st[1]
      text = text.slice(st[0].length)
    }
  } else {
    const flat = squashRef(src)
    const strong = STRONG.exec(flat)
    const weak = strong ? null : WEAK.exec(flat)
    if (strong) {
      code = Number(strong[1])
      status = strong[2]
      text = flat.slice(strong.index + strong[0].length)
    } else if (weak) {
      code = Number(weak[1])
      text = flat.slice(weak.index + weak[0].length)
      const st = /^[ -]*#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)/.exec(text)
      if (st) {
        status = st[1]
        text = text.slice(st[0].length)
      }
    } else {
      const st = STATUS.exec(flat)
      if (st) {
        status = st[1]
        text = st.index === 0 ? flat.slice(st[0].length) : `${flat.slice(0, st.index)} ${flat.slice(st.index + st[0].length)}`
      } else text = flat
    }
    text = text.replace(/^[:;,\-\s]+/, '')
  }
  text = dropRepeatsRef(text, code, status)
  const reply: SmtpReply = { text, raw: input }
  if (code !== undefined) reply.code = code
  if (status !== undefined) reply.enhancedStatus = status
  return reply
}

// ---- Inputs. ----

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const HEADS = [
  '',
  ' ',
  '\t',
  '#',
  'Diagnostic-Code: ',
  'DIAGNOSTIC-CODE :\t',
  'diagnostic-code:smtp;',
  'Diagnostic-Code: X-Postfix; ',
  'Diagnostic-Code: x-',
  `Diagnostic-Code: x-${'a'.repeat(40)};`,
  `Diagnostic-Code: x-${'a'.repeat(41)};`,
  'smtp ; ',
  'unix;',
  'Mailbox;',
  "Can't send mail - ",
  "CAN'T SEND MAIL - ALL RECIPIENTS WERE REJECTED: ",
  'message failed:',
  ' invalid login:',
  'host mx.example.net[192.0.2.1] said: ',
  'host gmail-smtp-in.l.google.com[142.250.1.27] said: ',
  'Remote host mta7.am0.yahoodns.net said: ',
  'mx1.hotmail.com: gmail ',
  'said ',
  'Said:',
  'asaid: ',
  '(',
  '[',
  '"',
  "'",
  ':',
]
const CODES = ['550', '550-', '550 ', '#550 ', '550 5.1.1', '550-5.1.1', '550 #5.1.1', '550  5.1.1', '5.1.1', '#5.1.1', '5.1.10'].concat([
  '5.1.1.2',
  '5.1.1.',
  '5.1234.1',
  '550 5.1',
  '999',
  '55',
  '550x',
  '2.0.0',
  '450 4.7.1',
  '4.7.1 ',
  '',
  '550\t5.1.1',
])
const TAILS = ['', ' ', 'User unknown', ' User unknown ', 'User  unknown', 'user\tunknown', 'said 550 5.1.1 x', 'x 550 5.1.1 y']
  .concat(['x: 550 y', 'x (#5.1.1)', '#5.1.1 x', 'x 5.1.1', ': ; - x', '550 again', '550-again 5.1.1', 'a.550 5.1.1', 'a550 5.1.1'])
  .concat([
    '_550 5.1.1',
    'a 550 5.1.1.1',
    'x 550-5.2.2 y',
    'said: 550 y',
    'said:550-',
    'said 5501',
    'x [550] y',
    '(in reply to RCPT TO command)',
  ])

function inputs(): string[] {
  const out = new Set<string>()
  const examples: string[] = []
  for (const rule of BUILTIN_RULES) for (const e of rule.examples) examples.push(e.replace(/[\r\n]+/g, ' '))
  for (const rule of BUILTIN_RULES) for (const e of rule.examples) if (/[\r\n]/.test(e)) out.add(e).add(e.replace(/\r?\n/g, '\r\n'))
  for (const e of examples) {
    out.add(e)
    out.add(`Diagnostic-Code: smtp; ${e}`)
    out.add(`host mx.example.net[192.0.2.7] said: ${e} (in reply to RCPT TO command)`)
    out.add(`Can't send mail - all recipients were rejected: ${e}`)
  }
  for (const h of HEADS) for (const c of CODES) for (const t of TAILS) out.add(`${h}${c}${t}`).add(`${h}${t} ${c} ${t}`)
  const base = [...out]
  const r = rng(20261129)
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T
  const SPACES = [' ', '  ', '\t', '\u00a0', ' \v', '\f', '\n', '\r\n', '\r', '\n550-5.1.1 ', '\r\n550 ', '\n451-4.7.1 x\n']
  const MARKS = ['.', ':', ';', ',', '-', '_', '=', '#', '@', '[', '(', '"', "'", '\u2019', '|']
  for (let i = 0; i < 20_000; i++) {
    let t = pick(base)
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
      const at = Math.floor(r() * (t.length + 1))
      switch (Math.floor(r() * 7)) {
        case 0:
          t = t.slice(0, at) + pick(SPACES) + t.slice(at)
          break
        case 1:
          t = [...t].map((c) => (r() < 0.3 ? c.toUpperCase() : c)).join('')
          break
        case 2:
          t = t.slice(0, at) + pick(MARKS) + t.slice(at)
          break
        case 3:
          t = `${pick(CODES)}${pick([' ', '-', ''])}${t}`
          break
        case 4:
          t = pick(HEADS) + t
          break
        case 5:
          t = t.slice(at, at + Math.floor(r() * 120))
          break
        default:
          t = `${t.slice(0, at)} ${pick(CODES)} ${t.slice(at)}`
      }
    }
    out.add(t)
  }
  return [...out]
}

describe('byte-level fast paths', () => {
  const all = inputs()

  it('parseSmtpReply gives what the regular-expression reference gives, fast path or not', () => {
    const shape = createReplyShape()
    const bytes = new Uint8Array(8192)
    const encoder = new TextEncoder()
    let fast = 0
    for (const input of all) {
      expect(parseSmtpReply(input), JSON.stringify(input)).toEqual(referenceParse(input))
      const w = encoder.encodeInto(input, bytes)
      if (w.read === input.length && w.written === input.length && parseReplyBytes(input, bytes, input.length, shape)) fast++
    }
    // The comparison covers the fast path, not just the general one.
    expect(fast).toBeGreaterThan(all.length / 3)
  })

  it('the fast path declines what it cannot parse exactly, and builds the texts that are no slice', () => {
    const shape = createReplyShape()
    const bytes = new Uint8Array(256)
    const declines = (s: string): boolean => {
      bytes.set(new TextEncoder().encode(s))
      return !parseReplyBytes(s, bytes, s.length, shape)
    }
    expect(declines('host x said: 550 5.1.1 first line\n550 5.1.1 second line')).toBe(true) // lines, no leading code
    expect(declines('mailbox  unavailable (#5.1.1) here')).toBe(true) // a status mid-text, runs around it
    expect(declines('said:  550 5.1.1 text')).toBe(false) // a run before the code reads as one space
    expect(shape).toMatchObject({ code: 550, textStart: 17, text: null })
    expect(declines('550 5.1.1 <a@example.com>: User  unknown')).toBe(false)
    expect(shape).toMatchObject({ code: 550, statusStart: 4, statusEnd: 9, textStart: 10, textEnd: 40, text: null })
    expect(declines('550-5.1.1 first line\r\n550 5.1.1 second line')).toBe(false)
    expect(shape.text).toBe('first line second line')
    expect(declines('mailbox unavailable (#5.1.1) here')).toBe(false) // a status alone mid-text
    expect(shape.text).toBe('mailbox unavailable ( ) here')
    expect(declines('550-5.1.1 no such user 550 5.1.1 here')).toBe(false) // a repeated code
    expect(shape.text).toBe('no such user here')
  })

  it("hostile replies (1 MB of digits, lone surrogates, NUL bytes, the fast path's size limit) parse and classify alike both ways", () => {
    const classifier = createClassifier()
    const near = (n: number): string => `550 5.1.1 ${'x '.repeat(n)}`.slice(0, n)
    const hostile = [
      '5'.repeat(1 << 20),
      `550 ${'5'.repeat(1 << 20)}`,
      `550 5.1.1 ${'1'.repeat(1 << 20)}`,
      `host x said: ${'550 '.repeat(1 << 18)}`,
      '550 5.1.1 user \ud800 unknown',
      '\udc00550 5.1.1 user unknown',
      '550 5.1.1 user unknown\ud83d',
      '\ud83d'.repeat(5000),
      '550\u00005.1.1 user unknown',
      '550 5.1.1\u0000user\u0000unknown\u0000',
      'said: 550\u0000 user unknown',
      '\u0000'.repeat(5000),
      `550-5.1.1 a\u0000\n550 5.1.1 b\ud800`,
      near(4095),
      near(4096),
      near(4097),
    ]
    for (const input of hostile) {
      const label = `${JSON.stringify(input.slice(0, 40))} (${input.length})`
      const reply = parseSmtpReply(input)
      expect(reply.text.length, label).toBeLessThanOrEqual(65_536)
      if (input.length <= 8192) expect(reply, label).toEqual(referenceParse(input))
      expect(classifier.classify(input), label).toEqual(classifier.classify(reply))
    }
    expect(parseSmtpReply(`550 ${'5'.repeat(1 << 20)}`).code).toBe(550)
  })

  it('classifying a string gives what classifying it parsed first gives', () => {
    const classifier = createClassifier()
    const short = createClassifier({ maxTextLength: 60 })
    const context = { recipientDomain: 'example.org', remoteMta: 'mx1.example.net' }
    for (const input of all) {
      const reply = parseSmtpReply(input)
      expect(classifier.classify(input), JSON.stringify(input)).toEqual(classifier.classify(reply))
      expect(classifier.classify(input, context)).toEqual(classifier.classify(reply, context))
      expect(short.classify(input)).toEqual(short.classify(reply))
    }
  })
})
