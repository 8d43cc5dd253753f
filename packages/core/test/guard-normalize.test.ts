/**
 * `guard.normalize(address)`: the form the guard stores and looks addresses up in (its own
 * `normalize` options), the same answer as `tryNormalizeAddress` with those options, cached.
 */
import { describe, expect, it } from 'vitest'
import { MemoryBounceStore, createBounceGuard, tryNormalizeAddress } from '@bounce-guard/core'

const inputs = [
  'Alice@Example.COM',
  ' <Bob@EXAMPLE.org> ',
  'mailto:Carol@Bücher.example',
  'dave@example.com.',
  'not an address',
  '@example.com',
  'eve@',
  '"Quoted Name"@example.com',
]

describe('guard.normalize', () => {
  for (const normalize of [undefined, { caseInsensitiveLocalPart: false }]) {
    it(`answers as tryNormalizeAddress with the guard's options (${JSON.stringify(normalize ?? {})}), again from its cache`, async () => {
      const guard = createBounceGuard(normalize ? { store: new MemoryBounceStore(), normalize } : { store: new MemoryBounceStore() })
      for (let round = 0; round < 2; round++)
        for (const a of inputs) expect(guard.normalize(a), a).toBe(tryNormalizeAddress(a, normalize ?? {}))
      // What check() looks up is that form.
      const r = await guard.check(['Alice@Example.COM'])
      expect(r.allowed).toEqual(['Alice@Example.COM'])
      expect(guard.normalize('Alice@Example.COM')).toBe(normalize ? 'Alice@example.com' : 'alice@example.com')
    })
  }
})
