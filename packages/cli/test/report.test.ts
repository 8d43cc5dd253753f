// `bounce-guard report`: seed a SQLite file through the real TypeORM store, then run the real CLI
// and compare its figures with what was seeded.
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { get as httpGet } from 'node:http'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join } from 'node:path'
import type { BounceClassification, BounceEvent } from '@bounce-guard/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../src/lib/open-store.js'
import { runCli, tmpDir } from './cli-helpers.js'

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const cliBin = join(repoRoot, 'packages/cli/src/bin.ts')
const tsxLoader = pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('tsx')).href
const HOUR = 3_600_000
const hard: BounceClassification = {
  reason: 'userunknown',
  hard: true,
  permanent: true,
  scope: 'recipient',
  code: 550,
  enhancedStatus: '5.1.1',
  provider: 'gmail',
  ruleId: 'test.user-unknown',
}
const blocked: BounceClassification = {
  reason: 'blocked',
  hard: false,
  permanent: true,
  scope: 'sender',
  code: 550,
  enhancedStatus: '5.7.1',
  provider: 'microsoft',
  ruleId: 'test.spamhaus',
  blocklist: 'spamhaus',
}
const full: BounceClassification = {
  reason: 'mailboxfull',
  hard: false,
  permanent: false,
  scope: 'recipient',
  code: 452,
  enhancedStatus: '4.2.2',
  provider: 'yahoo',
  ruleId: 'test.full',
}

interface Row {
  key: string
  sent: number
  delivered: number
  hardBounces: number
  softBounces: number
  deferred: number
  senderRejections: number
  bounceRate: number
  suppressionsAdded?: number
}
interface ReportJson {
  rows: Row[]
  totals: Row
  refusing: Array<{ destination: string; senderRejections: number }>
  suppressionsAdded: { total: number }
}

describe('bounce-guard report (spawned, SQLite file)', { timeout: 120_000 }, () => {
  let dir: string
  let db: string
  // What is seeded, per domain, within the last 7 days.
  const seed = { 'a.test': { delivered: 4, hard: 1, sender: 1 }, 'b.test': { delivered: 1, deferred: 2 } }

  beforeAll(async () => {
    dir = tmpDir('bg-cli-report-')
    db = `sqlite:${join(dir, 'report.sqlite')}`
    const opened = await openStore(db)
    const now = Date.now()
    const ev = (recipient: string, type: BounceEvent['type'], at: number, classification?: BounceClassification): BounceEvent => ({
      recipient,
      domain: recipient.split('@')[1]!,
      type,
      at: new Date(at),
      source: 'smtp',
      ...(classification ? { classification } : {}),
    })
    const events: BounceEvent[] = []
    for (let i = 0; i < seed['a.test'].delivered; i++) events.push(ev(`u${i}@a.test`, 'delivered', now - HOUR))
    events.push(ev('gone@a.test', 'bounced', now - 2 * HOUR, hard))
    events.push(ev('u0@a.test', 'bounced', now - 3 * HOUR, blocked))
    events.push(ev('v@b.test', 'delivered', now - HOUR))
    events.push(ev('full@b.test', 'deferred', now - 5 * HOUR, full))
    events.push(ev('full@b.test', 'deferred', now - 4 * HOUR, full))
    // Old: outside --since 7d.
    events.push(ev('old@c.test', 'bounced', now - 30 * 24 * HOUR, hard))
    for (const e of events) await opened.store.recordEvent(e)
    await opened.store.suppress({
      key: 'gone@a.test',
      scope: 'address',
      reason: 'userunknown',
      source: 'smtp',
      at: new Date(now - 2 * HOUR),
      ruleId: hard.ruleId,
    })
    await opened.store.suppress({
      key: 'old@c.test',
      scope: 'address',
      reason: 'userunknown',
      source: 'smtp',
      at: new Date(now - 30 * 24 * HOUR),
    })
    await opened.close()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('counts per domain within the window, with bounce rate, suppressions and who refuses us', () => {
    const r = runCli(['report', '--db', db, '--since', '7d', '--json'])
    expect(r.status, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as ReportJson
    const a = report.rows.find((x) => x.key === 'a.test')!
    const b = report.rows.find((x) => x.key === 'b.test')!
    expect(report.rows.find((x) => x.key === 'c.test')).toBeUndefined()
    const aSent = seed['a.test'].delivered + seed['a.test'].hard + seed['a.test'].sender
    expect(a).toMatchObject({
      sent: aSent,
      delivered: seed['a.test'].delivered,
      hardBounces: seed['a.test'].hard,
      senderRejections: seed['a.test'].sender,
      suppressionsAdded: 1,
    })
    expect(a.bounceRate).toBeCloseTo(seed['a.test'].hard / aSent, 6)
    // sent = delivered + bounced: the two deferrals of one message are not sends of their own
    expect(b).toMatchObject({
      sent: 1,
      delivered: 1,
      hardBounces: 0,
      deferred: seed['b.test'].deferred,
      senderRejections: 0,
      bounceRate: 0,
    })
    expect(report.totals.sent).toBe(aSent + 1)
    expect(report.refusing).toEqual([{ destination: 'a.test', senderRejections: 1, sent: aSent }])
    expect(report.suppressionsAdded.total).toBe(1)
  })

  it('includes older events with a wider window, and groups by reason and provider', () => {
    const wide = JSON.parse(runCli(['report', '--db', db, '--since', '60d', '--json']).stdout) as ReportJson
    expect(wide.rows.find((x) => x.key === 'c.test')?.hardBounces).toBe(1)
    const byReason = JSON.parse(runCli(['report', '--db', db, '--by', 'reason', '--json']).stdout) as ReportJson
    expect(byReason.rows.find((x) => x.key === 'userunknown')).toMatchObject({ hardBounces: 1, suppressionsAdded: 1 })
    expect(byReason.rows.find((x) => x.key === 'mailboxfull')?.deferred).toBe(2)
    const byProvider = JSON.parse(runCli(['report', '--db', db, '--by', 'provider', '--json']).stdout) as ReportJson
    expect(byProvider.rows.find((x) => x.key === 'microsoft')?.senderRejections).toBe(1)
  })

  it('prints tables by default', () => {
    const r = runCli(['report', '--db', db])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^DOMAIN\s+SENT\s+DELIVERED\s+HARD\s+SOFT/m)
    expect(r.stdout).toMatch(/^a\.test\s+6\s+4\s+1\s/m)
    expect(r.stdout).toMatch(/Destinations refusing us[^\n]*\n[^\n]*DESTINATION[^\n]*\n-+[^\n]*\na\.test\s+1\s+6/)
  })

  it('rejects a bad --since with exit 2 and a bad --db with exit 3', () => {
    expect(runCli(['report', '--db', db, '--since', 'last tuesday']).status).toBe(2)
    expect(runCli(['report', '--db', 'postgres://nohost']).status).toBe(3)
  })

  it('writes a self-contained HTML page with the providers and the refusing destination (--html)', () => {
    const out = join(dir, 'report.html')
    const r = runCli(['report', '--db', db, '--html', out, '--json'])
    expect(r.status).toBe(0)
    const html = readFileSync(out, 'utf8')
    expect(html).toMatch(/^<!doctype html>/i)
    expect(html).not.toMatch(/<script[^>]+src=/i) // self-contained: the chart library is inlined
    for (const name of ['gmail', 'microsoft', 'a.test', 'spamhaus']) expect(html).toContain(name)
  })

  it('serves the page and its data on localhost (serve)', async () => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', tsxLoader, cliBin, 'serve', '--db', db, '--port', '0'], {
      cwd: repoRoot,
      env: { ...process.env, BOUNCE_GUARD_DB: undefined, NODE_OPTIONS: '' },
    })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let buf = ''
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString()
          const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(buf)
          if (m) resolve(m[0])
        })
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)))
      })
      const get = (path: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          httpGet(new URL(path, url), (res) => {
            let body = ''
            res.on('data', (c: Buffer) => {
              body += c.toString()
            })
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
          }).on('error', reject)
        })
      const page = await get('/')
      expect(page.status).toBe(200)
      expect(page.body).toContain('microsoft')
      const data = await get('/data.json')
      expect(data.status).toBe(200)
      expect(JSON.parse(data.body).refusing.map((r: { key: string }) => r.key)).toContain('a.test')
      // /metrics: prom-client's exposition text; outcomes count from the start of serve, so none yet
      const metrics = await get('/metrics')
      expect(metrics.status).toBe(200)
      const lines = metrics.body.split('\n').filter((l) => l !== '')
      expect(lines).toContain('# TYPE bounce_guard_outcomes_total counter')
      expect(lines).toContain('# TYPE bounce_guard_shaping_active gauge')
      for (const l of lines) expect(l).toMatch(/^(# (HELP|TYPE) bounce_guard_\w+ .+|bounce_guard_\w+(\{[^}]*\})? [-+\d.e]+)$/)
    } finally {
      child.kill('SIGTERM')
    }
  })
})
