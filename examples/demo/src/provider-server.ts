/**
 * One local smtp-server (port 0, loopback) that answers as the providers of `providers.ts`: each
 * scripted mailbox answers its reply for the n-th attempt, DMARC-failing From domains are refused
 * after the data, everything else is accepted. It logs every RCPT it saw and every message it
 * accepted, so the demo can show that suppressed addresses never reached it.
 */
import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerSession } from 'smtp-server'
import { PROVIDERS, UNAUTHENTICATED_DOMAINS, providerFor, scriptFor, type ScriptedReply } from './providers.js'

/** What the server saw. */
export interface ServerLog {
  /** Every RCPT TO, in order, with the reply code given. */
  rcpts: Array<{ address: string; code: number }>
  /** Every message accepted, with its envelope recipients. */
  accepted: Array<{ from: string; to: string[] }>
}

/** A running provider server. */
export interface ProviderServer {
  host: string
  port: number
  log: ServerLog
  /** Clear the log (between campaigns). Attempt counters are kept. */
  resetLog(): void
  close(): Promise<void>
}

/** An error whose message smtp-server sends as a multi-line reply (it accepts an array). */
function replyError(reply: ScriptedReply): Error {
  const err = new Error(reply.lines.join(' ')) as Error & { responseCode: number }
  // smtp-server writes `code-line` / `code line` for an array of lines (see its `send`).
  Object.defineProperty(err, 'message', { value: reply.lines.length === 1 ? reply.lines[0] : reply.lines })
  err.responseCode = reply.code
  return err
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c))
  return Buffer.concat(chunks).toString('utf8')
}

function fromDomainOf(headers: string): string | undefined {
  // Plain string scanning: the header block comes from the client.
  for (const line of headers.split('\r\n')) {
    if (line.slice(0, 5).toLowerCase() !== 'from:') continue
    const at = line.lastIndexOf('@')
    if (at === -1) return undefined
    let end = at + 1
    while (end < line.length && /[A-Za-z0-9.-]/.test(line[end]!)) end++
    return line.slice(at + 1, end).toLowerCase()
  }
  return undefined
}

/** Start the server on 127.0.0.1, port 0. */
export async function startProviderServer(): Promise<ProviderServer> {
  const attempts = new Map<string, number>()
  const log: ServerLog = { rcpts: [], accepted: [] }
  const next = (address: string, phase: 'rcpt' | 'data'): ScriptedReply | 'accept' => {
    const script = scriptFor(address)
    if (!script || (script.phase ?? 'rcpt') !== phase) return 'accept'
    const n = attempts.get(address) ?? 0
    attempts.set(address, n + 1)
    return script.replies[Math.min(n, script.replies.length - 1)]!
  }
  const server = new SMTPServer({
    name: 'mx.providers.test',
    banner: 'Bounce Guard demo: playing ' + PROVIDERS.map((p) => p.name).join(', '),
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideENHANCEDSTATUSCODES: true,
    logger: false,
    onRcptTo(address, _session: SMTPServerSession, callback) {
      const a = address.address.toLowerCase()
      const r = next(a, 'rcpt')
      log.rcpts.push({ address: a, code: r === 'accept' ? 250 : r.code })
      if (r !== 'accept') return callback(replyError(r))
      if (!providerFor(a) && !a.endsWith('.test')) {
        const e = Object.assign(new Error('5.7.1 Relaying denied: this demo server only plays .test domains'), { responseCode: 554 })
        return callback(e)
      }
      callback()
    },
    onData(stream, session, callback) {
      readAll(stream).then(
        (raw) => {
          const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase())
          const headerEnd = raw.indexOf('\r\n\r\n')
          const fromDomain = fromDomainOf(headerEnd === -1 ? raw : raw.slice(0, headerEnd))
          // One message per recipient in the demo, so a data-phase reply concerns that recipient.
          for (const rcpt of to) {
            const provider = providerFor(rcpt)
            if (fromDomain && UNAUTHENTICATED_DOMAINS.has(fromDomain) && provider?.dmarcReject)
              return callback(replyError(provider.dmarcReject(fromDomain)))
            const r = next(rcpt, 'data')
            if (r !== 'accept') return callback(replyError(r))
          }
          log.accepted.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to })
          callback(null, `2.0.0 OK ${Date.now().toString(36)} - queued`)
        },
        (err: Error) => callback(err),
      )
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port
  return {
    host: '127.0.0.1',
    port,
    log,
    resetLog() {
      log.rcpts.length = 0
      log.accepted.length = 0
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
