// Smoke test of the published shape: build @bounce-guard/core as its build script does, then load
// it by package name from a scratch folder, once with require() (CommonJS, as Haraka does) and once
// with import() (ESM), without the "source" condition the rest of the suite uses.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const corePkg = join(root, 'packages/core')
let scratch = ''

beforeAll(() => {
  // Build into a scratch copy of the package (its package.json, its dist, its dependencies linked),
  // so this test never rewrites packages/core/dist while another test loads it.
  scratch = mkdtempSync(join(tmpdir(), 'bg-packed-'))
  const pkgDir = join(scratch, 'node_modules/@bounce-guard/core')
  mkdirSync(pkgDir, { recursive: true })
  copyFileSync(join(corePkg, 'package.json'), join(pkgDir, 'package.json'))
  const manifest = JSON.parse(readFileSync(join(corePkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    mkdirSync(dirname(join(scratch, 'node_modules', dep)), { recursive: true })
    symlinkSync(realpathSync(join(corePkg, 'node_modules', dep)), join(scratch, 'node_modules', dep), 'dir')
  }
  execFileSync(
    join(root, 'node_modules/.bin/tsup'),
    ['src/index.ts', '--format', 'esm,cjs', '--dts', '--target', 'node20', '--out-dir', join(pkgDir, 'dist')],
    {
      cwd: corePkg,
      stdio: 'pipe',
    },
  )
  writeFileSync(join(scratch, 'package.json'), '{"private":true}')
}, 120_000)

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

function runNode(code: string, type: 'commonjs' | 'module'): string {
  const file = join(scratch, type === 'module' ? 'check.mjs' : 'check.cjs')
  writeFileSync(file, code)
  return execFileSync(process.execPath, [file], { cwd: scratch, encoding: 'utf8' }).trim()
}

const probe = (load: string) => `${load}
const out = { normalized: core.normalizeAddress('Alice@Example.COM') }
const c = core.classifyReply('550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown')
out.reason = c.reason; out.hard = c.hard
const dsn = [
  'From: MAILER-DAEMON@mx.example.net', 'To: sender@example.org', 'Subject: Undelivered Mail Returned to Sender',
  'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"', '',
  '--b1', 'Content-Type: text/plain', '', 'I could not deliver your message.', '',
  '--b1', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.net', '',
  'Final-Recipient: rfc822; carol@example.com', 'Action: failed', 'Status: 5.1.1',
  'Diagnostic-Code: smtp; 550 5.1.1 <carol@example.com>: Recipient address rejected: User unknown in local recipient table', '',
  '--b1--', '',
].join('\\r\\n')
const report = await core.parseBounceMessage(dsn)
out.kind = report.kind
out.recipients = report.recipients.map((r) => [r.recipient, r.classification && r.classification.reason])
console.log(JSON.stringify(out))`

describe('built package', () => {
  it('loads with require() from dist/index.cjs', () => {
    const out = JSON.parse(runNode(`(async () => {\n${probe("const core = require('@bounce-guard/core')")}\n})()`, 'commonjs'))
    expect(out).toMatchObject({ normalized: 'alice@example.com', reason: 'userunknown', hard: true, kind: 'bounce' })
    expect(out.recipients).toEqual([['carol@example.com', 'userunknown']])
  })
  it('loads with import() from dist/index.js', () => {
    const out = JSON.parse(runNode(probe("const core = await import('@bounce-guard/core')"), 'module'))
    expect(out).toMatchObject({ normalized: 'alice@example.com', reason: 'userunknown', hard: true, kind: 'bounce' })
    expect(out.recipients).toEqual([['carol@example.com', 'userunknown']])
  })
})
