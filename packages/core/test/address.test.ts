import { describe, expect, it } from 'vitest'
import { BounceGuardError, normalizeAddress, normalizeDomain, tryNormalizeAddress } from '@bounce-guard/core'

describe('normalizeAddress', () => {
  it('folds case of domain and local part', () => {
    expect(normalizeAddress('Alice@Example.COM')).toBe('alice@example.com')
    expect(normalizeAddress(' <ALICE@EXAMPLE.COM.> ')).toBe('alice@example.com')
  })
  it('keeps local-part case when asked', () => {
    expect(normalizeAddress('Alice@Example.COM', { caseInsensitiveLocalPart: false })).toBe('Alice@example.com')
  })
  it('encodes international domains to ASCII and unifies Unicode forms', () => {
    expect(normalizeAddress('bob@Bücher.example')).toBe('bob@xn--bcher-kva.example')
    // "é" precomposed and decomposed are one address
    expect(normalizeAddress('ren\u00e9@example.com')).toBe(normalizeAddress('rene\u0301@example.com'))
  })
  it('rejects what is not an address', () => {
    expect(tryNormalizeAddress('not an address')).toBeUndefined()
    expect(tryNormalizeAddress('@example.com')).toBeUndefined()
    expect(tryNormalizeAddress('a@')).toBeUndefined()
    expect(() => normalizeAddress('nope')).toThrow(BounceGuardError)
  })
  it('normalises domains', () => {
    expect(normalizeDomain('EXAMPLE.com.')).toBe('example.com')
    expect(normalizeDomain('')).toBeUndefined()
  })
  it('gives the same answers when domains repeat, also after more domains than its cache holds', () => {
    const first = ['Bücher.example', 'EXAMPLE.com.', '', 'a..', `${'x'.repeat(254)}.com`, '[127.0.0.1]']
    const expected = ['xn--bcher-kva.example', 'example.com', undefined, 'a', undefined, '[127.0.0.1]']
    for (let round = 0; round < 3; round++) {
      expect(first.map((d) => normalizeDomain(d))).toEqual(expected)
      for (let i = 0; i < 1500; i++) expect(normalizeDomain(`Host${i}.Example`)).toBe(`host${i}.example`)
    }
  })
})
