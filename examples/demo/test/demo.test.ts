// Runs the whole demo (real smtp-server, real Nodemailer, SQLite file store) and checks what it is
// meant to show: dead addresses suppressed, soft failures delivered or escalated, sender-side
// blocks never suppressing anyone, suppressed addresses refused before the SMTP server sees them.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CAMPAIGN } from '../src/campaign.js'
import { runDemo, type DemoResult } from '../src/main.js'

const HOUR = 3_600_000

describe('pnpm demo', () => {
  let result: DemoResult
  let dir: string
  const printed: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bg-demo-test-'))
    result = await runDemo({ dbPath: join(dir, 'demo.sqlite'), print: (s) => printed.push(s) })
  }, 120_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const suppressedKeys = () => result.suppressions.map((s) => s.key).sort()

  it('suppresses the dead addresses at once and the persistent soft failures by escalation', () => {
    expect(suppressedKeys()).toEqual(['gone@outlook.test', 'hank@yahoo.test', 'ivy@gmail.test', 'old.friend@gmail.test'])
    expect(result.escalated).toEqual(['hank@yahoo.test', 'ivy@gmail.test'])
    const byKey = new Map(result.suppressions.map((s) => [s.key, s]))
    expect(byKey.get('old.friend@gmail.test')).toMatchObject({ reason: 'userunknown', escalated: false })
    expect(byKey.get('ivy@gmail.test')).toMatchObject({ reason: 'mailboxfull', escalated: true })
    expect(byKey.get('hank@yahoo.test')).toMatchObject({ reason: 'suspend', escalated: true })
    // Escalation waited for the policy's 72 hours of simulated time.
    expect(result.simulatedMs).toBeGreaterThanOrEqual(72 * HOUR)
  })

  it('classifies the first campaign by what each provider said', () => {
    const first = new Map(result.first.map((r) => [r.recipient, r]))
    expect(first.get('old.friend@gmail.test')).toMatchObject({ result: 'bounced', reason: 'userunknown', hard: true, scope: 'recipient' })
    expect(first.get('gone@outlook.test')).toMatchObject({ reason: 'userunknown', hard: true })
    expect(first.get('ivy@gmail.test')).toMatchObject({ reason: 'mailboxfull', hard: false })
    expect(first.get('dan@outlook.test')).toMatchObject({ hard: false, scope: 'sender' })
    expect(first.get('erin@outlook.test')).toMatchObject({ hard: false, scope: 'sender' })
    expect(first.get('jo@gmail.test')).toMatchObject({ hard: false, scope: 'sender' })
    expect(first.get('bruno@gmail.test')).toMatchObject({ result: 'deferred', hard: false, scope: 'sender' })
    expect(first.get('kim@smallbiz.test')).toMatchObject({ result: 'deferred', hard: false })
    for (const r of result.first) if (r.result !== 'delivered') expect(r.ruleId, r.recipient).toBeTruthy()
  })

  it('delivers the temporary failures on retry, and never suppresses for a sender-side block', () => {
    for (const a of [
      'ana@gmail.test',
      'carla@outlook.test',
      'frank@yahoo.test',
      'bruno@gmail.test',
      'grace@yahoo.test',
      'kim@smallbiz.test',
    ]) {
      expect(result.delivered, a).toContain(a)
    }
    for (const a of ['dan@outlook.test', 'erin@outlook.test', 'jo@gmail.test']) {
      expect(suppressedKeys(), a).not.toContain(a)
      expect(result.delivered, a).not.toContain(a)
    }
    // The blocks raised alerts for the destinations instead.
    expect(result.alerts.length).toBeGreaterThan(0)
  })

  it('refuses suppressed addresses at call time in the second campaign; the server never sees them', () => {
    expect([...result.refusedInSecond].sort()).toEqual(suppressedKeys())
    for (const a of result.refusedInSecond) expect(result.serverSawInSecond).not.toContain(a)
    const notSuppressed = CAMPAIGN.map((m) => m.to).filter((a) => !suppressedKeys().includes(a))
    expect([...result.serverSawInSecond].sort()).toEqual(notSuppressed.sort())
  })

  it('ends with a per-domain report that matches the store', () => {
    const gmail = result.report.rows.find((r) => r.key === 'gmail.test')!
    expect(gmail.hardBounces).toBe(1)
    expect(gmail.delivered).toBeGreaterThanOrEqual(4)
    expect(result.report.refusing.map((r) => r.destination)).toEqual(expect.arrayContaining(['outlook.test', 'gmail.test']))
    expect(result.report.suppressionsAdded.total).toBe(4)
  })

  it('is offline and quick, and tells where the database is', () => {
    expect(result.elapsedMs).toBeLessThan(60_000)
    expect(dirname(result.dbPath)).toBe(dir)
    expect(printed.join('\n')).toContain(`pnpm bounce-guard suppressions list --db sqlite:${result.dbPath}`)
  })

  it('leaves a database the CLI can explore, as printed', () => {
    const repo = fileURLToPath(new URL('../../..', import.meta.url))
    const tsx = pathToFileURL(createRequire(join(repo, 'package.json')).resolve('tsx')).href
    const r = spawnSync(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        tsx,
        join(repo, 'packages/cli/src/bin.ts'),
        'suppressions',
        'list',
        '--json',
        '--db',
        `sqlite:${result.dbPath}`,
      ],
      { encoding: 'utf8', cwd: repo, timeout: 60_000 },
    )
    expect(r.status, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as Array<{ key: string }>).map((s) => s.key).sort()).toEqual(suppressedKeys())
  })
})
