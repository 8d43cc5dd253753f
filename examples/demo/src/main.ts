/**
 * `pnpm demo`: Bounce Guard in one minute, offline. A local SMTP server plays Gmail, Outlook.com,
 * Yahoo and a small ISP with their real replies; a newsletter goes out through a Nodemailer
 * transport wrapped by Bounce Guard with a SQLite file store; the retry worker runs on a compressed
 * clock until every soft failure is delivered or escalated; a second campaign shows suppressed
 * addresses refused at call time; the per-domain report closes the show.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createBounceGuard, type BounceAlert, type BounceDecision, type Suppression } from '@bounce-guard/core'
import { buildReport, formatReport, formatTable, type Report } from '@bounce-guard/cli'
import { createRetryWorker, withBounceGuard, type RecipientOutcome } from '@bounce-guard/nodemailer'
import { createTransport } from 'nodemailer'
import { CAMPAIGN, SENDER } from './campaign.js'
import { startProviderServer } from './provider-server.js'
import { providerFor } from './providers.js'
import { openSqliteStore } from './sqlite-store.js'

/** Options of `runDemo`. */
export interface DemoOptions {
  /** The SQLite file. @default a new file in a fresh temp folder */
  dbPath?: string
  /** Where the story is printed. @default no output */
  print?: (text: string) => void
  /**
   * The demo's clock starts here. @default four days ago, on the hour: the ~73 simulated hours end
   * in the past, so `bounce-guard report` (last 7 days) and `suppressions list` (unexpired entries,
   * as of the real now) show what the demo did.
   */
  start?: Date
  /** Stop the retry phase after this much simulated time. @default 7 days */
  maxSimulatedMs?: number
}

/** One row of a campaign table. */
export interface RecipientRow {
  recipient: string
  provider: string
  result: 'delivered' | 'deferred' | 'bounced' | 'refused at call time' | 'error'
  reason?: string
  hard?: boolean
  scope?: string
  decision: string
  ruleId?: string
  reply?: string
}

/** One thing that happened during the retry phase. */
export interface TimelineEntry {
  /** Simulated time since the first send, in milliseconds. */
  offsetMs: number
  recipient: string
  what: string
}

/** What the demo did; the test asserts on it. */
export interface DemoResult {
  dbPath: string
  first: RecipientRow[]
  timeline: TimelineEntry[]
  second: RecipientRow[]
  /** Suppression list at the end. */
  suppressions: Suppression[]
  /** Recipients delivered at least once (either campaign or a retry). */
  delivered: string[]
  /** Keys suppressed by escalation (soft history turned hard). */
  escalated: string[]
  alerts: BounceAlert[]
  /** What the SMTP server saw during the second campaign (RCPT TO addresses). */
  serverSawInSecond: string[]
  /** Refused at call time in the second campaign. */
  refusedInSecond: string[]
  report: Report
  /** Simulated time the retry phase covered, in milliseconds. */
  simulatedMs: number
  /** Wall-clock duration, in milliseconds. */
  elapsedMs: number
}

function ago(ms: number): string {
  const m = Math.round(ms / 60_000)
  if (m < 60) return `${m}m`
  const h = Math.floor(m / 60)
  const rest = m % 60
  return rest === 0 ? `${h}h` : `${h}h${String(rest).padStart(2, '0')}m`
}

function describeDecision(d: BounceDecision | undefined, now: Date): string {
  if (!d) return '-'
  let s: string
  switch (d.action) {
    case 'suppress':
      s = `suppress ${d.scope}${d.escalated ? ' (escalated)' : ''}`
      break
    case 'retry':
      s = `retry in ${ago(d.at.getTime() - now.getTime())}`
      break
    case 'giveUp':
      s = d.reason.startsWith('sender-side') ? 'give up (sender-side)' : 'give up'
      break
    default:
      s = 'none'
  }
  if (d.alert) s += `, alert: ${d.alert.destination}`
  return s
}

function row(o: RecipientOutcome, now: Date): RecipientRow {
  const c = o.classification
  const r: RecipientRow = {
    recipient: o.recipient,
    provider: c?.provider ?? providerFor(o.recipient)?.name.toLowerCase() ?? '-',
    result: o.type === 'suppressed' ? 'refused at call time' : o.type,
    decision: o.type === 'suppressed' ? 'not sent' : describeDecision(o.decision, now),
  }
  if (c && o.type !== 'delivered') {
    r.reason = c.reason
    r.hard = c.hard
    r.scope = c.scope
    r.ruleId = c.ruleId
  }
  if (o.reply) r.reply = o.reply
  return r
}

/** One line per recipient: how many retries, over what time, and how it ended. */
function summarizeTimeline(timeline: TimelineEntry[]): string[] {
  const by = new Map<string, TimelineEntry[]>()
  for (const e of timeline) by.set(e.recipient, [...(by.get(e.recipient) ?? []), e])
  const rows = [...by.entries()].map(([recipient, es]) => ({ recipient, es, last: es[es.length - 1]! }))
  rows.sort((a, b) => a.last.offsetMs - b.last.offsetMs || a.recipient.localeCompare(b.recipient))
  return rows.map(({ recipient, es, last }) => {
    const tries = es.length === 1 ? '1 retry' : `${es.length} retries (+${ago(es[0]!.offsetMs)} to +${ago(last.offsetMs)})`
    return `  +${ago(last.offsetMs).padEnd(7)} ${recipient.padEnd(24)} ${tries}, last: ${last.what}`
  })
}

const CAMPAIGN_COLUMNS = [
  { header: 'RECIPIENT', value: (r: RecipientRow) => r.recipient },
  { header: 'RESULT', value: (r: RecipientRow) => r.result },
  { header: 'REASON', value: (r: RecipientRow) => r.reason },
  { header: 'HARD/SOFT', value: (r: RecipientRow) => (r.hard === undefined ? undefined : r.hard ? 'hard' : 'soft') },
  { header: 'SCOPE', value: (r: RecipientRow) => r.scope },
  { header: 'DECISION', value: (r: RecipientRow) => r.decision, maxWidth: 60 },
  { header: 'RULE', value: (r: RecipientRow) => r.ruleId },
]

/** Run the whole demo; returns what happened. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const t0 = Date.now()
  const print = options.print ?? (() => {})
  const start = options.start ?? new Date(Math.floor((Date.now() - 4 * 86_400_000) / 3_600_000) * 3_600_000)
  const dbPath = resolve(options.dbPath ?? join(mkdtempSync(join(tmpdir(), 'bounce-guard-demo-')), 'demo.sqlite'))
  let clock = start.getTime()
  const now = () => new Date(clock)

  const server = await startProviderServer()
  const db = await openSqliteStore(dbPath)
  const guard = createBounceGuard({ store: db.store, now, random: () => 0.5 })
  const transporter = createTransport(
    withBounceGuard({ host: server.host, port: server.port, secure: false, ignoreTLS: true, name: 'mta.shop.example' }, { guard }) as never,
  )
  const alerts: BounceAlert[] = []
  const escalated: string[] = []
  const delivered = new Set<string>()
  const dueTimes = new Set<number>()
  let phase: 'first' | 'retry' | 'second' = 'first'
  const timeline: TimelineEntry[] = []
  guard.on('alert', (a) => alerts.push(a))
  guard.on('suppressed', (info) => {
    if (!info.atCallTime && info.suppression.escalated) escalated.push(info.suppression.key)
  })
  const onResult = (r: {
    event: { recipient: string; type: string; classification?: { reason: string } }
    decision: BounceDecision
    state: { consecutiveSoftFailures: number; firstSoftFailureAt?: Date }
  }) => {
    if (r.event.type === 'delivered') delivered.add(r.event.recipient)
    if (r.decision.action === 'retry') dueTimes.add(r.decision.at.getTime())
    if (phase !== 'retry') return
    let what = r.event.type === 'delivered' ? 'delivered' : `${r.event.type}: ${r.event.classification?.reason ?? '?'}`
    if (r.event.type !== 'delivered') {
      const first = r.state.firstSoftFailureAt
      what += ` -> ${describeDecision(r.decision, now())}`
      if (r.decision.action === 'suppress' && r.decision.escalated && first) {
        what += ` after ${ago(clock - first.getTime())} and ${r.state.consecutiveSoftFailures} failures`
      }
    }
    timeline.push({ offsetMs: clock - start.getTime(), recipient: r.event.recipient, what })
  }
  guard.on('delivered', onResult)
  guard.on('deferred', onResult)
  guard.on('bounce', onResult)

  const sendCampaign = async (subject: string): Promise<RecipientRow[]> => {
    const rows: RecipientRow[] = []
    for (const m of CAMPAIGN) {
      const mail = {
        from: m.from ?? SENDER,
        to: m.to,
        subject,
        text: `Hello!\n\n${subject}\n\n-- Shop News`,
        headers: { 'List-Unsubscribe': '<mailto:unsubscribe@shop.example>' },
      }
      let details: { outcomes?: RecipientOutcome[] } | undefined
      try {
        const info = (await transporter.sendMail(mail)) as { bounceGuard?: { outcomes?: RecipientOutcome[] } }
        details = info.bounceGuard
      } catch (err) {
        details = (err as { bounceGuard?: { outcomes?: RecipientOutcome[] } }).bounceGuard
        if (!details?.outcomes?.length) {
          rows.push({ recipient: m.to, provider: '-', result: 'error', decision: (err as Error).message })
          continue
        }
      }
      for (const o of details?.outcomes ?? []) rows.push(row(o, now()))
    }
    return rows
  }

  try {
    print(
      `Bounce Guard demo: a local SMTP server on ${server.host}:${server.port} plays Gmail, Outlook.com, Yahoo and a small ISP with greylisting.`,
    )
    print(`Store: SQLite file ${dbPath}\n`)

    // 1. The first campaign.
    print(`1. Campaign "Spring sale" to ${CAMPAIGN.length} recipients, ${start.toISOString()}\n`)
    const first = await sendCampaign('Spring sale')
    print(formatTable(first, CAMPAIGN_COLUMNS))

    // 2. The retry worker, on a compressed clock: jump to each due time and run once.
    phase = 'retry'
    const worker = createRetryWorker({ guard, transport: transporter as never, now })
    const limit = start.getTime() + (options.maxSimulatedMs ?? 7 * 86_400_000)
    print('2. Retry worker on a compressed clock (each step jumps to the next due retry)\n')
    for (let i = 0; i < 500; i++) {
      const next = [...dueTimes].filter((t) => t >= clock).sort((a, b) => a - b)[0]
      if (next === undefined || next > limit) break
      dueTimes.delete(next)
      clock = Math.max(clock, next)
      await worker.runOnce()
    }
    const simulatedMs = clock - start.getTime()
    for (const line of summarizeTimeline(timeline)) print(line)
    print(`\n  Simulated ${ago(simulatedMs)} of retries in ${((Date.now() - t0) / 1000).toFixed(1)} s of wall-clock time.\n`)

    // 3. The second campaign: suppressed addresses are refused before any SMTP connection.
    phase = 'second'
    clock += 3_600_000
    server.resetLog()
    print(`3. Campaign "Summer sale", ${now().toISOString()}\n`)
    const second = await sendCampaign('Summer sale')
    print(formatTable(second, CAMPAIGN_COLUMNS))
    const serverSawInSecond = [...new Set(server.log.rcpts.map((r) => r.address))]
    const refusedInSecond = second.filter((r) => r.result === 'refused at call time').map((r) => r.recipient)
    const leaked = refusedInSecond.filter((r) => serverSawInSecond.includes(r))
    print(`  Refused at call time: ${refusedInSecond.join(', ') || 'none'}.`)
    print(
      `  The SMTP server saw ${serverSawInSecond.length} recipients in this campaign, ${leaked.length === 0 ? 'none of them suppressed' : `including ${leaked.join(', ')} (unexpected!)`}.\n`,
    )

    // 4. The report (the same as `bounce-guard report`).
    const report = await buildReport(db.store, { since: start, until: new Date(clock + 1), groupBy: 'domain' })
    print('4. Report by destination domain\n')
    print(formatReport(report))
    if (alerts.length) {
      const seen = new Set<string>()
      print('Alerts raised (sender-side problems: fix these, do not blame the recipients):')
      for (const a of alerts) {
        const k = `${a.destination}|${a.reason}`
        if (seen.has(k)) continue
        seen.add(k)
        print(`  ${a.destination}: ${a.reason}${a.blocklist ? ` (${a.blocklist})` : ''} [${a.ruleId}]`)
      }
      print('')
    }
    const suppressions = (await db.store.listSuppressions({ includeExpired: false, now: now() }, { limit: 1000 })).items

    const rel = (p: string) => p
    print(`Database: ${dbPath}`)
    print('Explore it with the CLI:')
    print(`  pnpm bounce-guard suppressions list --db sqlite:${rel(dbPath)}`)
    print(`  pnpm bounce-guard report --db sqlite:${rel(dbPath)} --by reason`)
    print(`  pnpm bounce-guard suppressions export --db sqlite:${rel(dbPath)} --format jsonl`)
    const elapsedMs = Date.now() - t0
    print(`\nDone in ${(elapsedMs / 1000).toFixed(1)} s.`)

    return {
      dbPath,
      first,
      timeline,
      second,
      suppressions,
      delivered: [...delivered].sort(),
      escalated: [...new Set(escalated)].sort(),
      alerts,
      serverSawInSecond,
      refusedInSecond,
      report,
      simulatedMs,
      elapsedMs,
    }
  } finally {
    transporter.close()
    await guard.close().catch(() => {})
    await db.close()
    await server.close()
  }
}

const invoked = process.argv[1] ? pathToFileURL(resolve(process.argv[1])).href : ''
if (import.meta.url === invoked) {
  runDemo({ print: (s) => process.stdout.write(`${s}\n`) }).catch((err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exitCode = 1
  })
}
