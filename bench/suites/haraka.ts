/**
 * haraka-plugin-bounce-guard:
 * 1. Time the plugin adds per outbound result hook (delivered, deferred, bounce) and per RCPT of a
 *    relaying client: each hook is called in-process with haraka-test-fixtures and real Haraka
 *    Address objects, and timed from the call to its `next()`. Store writes happen in the
 *    background queue and are not part of a hook's time (that is the design).
 * 2. Throughput of a burst of relayed messages (default 2,000; BG_BENCH_HARAKA_MESSAGES to change)
 *    through a real Haraka process to a real smtp-server sink, with the plugin off and on (SQLite
 *    store), side by side in one run, alternating for BG_BENCH_HARAKA_ROUNDS rounds (default 2).
 * Prints figures; asserts nothing.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createBounceGuard, MemoryBounceStore } from '@bounce-guard/core'
import { ensureCjsBuilds, REPO_ROOT } from '../../packages/haraka/test/helpers/build-deps.js'
import {
  freePort,
  nodemailer,
  prepareHarakaDir,
  removeHarakaDir,
  startHaraka,
  startSink,
  PLUGIN_DIR,
} from '../../packages/haraka/test/helpers/haraka-harness.js'

const requireFromPlugin = createRequire(join(PLUGIN_DIR, 'package.json'))

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`

async function hookTimes(): Promise<void> {
  const fixtures = requireFromPlugin('haraka-test-fixtures')
  const { Address } = requireFromPlugin('@haraka/email-address')
  const core = await import('@bounce-guard/core')
  const plugin = fixtures.makePlugin(PLUGIN_DIR, { register: false })
  plugin.name = 'bounce-guard'
  plugin.register()
  plugin.bounce_guard_use(createBounceGuard({ store: new MemoryBounceStore() }), { core })
  for (const m of ['logdebug', 'loginfo', 'lognotice', 'logwarn', 'logerror']) plugin[m] = () => {}

  const N = 5000
  const mk = (a: string, f: Record<string, unknown> = {}) => Object.assign(new Address(`<${a}>`), f)
  const hmail = (rcpts: unknown[]) => ({
    todo: {
      uuid: 'B0000000-0000-4000-8000-000000000000.1',
      mail_from: new Address('<s@example.org>'),
      rcpt_to: rcpts,
      domain: 'example.com',
      notes: { bounce_guard_message_id: '<b@example.org>' },
    },
    num_failures: 1,
  })
  const cases: Array<[string, (i: number) => [string, unknown, unknown]]> = [
    [
      'delivered',
      (i) => {
        const r = mk(`ok${i}@example.com`)
        return ['hook_delivered', hmail([r]), ['mx', '127.0.0.1', 'Ok: queued as X', 0.1, 25, 'SMTP', [r], false, false]]
      },
    ],
    [
      'deferred',
      (i) => {
        const r = mk(`grey${i}@example.com`, {
          dsn_smtp_code: '451',
          dsn_smtp_extc: '4.7.1',
          dsn_smtp_response: `<grey${i}@example.com>: Recipient address rejected: Greylisted, try again later`,
          reason: '451 4.7.1 ...',
        })
        return ['hook_deferred', hmail([r]), { delay: 5, err: 'Some recipients temp failed', fail_recips: [r] }]
      },
    ],
    [
      'bounce',
      (i) => {
        const r = mk(`dead${i}@example.com`, {
          dsn_smtp_code: '550',
          dsn_smtp_extc: '5.1.1',
          dsn_smtp_response: `<dead${i}@example.com>: Recipient address rejected: User unknown in virtual mailbox table`,
          reason: '550 5.1.1 ...',
        })
        return ['hook_bounce', hmail([r]), Object.assign(new Error('Some recipients failed'), { bounced_rcpt: [r] })]
      },
    ],
  ]
  console.log(`per-hook time added by the plugin (${N} calls each, one recipient, call -> next()):`)
  for (const [name, make] of cases) {
    const times: number[] = []
    for (let i = 0; i < N; i++) {
      const [method, hm, params] = make(i)
      const t0 = performance.now()
      await new Promise<void>((resolve) => plugin[method](() => resolve(), hm, params))
      times.push(performance.now() - t0)
      if (i % 200 === 199) await plugin.bounce_guard_drain(10_000)
    }
    await plugin.bounce_guard_drain(10_000)
    times.sort((a, b) => a - b)
    console.log(`  ${name.padEnd(10)} median ${us(quantile(times, 0.5))}  p99 ${us(quantile(times, 0.99))}  max ${us(times.at(-1)!)}`)
  }
  // RCPT of a relaying client: one suppression lookup in the (in-memory) store per recipient.
  const times: number[] = []
  for (let i = 0; i < N; i++) {
    const conn = fixtures.makeConnection({ relaying: true, mailFrom: 's@example.org', silent: true })
    const t0 = performance.now()
    await fixtures.callRcpt(plugin, conn, `r${i}@example.com`)
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  console.log(
    `  ${'rcpt'.padEnd(10)} median ${us(quantile(times, 0.5))}  p99 ${us(quantile(times, 0.99))}  (memory store; a database adds its round trip)`,
  )
  const s = plugin.bounce_guard_stats()
  console.log(`  queue: written ${s.written}, failed attempts ${s.failedAttempts}, overflowed ${s.overflowed}`)
}

async function burst(pluginOn: boolean, messages: number): Promise<{ seconds: number; recorded?: number }> {
  const sink = await startSink({ keepMessages: false })
  const port = await freePort()
  const dir = prepareHarakaDir({
    port,
    sinkPort: sink.port,
    databaseUrl: 'sqlite:data/bench.sqlite',
    tablePrefix: 'bg_',
    pluginOn,
    logLevel: 'warn',
  })
  const haraka = await startHaraka(dir, port)
  try {
    const transport = nodemailer().createTransport({
      host: '127.0.0.1',
      port,
      ignoreTLS: true,
      pool: true,
      maxConnections: 8,
      maxMessages: Infinity,
    })
    // Warm up (opens the store, compiles code paths); not timed.
    await transport.sendMail({ envelope: { from: 'sender@example.org', to: ['warm@example.com'] }, raw: 'Subject: warm\r\n\r\nwarm\r\n' })
    await sink.waitForMessages(1, 30_000)
    const t0 = performance.now()
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < messages; i++) {
      sends.push(
        transport.sendMail({
          envelope: { from: 'sender@example.org', to: [`user${i}@example${i % 10}.com`] },
          raw: `Subject: burst ${i}\r\nMessage-ID: <burst${i}@example.org>\r\n\r\nhello ${i}\r\n`,
        }),
      )
    }
    await Promise.all(sends)
    await sink.waitForMessages(messages + 1, 600_000)
    const seconds = (performance.now() - t0) / 1000
    transport.close()
    let recorded: number | undefined
    if (pluginOn) {
      // Let the background queue finish, then count what reached the store.
      const Database = createRequire(join(REPO_ROOT, 'packages/typeorm/package.json'))('better-sqlite3')
      const deadline = Date.now() + 60_000
      for (;;) {
        const db = new Database(join(dir, 'data/bench.sqlite'), { readonly: true })
        recorded = Number((db.prepare("SELECT COUNT(*) AS n FROM bg_events WHERE type = 'delivered'").get() as { n: number }).n) - 1
        db.close()
        if (recorded >= messages || Date.now() > deadline) break
        await new Promise((r) => setTimeout(r, 250))
      }
    }
    return { seconds, recorded }
  } finally {
    await haraka.stop()
    await sink.close()
    removeHarakaDir(dir)
  }
}

export async function run(): Promise<void> {
  ensureCjsBuilds(['core', 'typeorm'])
  await hookTimes()
  const messages = Number(process.env.BG_BENCH_HARAKA_MESSAGES ?? 2000)
  const rounds = Number(process.env.BG_BENCH_HARAKA_ROUNDS ?? 2)
  console.log(
    `\nburst of ${messages} relayed messages (nodemailer pool of 8 -> Haraka, 1 process -> smtp-server sink), until the sink has all;`,
  )
  console.log(`plugin off and on alternate, ${rounds} round(s) each (the machine is shared: compare the best of each):`)
  const off: number[] = []
  const on: number[] = []
  for (let r = 0; r < rounds; r++) {
    const a = await burst(false, messages)
    off.push(a.seconds)
    console.log(`  round ${r + 1} plugin off: ${a.seconds.toFixed(2)} s  ${(messages / a.seconds).toFixed(0)} msg/s`)
    const b = await burst(true, messages)
    on.push(b.seconds)
    console.log(
      `  round ${r + 1} plugin on : ${b.seconds.toFixed(2)} s  ${(messages / b.seconds).toFixed(0)} msg/s  (SQLite store; ${b.recorded} delivered events recorded)`,
    )
  }
  const bestOff = Math.min(...off)
  const bestOn = Math.min(...on)
  console.log(
    `  best: off ${(messages / bestOff).toFixed(0)} msg/s, on ${(messages / bestOn).toFixed(0)} msg/s, overhead ${(((bestOn - bestOff) / bestOff) * 100).toFixed(1)} %`,
  )
}
