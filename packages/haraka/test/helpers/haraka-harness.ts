/**
 * Real parts for the plugin's end-to-end test and benchmark: an `smtp-server` sink that answers
 * with real reply texts, a Haraka 3.3.4 process with the plugin installed (built from
 * `examples/haraka/config`), and a Nodemailer client. Nothing here is mocked.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from './build-deps.js'

export const PLUGIN_DIR = join(REPO_ROOT, 'packages/haraka')
const requireFromPlugin = createRequire(join(PLUGIN_DIR, 'package.json'))
// nodemailer and smtp-server are dev dependencies of the nodemailer adapter; borrowed from there.
const requireFromNodemailerPkg = createRequire(join(REPO_ROOT, 'packages/nodemailer/package.json'))
export const HARAKA_BIN = join(requireFromPlugin.resolve('Haraka/package.json'), '..', 'bin', 'haraka')
const HARAKA_PKG = join(HARAKA_BIN, '..', '..')

/** Lazily loaded so that importing this file costs nothing. */
export function nodemailer(): any {
  return requireFromNodemailerPkg('nodemailer')
}
function smtpServerModule(): any {
  return requireFromNodemailerPkg('smtp-server')
}

/** A TCP port that was free a moment ago (for Haraka, which cannot listen on port 0 and report it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

/** What the sink saw. */
export interface SinkLog {
  rcpt: Array<{ to: string; code: number; at: number }>
  messages: Array<{ from: string; to: string[]; raw: string; at: number }>
}

export interface Sink {
  port: number
  log: SinkLog
  /** Resolves when `count` messages have been received (or rejects after `timeoutMs`). */
  waitForMessages(count: number, timeoutMs: number): Promise<void>
  close(): Promise<void>
}

/**
 * The receiving MTA. By local part: `dead*` -> 550 5.1.1 user unknown, `grey*` -> 451 4.7.1 the
 * first time then 250, `full*` -> 452 4.2.2 always (texts as Postfix sends them), `unauth*` ->
 * Gmail's 550 5.7.26; anything else 250.
 */
export async function startSink(options: { keepMessages?: boolean } = {}): Promise<Sink> {
  const { SMTPServer } = smtpServerModule()
  const log: SinkLog = { rcpt: [], messages: [] }
  const greySeen = new Set<string>()
  const waiters: Array<{ count: number; resolve: () => void }> = []
  const reject = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code })
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    hideENHANCEDSTATUSCODES: true,
    logger: false,
    size: 50 * 1024 * 1024,
    onRcptTo(address: { address: string }, _session: unknown, cb: (err?: Error) => void) {
      const to = address.address
      const local = to.slice(0, to.indexOf('@')).toLowerCase()
      let err: Error | undefined
      if (local.startsWith('dead')) {
        err = reject(550, `5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table`)
      } else if (local.startsWith('grey') && !greySeen.has(to)) {
        greySeen.add(to)
        err = reject(451, `4.7.1 <${to}>: Recipient address rejected: Greylisted, try again later`)
      } else if (local.startsWith('full')) {
        err = reject(452, `4.2.2 <${to}>: Mailbox full`)
      } else if (local.startsWith('unauth')) {
        // Gmail's reply: a two-digit detail (5.7.26) that Haraka's reply parser does not split off.
        err = reject(
          550,
          '5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked. The sender must authenticate with at least one of SPF or DKIM.',
        )
      }
      log.rcpt.push({ to, code: err ? (err as any).responseCode : 250, at: Date.now() })
      cb(err)
    },
    onData(stream: NodeJS.ReadableStream, session: any, cb: (err?: Error | null, msg?: string) => void) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => {
        if (options.keepMessages !== false) chunks.push(c)
      })
      stream.on('end', () => {
        log.messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r: { address: string }) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        })
        for (const w of [...waiters]) {
          if (log.messages.length >= w.count) {
            waiters.splice(waiters.indexOf(w), 1)
            w.resolve()
          }
        }
        cb(null, `Ok: queued as SINK${log.messages.length}`)
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.server.address() as net.AddressInfo).port
  return {
    port,
    log,
    waitForMessages(count, timeoutMs) {
      if (log.messages.length >= count) return Promise.resolve()
      return new Promise((resolve, rejectP) => {
        const w = {
          count,
          resolve: () => {
            clearTimeout(t)
            resolve()
          },
        }
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1)
          rejectP(new Error(`sink got ${log.messages.length} of ${count} messages in ${timeoutMs} ms`))
        }, timeoutMs)
        waiters.push(w)
      })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** Options of `prepareHarakaDir`. */
export interface HarakaDirOptions {
  port: number
  sinkPort: number
  /** `bounce-guard.ini` [database] url. */
  databaseUrl: string
  tablePrefix: string
  /** List the plugin in config/plugins. @default true */
  pluginOn?: boolean
  /** Haraka log level. @default 'info' */
  logLevel?: string
  /** Extra lines appended to bounce-guard.ini. */
  extraIni?: string
  /** Worker processes (0 = none). @default 0 */
  nodes?: number
  /** Route the domain `down.example` to this port of 127.0.0.1, where nothing listens. */
  downPort?: number
}

/**
 * A Haraka directory made from the shipped example (`examples/haraka/config`), with the listen
 * port, fast retries, the test database, and a tiny `route_to_sink` plugin that sends every
 * domain to the sink (instead of DNS MX lookups).
 */
export function prepareHarakaDir(o: HarakaDirOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'bg-haraka-'))
  execFileSync(process.execPath, [HARAKA_BIN, '-i', dir], { stdio: 'pipe' })
  cpSync(join(REPO_ROOT, 'examples/haraka/config'), join(dir, 'config'), { recursive: true })
  cpSync(join(HARAKA_PKG, 'config/outbound.bounce_message'), join(dir, 'config/outbound.bounce_message'))
  const cfg = (name: string, text: string) => writeFileSync(join(dir, 'config', name), text)
  cfg('smtp.ini', `[main]\nlisten=127.0.0.1:${o.port}\nnodes=${o.nodes ?? 0}\n`)
  cfg('log.ini', `[main]\nlevel=${o.logLevel ?? 'info'}\ntimestamps=true\nformat=default\n`)
  cfg('outbound.ini', `[main]\nenable_tls=false\ntemp_fail_intervals=5s,5s\nconcurrency_max=100\n`)
  // The example's bounce-guard.ini, pointed at the test database.
  const ini = readFileSync(join(dir, 'config/bounce-guard.ini'), 'utf8')
    .replace(/^url=.*$/m, `url=${o.databaseUrl}`)
    .replace(/^table_prefix=.*$/m, `table_prefix=${o.tablePrefix}`)
  cfg('bounce-guard.ini', `${ini}\n${o.extraIni ?? ''}\n`)
  const plugins = readFileSync(join(dir, 'config/plugins'), 'utf8')
    .split('\n')
    .filter((l) => o.pluginOn !== false || l.trim() !== 'bounce-guard')
  cfg('plugins', `${plugins.join('\n')}\nroute_to_sink\n`)
  cfg('route_to_sink.ini', `[main]\nhost=127.0.0.1\nport=${o.sinkPort}\ndown_port=${o.downPort ?? ''}\n`)
  mkdirSync(join(dir, 'plugins'), { recursive: true })
  writeFileSync(
    join(dir, 'plugins/route_to_sink.js'),
    `// Test routing: every domain's MX is the local sink.
exports.register = function () { this.register_hook('get_mx', 'route') }
exports.route = function (next, hmail, domain) {
  const c = this.config.get('route_to_sink.ini')
  const port = domain === 'down.example' && c.main.down_port ? c.main.down_port : c.main.port
  next(OK, { exchange: c.main.host, port: Number(port), priority: 0 })
}
`,
  )
  mkdirSync(join(dir, 'node_modules'), { recursive: true })
  symlinkSync(PLUGIN_DIR, join(dir, 'node_modules/haraka-plugin-bounce-guard'), 'dir')
  return dir
}

/** A running Haraka. */
export interface HarakaProcess {
  pid: number
  dir: string
  port: number
  /** Everything Haraka printed so far. */
  output(): string
  /** SIGINT by pid, then SIGKILL after 3 s. Idempotent. */
  stop(): Promise<void>
}

/**
 * The environment for Haraka: ours without test-runner variables. Under vitest NODE_ENV is
 * `test`, and haraka-net-utils then leaves the outbound EHLO name empty (HarakaMx), which a real
 * server answers with `501 Syntax: HELO hostname`.
 */
function harakaEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_ENV' || k === 'NODE_OPTIONS' || k.startsWith('VITEST') || k === 'TEST') continue
    env[k] = v
  }
  env.HARAKA = dir
  env.NODE_ENV = 'production'
  return env
}

/** Start `haraka -c <dir>` and resolve once it accepts connections on `port`. */
export async function startHaraka(dir: string, port: number, timeoutMs = 20_000): Promise<HarakaProcess> {
  const child: ChildProcess = spawn(process.execPath, [HARAKA_BIN, '-c', dir], {
    cwd: dir,
    env: harakaEnv(dir),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString()
  })
  child.stderr!.on('data', (c: Buffer) => {
    out += c.toString()
  })
  let exited = false
  const exitP = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true
      resolve()
    }),
  )
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (exited) throw new Error(`Haraka exited during start-up:\n${out.slice(-4000)}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`Haraka did not listen on ${port} within ${timeoutMs} ms:\n${out.slice(-4000)}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    pid: child.pid!,
    dir,
    port,
    output: () => out,
    async stop() {
      if (exited) return
      process.kill(child.pid!, 'SIGINT')
      const t = setTimeout(() => {
        if (!exited) process.kill(child.pid!, 'SIGKILL')
      }, 3000)
      await exitP
      clearTimeout(t)
    },
  }
}

/** Remove a directory made by `prepareHarakaDir`. */
export function removeHarakaDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
