import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BounceGuardError, ERROR_CODES, isBounceGuardError } from '@bounce-guard/core'

const packagesDir = fileURLToPath(new URL('../../', import.meta.url))

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (/\.(?:ts|mts|cts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** Every `new BounceGuardError('CODE'` in packages/<pkg>/src, with where it is. */
function usedCodes(): Array<{ code: string; file: string }> {
  const found: Array<{ code: string; file: string }> = []
  for (const pkg of readdirSync(packagesDir)) {
    const src = join(packagesDir, pkg, 'src')
    try {
      if (!statSync(src).isDirectory()) continue
    } catch {
      continue
    }
    for (const file of sourceFiles(src)) {
      const text = readFileSync(file, 'utf8')
      // the first argument, up to its comma: a literal, or a conditional between literals
      for (const m of text.matchAll(/new BounceGuardError\(([^,]{0,300}),/g)) {
        for (const c of m[1]!.matchAll(/['"`]([A-Za-z0-9_]+)['"`]/g)) found.push({ code: c[1]!, file: file.slice(packagesDir.length) })
      }
    }
  }
  return found
}

describe('ERROR_CODES', () => {
  it('lists every code used in packages/*/src', () => {
    const used = usedCodes()
    // the scan itself works: core's own sources use these
    expect(used.map((u) => u.code)).toEqual(expect.arrayContaining(['EINVALID_ADDRESS', 'ESTORE_CLOSED', 'EINVALID_OPTION', 'ESTORE']))
    const missing = used.filter((u) => !Object.hasOwn(ERROR_CODES, u.code)).map((u) => `${u.code} (${u.file})`)
    expect(missing).toEqual([])
  })

  it('gives every code a one-line description', () => {
    for (const [code, text] of Object.entries(ERROR_CODES)) {
      expect(code, code).toMatch(/^E[A-Z0-9_]+$/)
      expect(typeof text, code).toBe('string')
      expect(text.trim().length, code).toBeGreaterThan(10)
      expect(text, code).not.toMatch(/\n/)
      expect(text.trim().endsWith('.'), code).toBe(true)
    }
  })
})

describe('BounceGuardError', () => {
  it('carries code, cause and details, and is recognised across copies by name', () => {
    const cause = new Error('driver said no')
    const e = new BounceGuardError('ESTORE', '@bounce-guard/core: write failed', { cause, details: { table: 'x' } })
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('BounceGuardError')
    expect(e.code).toBe('ESTORE')
    expect(e.cause).toBe(cause)
    expect(e.details).toEqual({ table: 'x' })
    expect(isBounceGuardError(e)).toBe(true)
    const lookalike = Object.assign(new Error('x'), { name: 'BounceGuardError', code: 'ESTORE' })
    expect(isBounceGuardError(lookalike)).toBe(true)
    expect(isBounceGuardError(new Error('plain'))).toBe(false)
    expect(isBounceGuardError({ name: 'BounceGuardError', code: 'ESTORE' })).toBe(false)
  })
})
