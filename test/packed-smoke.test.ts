// Smoke test of the published shape: build @bounce-guard/core with its own build script, then load
// it by package name from a scratch folder, once with require() (CommonJS, as Haraka does) and once
// with import() (ESM), without the "source" condition the rest of the suite uses.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const corePkg = join(root, 'packages/core')
let scratch = ''

beforeAll(() => {
  execFileSync(join(root, 'node_modules/.bin/tsup'), ['src/index.ts', '--format', 'esm,cjs', '--dts', '--target', 'node20', '--out-dir', 'dist'], {
    cwd: corePkg,
    stdio: 'pipe',
  })
  scratch = mkdtempSync(join(tmpdir(), 'bg-packed-'))
  mkdirSync(join(scratch, 'node_modules/@bounce-guard'), { recursive: true })
  symlinkSync(corePkg, join(scratch, 'node_modules/@bounce-guard/core'), 'dir')
  writeFileSync(join(scratch, 'package.json'), '{"private":true}')
}, 120_000)

afterAll(() => { if (scratch) rmSync(scratch, { recursive: true, force: true }) })

function runNode(code: string, type: 'commonjs' | 'module'): string {
  const file = join(scratch, type === 'module' ? 'check.mjs' : 'check.cjs')
  writeFileSync(file, code)
  return execFileSync(process.execPath, [file], { cwd: scratch, encoding: 'utf8' }).trim()
}

const probe = (load: string) => `${load}
const out = { normalized: core.normalizeAddress('Alice@Example.COM') }
if (typeof core.classifyReply === 'function') {
  const c = core.classifyReply('550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown')
  out.reason = c.reason; out.hard = c.hard
}
console.log(JSON.stringify(out))`

describe('built package', () => {
  it('loads with require() from dist/index.cjs', () => {
    const out = JSON.parse(runNode(probe("const core = require('@bounce-guard/core')"), 'commonjs'))
    expect(out.normalized).toBe('alice@example.com')
    if ('reason' in out) expect(out).toMatchObject({ reason: 'userunknown', hard: true })
  })
  it('loads with import() from dist/index.js', () => {
    const out = JSON.parse(runNode(probe("const core = await import('@bounce-guard/core')"), 'module'))
    expect(out.normalized).toBe('alice@example.com')
    if ('reason' in out) expect(out).toMatchObject({ reason: 'userunknown', hard: true })
  })
})
