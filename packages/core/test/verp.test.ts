import { describe, expect, it } from 'vitest'
import { decodeVerp, encodeVerp, isBounceGuardError } from '../src/index.js'

describe('VERP', () => {
  it('decodes the classic form', () => {
    expect(decodeVerp('bounces+alice=example.com@sender.example')).toBe('alice@example.com')
    expect(decodeVerp('<bounces+alice=example.com@sender.example>')).toBe('alice@example.com')
    expect(decodeVerp('rt-bob=mail.example.org@lists.example', { prefix: 'rt', separator: '-' })).toBe('bob@mail.example.org')
  })

  it('round-trips addresses with awkward characters', () => {
    for (const a of [
      'alice@example.com',
      'a+tag@example.com',
      'x=y@example.org',
      'per%cent@example.net',
      "o'brien@example.ie",
      'a.b-c_d@sub.example.co.uk',
    ]) {
      const v = encodeVerp(a, { domain: 'sender.example' })
      expect(v.endsWith('@sender.example')).toBe(true)
      expect(v.split('@')).toHaveLength(2)
      expect(decodeVerp(v)).toBe(a)
    }
  })

  it('returns undefined, or throws EINVALID_VERP when asked, for non-VERP input', () => {
    expect(decodeVerp('alice@example.com')).toBeUndefined()
    expect(decodeVerp('bounces+noequals@sender.example')).toBeUndefined()
    expect(decodeVerp('bounces+a=b@x')).toBeUndefined()
    try {
      decodeVerp('nobody@example.com', { onInvalid: 'throw' })
      expect.unreachable()
    } catch (err) {
      expect(isBounceGuardError(err) && err.code).toBe('EINVALID_VERP')
    }
  })

  it('refuses to encode a non-address', () => {
    expect(() => encodeVerp('not-an-address', { domain: 'x.example' })).toThrow(/not an address/)
    expect(() => encodeVerp('a@b.example', { domain: '' })).toThrow(/domain/)
  })
})
