import { describe, expect, it } from 'vitest'
import { tryNormalizeAddress } from '@bounce-guard/core'

/**
 * `tryNormalizeAddress` returns an address that is already normal without the general path's
 * steps. Leading or trailing white space always sends an input down the general path (which
 * trims it), so each input is compared with itself in those forms.
 */
function general(a: string): string | undefined {
  return tryNormalizeAddress(` ${a}`)
}

const EDGE = [
  'alice@example.com',
  'a@b.co',
  'a.b+tag@mail.example.org',
  "o'neil@example.com",
  '!#$%&*+-/=?^_`{|}~.@example.com',
  '.a.@example.com',
  'a@example.123',
  'a@1.2.3.4',
  'a@0x7f.1',
  'a@example.0x7f',
  'a@example.c0m',
  'a@xn--bcher-kva.example',
  'a@xn--abc.com',
  'a@ab--cd.com',
  'a@a--.com',
  'a@-a.com',
  'a@a-.com',
  'a@example.com-',
  'a@example.com.',
  'a@.example.com',
  'a@example..com',
  'a@',
  '@example.com',
  'a@@example.com',
  'a@b@example.com',
  'mailto:a@example.com',
  'mailto@example.com',
  'Alice@example.com',
  'alice@Example.com',
  'a b@example.com',
  '"a b"@example.com',
  'a@[127.0.0.1]',
  'a@b_c.example',
  'a@bücher.example',
  'ren\u00e9@example.com',
  `a@${'x'.repeat(249)}.com`,
  `a@${'x'.repeat(250)}.com`,
  `a@${'x'.repeat(64)}.com`,
  `${'x'.repeat(995)}@a.bc`,
  `${'x'.repeat(996)}@a.bc`,
  'a@a',
  'a@1',
  'a@a1',
  'a@1a',
]

describe('tryNormalizeAddress fast path', () => {
  it('answers edge cases as the general path does', () => {
    for (const a of EDGE) {
      expect(tryNormalizeAddress(a), a).toBe(general(a))
      expect(tryNormalizeAddress(a), a).toBe(tryNormalizeAddress(`${a}\t`))
    }
  })

  it('answers generated addresses as the general path does', () => {
    // Seeded generator: addresses from characters where the two paths could part.
    let seed = 12345
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    const local = ['a', 'z', '0', '9', '.', '+', '-', '_', "'", 'A', ' ', '"', '@', ':', 'é', '\u0301']
    const domain = ['a', 'x', 'n', '0', '1', '9', '-', '--', '.', 'xn--', 'A', '_', '0x', 'ü', '[', ' ']
    const pick = (set: string[], len: number): string => {
      let s = ''
      for (let i = 0; i < len; i++) s += set[rnd(set.length)]
      return s
    }
    let normalUnchanged = 0
    for (let i = 0; i < 30_000; i++) {
      const a = `${pick(local, 1 + rnd(5))}@${pick(domain, 1 + rnd(8))}`
      const got = tryNormalizeAddress(a)
      expect(got, a).toBe(general(a))
      if (got === a) normalUnchanged++
    }
    // The generator reaches the fast path's inputs often enough for the comparison to mean something.
    expect(normalUnchanged).toBeGreaterThan(1000)
  })
})
