/**
 * `pnpm bench monitor`: how many recorded outcomes `createBounceMonitor` absorbs per second in one
 * process (target: at least 20,000 events/s). A mix of deliveries, hard and soft bounces,
 * sender-side rejections with blocklists, deferrals and complaints across 50,000 recipient domains,
 * 8 providers, 4 sending IPs, 2 pools and 10 tags, with the clock advancing so buckets roll and
 * alerts fire and resolve.
 */
import { createBounceMonitor } from '@bounce-guard/core'
import type { BounceClassification, BounceEvent, MonitorMeta } from '@bounce-guard/core'

const T0 = Date.UTC(2030, 0, 1)
const PROVIDERS: Array<[string, string]> = [
  ['gmail.com', 'aspmx.l.google.com'],
  ['outlook.com', 'outlook-com.olc.protection.outlook.com'],
  ['yahoo.com', 'mta5.am0.yahoodns.net'],
  ['icloud.com', 'mx01.mail.icloud.com'],
  ['gmx.net', 'mx00.emig.gmx.net'],
  ['comcast.net', 'mx1a1.comcast.net'],
  ['mail.ru', 'mxs.mail.ru'],
  ['qq.com', 'mx3.qq.com'],
]
const HARD: BounceClassification = { reason: 'userunknown', hard: true, permanent: true, scope: 'recipient', ruleId: 'gmail.user-unknown' }
const SOFT: BounceClassification = { reason: 'mailboxfull', hard: false, permanent: false, scope: 'recipient', ruleId: 'gmail.over-quota' }
const BLOCK: BounceClassification = {
  reason: 'blocked',
  hard: false,
  permanent: true,
  scope: 'sender',
  ruleId: 'blocklist.spamhaus',
  blocklist: 'spamhaus',
}
const RATE: BounceClassification = { reason: 'speeding', hard: false, permanent: false, scope: 'sender', ruleId: 'gmail.unusual-rate' }

export async function run(): Promise<void> {
  const N = 1_000_000
  const DOMAINS = 50_000
  const events: Array<{ e: BounceEvent; m: MonitorMeta }> = []
  for (let i = 0; i < 200_000; i++) {
    const [pd, mx] = PROVIDERS[i % PROVIDERS.length]!
    // Half the traffic goes to the providers' own domains, half to 50,000 hosted domains behind their MX.
    const domain = i % 2 === 0 ? pd : `d${i % DOMAINS}.example`
    const r = (i * 7919 + (i >> 3)) % 100
    let e: BounceEvent
    const base = { recipient: `u${i}@${domain}`, domain, at: new Date(T0), source: 'smtp' as const, tag: `campaign-${i % 10}` }
    if (r < 85) e = { ...base, type: 'delivered' }
    else if (r < 88) e = { ...base, type: 'bounced', classification: HARD, reply: '550 5.1.1 user unknown' }
    else if (r < 91) e = { ...base, type: 'bounced', classification: SOFT, reply: '452 4.2.2 over quota' }
    else if (r < 94) e = { ...base, type: 'bounced', classification: BLOCK, reply: '550 5.7.1 blocked using Spamhaus' }
    else if (r < 99) e = { ...base, type: 'deferred', classification: RATE, reply: '421 4.7.28 unusual rate' }
    else e = { ...base, type: 'complaint' }
    events.push({ e, m: { remoteMta: mx, sendingIp: `203.0.113.${i % 4}`, pool: i % 3 === 0 ? 'bulk' : 'transactional' } })
  }
  let t = T0
  const monitor = createBounceMonitor({ now: () => new Date(t) })
  let alerts = 0
  let resolved = 0
  monitor.on('alert', () => alerts++)
  monitor.on('resolved', () => resolved++)
  // warm-up
  for (let i = 0; i < 50_000; i++) monitor.observe(events[i % events.length]!.e, events[i % events.length]!.m)
  const start = performance.now()
  for (let i = 0; i < N; i++) {
    const x = events[i % events.length]!
    // 1,000 events per simulated second: 1,000,000 events span ~17 minutes of buckets.
    if (i % 1000 === 0) {
      t += 1000
      if (i % 60_000 === 0) monitor.evaluate()
    }
    x.e.at = new Date(t)
    monitor.observe(x.e, x.m)
  }
  const ms = performance.now() - start
  const rss = process.memoryUsage().rss / 2 ** 20
  console.log(
    `monitor.observe(): ${Math.round(N / (ms / 1000)).toLocaleString('en')} events/s (${N.toLocaleString('en')} events in ${ms.toFixed(0)} ms; target >= 20,000/s)`,
  )
  console.log(
    `  keys: ${monitor.snapshot('domain').length.toLocaleString('en')} domains, ${monitor.snapshot('provider').length} providers; alerts fired ${alerts}, resolved ${resolved}; RSS ${rss.toFixed(0)} MiB`,
  )
  const top = monitor.snapshot('provider', { limit: 3 })
  for (const r of top)
    console.log(`  ${r.key}: sent ${r.sent}, bounce rate ${(r.bounceRate * 100).toFixed(1)}%, sender rejections ${r.senderRejections}`)
  for (const a of monitor.activeAlerts().slice(0, 3)) console.log(`  active: [${a.level}] ${a.message}`)
}
