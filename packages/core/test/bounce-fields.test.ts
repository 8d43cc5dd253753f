import { describe, expect, it } from 'vitest'
import { firstStatus, isBlank, parseDeliveryStatus, parseHeaderSection, statusOf } from '../src/bounce/fields.js'

/** The regular expression `firstStatus` stands for. */
function byRegex(text: string, success: boolean): string | undefined {
  const m = (success ? /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\d)/ : /(?<![\d.])([45])\.(\d{1,3})\.(\d{1,3})(?!\d)/).exec(text)
  return m ? `${m[1]}.${m[2]}.${m[3]}` : undefined
}

describe('bounce fields', () => {
  it('finds the first x.y.z status, not inside longer numbers or dotted sequences', () => {
    expect(statusOf('smtp; 550 5.1.1 <a@b>: user unknown')).toBe('5.1.1')
    expect(statusOf('2.0.0 (success)')).toBe('2.0.0')
    expect(firstStatus('2.0.0 then 4.7.1', false)).toBe('4.7.1')
    expect(statusOf('version 1.5.1.1 and 10.4.4.1234')).toBeUndefined()
    expect(statusOf('5.1.1234 5.1234.1 15.1.1 x5.1.10')).toBe('5.1.10')
    expect(statusOf('ends with 4.2.')).toBeUndefined()
    expect(statusOf(undefined)).toBeUndefined()
  })

  it('finds the same status as the regular expression on generated text', () => {
    const pieces = ['5', '4', '2', '3', '1', '0', '.', '.', ' ', 'a', '55', '5.1.1', '4.7.0', '2.0.0', '1234', '٣', '\n']
    let seed = 11
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    const differ: string[] = []
    for (let t = 0; t < 50_000; t++) {
      let s = ''
      for (let i = next(14); i > 0; i--) s += pieces[next(pieces.length)]
      for (const success of [true, false]) if (firstStatus(s, success) !== byRegex(s, success)) differ.push(s)
    }
    expect(differ.slice(0, 3)).toEqual([])
  })

  it('tells blank text as trim() does', () => {
    expect(isBlank('')).toBe(true)
    expect(isBlank(' \t\r\n\v\f\u00a0\u3000\ufeff')).toBe(true)
    expect(isBlank('  x ')).toBe(false)
    expect(isBlank('\u00e9')).toBe(false)
  })

  it('reads header sections and delivery-status blocks with any line ends', () => {
    for (const nl of ['\n', '\r\n', '\r']) {
      const head = [
        'Received: from a',
        '\tby b',
        'Subject: Hello',
        ' world',
        'X-Long-Name-That-Is-Fine: 1',
        'To: a@example.org',
        '',
        'Body: no',
      ].join(nl)
      expect([...parseHeaderSection(head)]).toEqual([
        ['received', 'from a by b'],
        ['subject', 'Hello world'],
        ['x-long-name-that-is-fine', '1'],
        ['to', 'a@example.org'],
      ])
      expect([...parseHeaderSection(head, 400, new Set(['subject', 'to']))]).toEqual([
        ['subject', 'Hello world'],
        ['to', 'a@example.org'],
      ])
      const dsn = [
        'Reporting-MTA: dns; mx.example.org',
        '',
        'Final-Recipient: rfc822; a@example.org',
        'Action: failed',
        'Status: 5.1.1',
        'Diagnostic-Code: smtp; 550 no',
        '  such user',
      ].join(nl)
      const r = parseDeliveryStatus(dsn)
      expect(r.message.get('reporting-mta')).toBe('dns; mx.example.org')
      expect(r.recipients.map((b) => [b.get('final-recipient'), b.get('status'), b.get('diagnostic-code')])).toEqual([
        ['rfc822; a@example.org', '5.1.1', 'smtp; 550 no such user'],
      ])
    }
    // a name longer than 60 characters, or with a space, is no field
    expect(parseHeaderSection(`${'x'.repeat(61)}: v\nA b: c\nOk: 1`).get('ok')).toBe('1')
    expect(parseHeaderSection(`${'x'.repeat(61)}: v\nA b: c\nOk: 1`).size).toBe(1)
  })
})
