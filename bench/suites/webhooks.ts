/**
 * `pnpm bench webhooks`: Amazon SES notifications delivered by SNS, each with its RSA signature
 * checked (certificate downloaded once, then cached), normalised, classified and recorded into the
 * TypeORM store on SQLite (file, WAL). Target: >= 2,000 events/s on this machine.
 * Prints: the handler called directly (`process`, no HTTP), the same through a real node:http
 * server with 16 concurrent keep-alive clients (client and server share this process), the
 * in-memory store for comparison, and a guard that records nothing (the ceiling of this package:
 * signature check, parsing, normalising and classifying only).
 * The certificate "download" is a local fetch stand-in that counts its calls (no network).
 */
import { execFileSync } from 'node:child_process'
import { sign } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, createServer, request } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createBounceGuard,
  MemoryBounceStore,
  type BounceGuard,
  type BounceStore,
  type DeliveryOutcome,
  type RecordResult,
} from '@bounce-guard/core'
import { createBounceGuardDataSource, createTypeOrmBounceStore, runMigrations } from '@bounce-guard/typeorm'
import { createWebhookHandler, snsStringToSign, type SnsMessage } from '@bounce-guard/webhooks'

const N = Number(process.env.BG_BENCH_WEBHOOKS ?? 4000)
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ses-feedback'
const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-bench.pem'
const PREFIX = `bg_wh${process.pid}_`

const DIAGNOSTICS = [
  'smtp; 550 5.1.1 <x@example.com>... User unknown',
  "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos",
  'smtp; 552 5.2.2 Mailbox full',
  'smtp; 550 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org',
  'smtp; 554 5.7.1 Message rejected because of unacceptable content',
]

function makeCert(dir: string): { certPem: string; keyPem: string } {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'k.pem'),
      '-out',
      join(dir, 'c.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=sns.amazonaws.com',
    ],
    { stdio: 'ignore' },
  )
  return { certPem: readFileSync(join(dir, 'c.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'k.pem'), 'utf8') }
}

/** Signed SNS bodies: 60 % bounces (mixed diagnostics), 30 % deliveries, 10 % complaints, over 2,000 recipients. */
function makeBodies(keyPem: string, n: number, run: string): string[] {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const rcpt = `user${i % 2000}@d${i % 97}.example`
    const mail = { timestamp: new Date().toISOString(), source: 'sender@example.com', messageId: `${run}-msg-${i}`, destination: [rcpt] }
    const k = i % 10
    const message =
      k < 6
        ? {
            notificationType: 'Bounce',
            mail,
            bounce: {
              bounceType: 'Permanent',
              bounceSubType: 'General',
              feedbackId: `${run}-fb-${i}`,
              timestamp: mail.timestamp,
              bouncedRecipients: [
                { emailAddress: rcpt, status: '5.0.0', action: 'failed', diagnosticCode: DIAGNOSTICS[i % DIAGNOSTICS.length] },
              ],
            },
          }
        : k < 9
          ? {
              eventType: 'Delivery',
              mail,
              delivery: { timestamp: mail.timestamp, recipients: [rcpt], smtpResponse: '250 2.0.0 OK', processingTimeMillis: 500 },
            }
          : {
              notificationType: 'Complaint',
              mail,
              complaint: {
                feedbackId: `${run}-c-${i}`,
                complaintFeedbackType: 'abuse',
                timestamp: mail.timestamp,
                complainedRecipients: [{ emailAddress: rcpt }],
              },
            }
    const m: SnsMessage = {
      Type: 'Notification',
      MessageId: `${run}-${i}`,
      TopicArn: TOPIC,
      Message: JSON.stringify(message),
      Timestamp: new Date().toISOString(),
      SignatureVersion: i % 2 === 0 ? '1' : '2',
      Signature: '',
      SigningCertURL: CERT_URL,
    }
    m.Signature = sign(m.SignatureVersion === '1' ? 'sha1' : 'sha256', Buffer.from(snsStringToSign(m)), keyPem).toString('base64')
    out.push(JSON.stringify(m))
  }
  return out
}

function handlerFor(store: BounceStore | 'none', certPem: string, counter: { fetches: number }) {
  const guard = store === 'none' ? noopGuard() : createBounceGuard({ store })
  const fakeFetch = (async () => {
    counter.fetches++
    return new Response(certPem, { status: 200 })
  }) as unknown as typeof fetch
  return createWebhookHandler({ guard, fetch: fakeFetch, providers: { ses: { topicArns: [TOPIC] } } })
}

/** A guard that accepts every outcome without storing it. */
function noopGuard(): BounceGuard {
  const store = new MemoryBounceStore()
  const g: BounceGuard = {
    store,
    check: async () => ({ allowed: [], suppressed: [], invalid: [] }),
    record: async (o: DeliveryOutcome) =>
      ({ duplicate: false, event: o, state: undefined, decision: { action: 'none' } }) as unknown as RecordResult,
    now: () => new Date(),
    on: () => g,
    off: () => g,
    once: () => g,
    close: async () => {},
  }
  return g
}

const headers = { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' }

async function direct(label: string, store: BounceStore | 'none', certPem: string, bodies: string[]): Promise<void> {
  const counter = { fetches: 0 }
  const h = handlerFor(store, certPem, counter)
  let ok = 0
  const t0 = performance.now()
  for (const body of bodies) {
    const r = await h.process({ provider: 'ses', headers, body })
    if (r.status === 200) ok++
  }
  const s = (performance.now() - t0) / 1000
  console.log(
    `${label}: ${bodies.length} SNS notifications (process, sequential) in ${s.toFixed(2)} s = ${Math.round(ok / s)} events/s; ok ${ok}; certificate fetches ${counter.fetches}`,
  )
}

async function overHttp(label: string, store: BounceStore, certPem: string, bodies: string[], concurrency: number): Promise<void> {
  const counter = { fetches: 0 }
  const h = handlerFor(store, certPem, counter)
  const server = createServer((req, res) => {
    void h(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const send = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/webhooks/ses',
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  let next = 0
  let ok = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!
        if ((await send(body)) === 200) ok++
      }
    }),
  )
  const s = (performance.now() - t0) / 1000
  console.log(
    `${label}: ${bodies.length} SNS notifications over HTTP (${concurrency} clients) in ${s.toFixed(2)} s = ${Math.round(ok / s)} events/s; ok ${ok}; certificate fetches ${counter.fetches}`,
  )
  agent.destroy()
  server.closeAllConnections()
  await new Promise<void>((r) => server.close(() => r()))
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-bench-webhooks-'))
  try {
    const { certPem, keyPem } = makeCert(dir)
    const t0 = performance.now()
    const sets = ['a', 'b', 'c'].map((run) => makeBodies(keyPem, N, run))
    console.log(
      `signed ${(3 * N).toLocaleString('en')} SNS bodies in ${((performance.now() - t0) / 1000).toFixed(1)} s (not measured below); load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${cpus().length} CPUs; target >= 2,000 events/s into SQLite`,
    )

    const ds = createBounceGuardDataSource(`sqlite:${join(dir, 'bench.db')}`, { tablePrefix: PREFIX })
    await ds.initialize()
    try {
      await runMigrations(ds, { tablePrefix: PREFIX })
      const store = createTypeOrmBounceStore(ds, { tablePrefix: PREFIX })
      await direct('sqlite (TypeORM, WAL)', store, certPem, sets[0]!)
      await overHttp('sqlite (TypeORM, WAL)', store, certPem, sets[1]!, 16)
    } finally {
      await ds.destroy()
    }
    await direct('memory store', new MemoryBounceStore(), certPem, sets[2]!)
    await direct('no store (webhook layer only)', 'none', certPem, sets[2]!)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
