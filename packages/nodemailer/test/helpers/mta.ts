/**
 * A real smtp-server on port 0 playing several recipient MTAs. Each recipient's local part picks
 * a real-world reply (texts as sent by the providers). Counts RCPT commands per address and the
 * messages accepted, so tests can prove that a suppressed address never reached the server.
 */
import { SMTPServer } from 'smtp-server'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach } from 'vitest'

/** Real reply texts, one per behaviour. Arrays are multi-line replies. */
export const REPLIES = {
  gmailUnknown: {
    code: 550,
    lines: [
      '5.1.1 The email account that you tried to reach does not exist. Please try',
      "5.1.1 double-checking the recipient's email address for typos or",
      '5.1.1 unnecessary spaces. For more information, go to',
      '5.1.1  https://support.google.com/mail/?p=NoSuchUser',
    ],
  },
  microsoftUnavailable: { code: 550, lines: ['5.5.0 Requested action not taken: mailbox unavailable'] },
  yahooDeferred: {
    code: 421,
    lines: [
      '4.7.0 [TSS04] Messages from 1.2.3.4 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
    ],
  },
  greylisted: { code: 451, lines: ['4.7.1 Greylisted, please try again later'] },
  mailboxFull: { code: 552, lines: ['5.2.2 <full@example.com>: Mailbox full'] },
  spamhaus: { code: 554, lines: ['5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org'] },
  dmarc: { code: 550, lines: ["5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy"] },
} as const

export type ReplyName = keyof typeof REPLIES

/** Which reply a recipient gets at RCPT; `undefined` accepts. `attempt` counts from 1 per address. */
export type RcptRule = (address: string, attempt: number) => ReplyName | undefined

/** Default routing by local part: dead@, gone@, busy@, grey@ (first try only), full@, blocked@, dmarc@. */
export const defaultRcptRule: RcptRule = (address, attempt) => {
  const local = address.slice(0, address.lastIndexOf('@')).toLowerCase()
  switch (local) {
    case 'dead':
      return 'gmailUnknown'
    case 'gone':
      return 'microsoftUnavailable'
    case 'busy':
      return 'yahooDeferred'
    case 'grey':
      return attempt === 1 ? 'greylisted' : undefined
    case 'full':
      return 'mailboxFull'
    case 'blocked':
      return 'spamhaus'
    case 'dmarc':
      return 'dmarc'
    default:
      return undefined
  }
}

export interface Mta {
  port: number
  /** RCPT TO commands seen, per lower-case address. */
  rcpts: Map<string, number>
  /** Messages accepted after DATA, with their envelope recipients and raw bytes. */
  messages: Array<{ to: string[]; from: string | false; raw: Buffer }>
  /** Reply to the end of DATA for the next messages (undefined = 250). */
  dataReply: ReplyName | undefined
  /** Delay before answering the end of DATA, in milliseconds. */
  dataDelayMs: number
  /** DATA transactions seen (accepted or not). */
  dataCommands: number
  /** Connections opened. */
  connections: number
  rcptCount(address: string): number
  /** Forget the RCPTs and messages seen; answer 250 again, without delay (connections keep counting). */
  reset(): void
  close(): Promise<void>
}

function replyError(name: ReplyName): Error {
  const r = REPLIES[name]
  const e = new Error(r.lines[0]) as Error & { responseCode: number }
  e.responseCode = r.code
  // smtp-server writes an array message as a multi-line reply (`550-...` continuation lines).
  if (r.lines.length > 1) (e as unknown as { message: unknown }).message = [...r.lines]
  return e
}

/** Start the server on 127.0.0.1, port 0. */
export async function startMta(rule: RcptRule = defaultRcptRule): Promise<Mta> {
  const { mta, listen } = createMta(rule)
  await listen()
  return mta
}

/** The server and its record, not listening yet. */
function createMta(rule: RcptRule): { mta: Mta; listen(): Promise<void> } {
  const rcpts = new Map<string, number>()
  const mta: Mta = {
    port: 0,
    rcpts,
    messages: [],
    dataReply: undefined,
    connections: 0,
    dataCommands: 0,
    dataDelayMs: 0,
    rcptCount: (a) => rcpts.get(a.toLowerCase()) ?? 0,
    reset() {
      rcpts.clear()
      mta.messages.length = 0
      mta.dataReply = undefined
      mta.dataDelayMs = 0
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    hideENHANCEDSTATUSCODES: true,
    logger: false,
    size: 50 * 1024 * 1024,
    onConnect(_session, cb) {
      mta.connections++
      cb()
    },
    onRcptTo(address, _session, cb) {
      const a = address.address.toLowerCase()
      const n = (rcpts.get(a) ?? 0) + 1
      rcpts.set(a, n)
      const name = rule(a, n)
      if (!name) return cb()
      // Nodemailer closes the connection itself after a 421 (RFC 5321 3.8).
      cb(replyError(name))
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => setTimeout(finish, mta.dataDelayMs))
      const finish = () => {
        mta.dataCommands++
        if (mta.dataReply) return cb(replyError(mta.dataReply))
        mta.messages.push({
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : false,
          raw: Buffer.concat(chunks),
        })
        cb(null, 'Ok: queued as BG' + mta.messages.length)
      }
    },
  })
  const listen = async (): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    mta.port = (server.server.address() as AddressInfo).port
  }
  return { mta, listen }
}

/**
 * One MTA for the enclosing `describe` (or file): listening before its first test (`port` is set
 * then), reset before each test, closed after the last.
 */
export function useMta(rule: RcptRule = defaultRcptRule): Mta {
  const { mta, listen } = createMta(rule)
  beforeAll(listen)
  afterAll(() => mta.close())
  beforeEach(() => mta.reset())
  return mta
}
