/**
 * `createWebhookNotifier`: tells another system what Bounce Guard decided (suppressed,
 * unsuppressed, alert) by POSTing signed JSON to a URL. Listeners only enqueue, so a send is never
 * blocked; delivery happens in the background with retries and exponential backoff. Undelivered
 * notifications wait in a bounded in-memory queue, mirrored to an optional
 * `NotificationQueueStore` so they survive a restart (`resume()` loads them).
 */
import { randomUUID } from 'node:crypto'
import { BounceGuardError } from '@bounce-guard/core'
import type { BounceAlert, BounceGuard, BounceGuardLogger, Suppression, SuppressionScope } from '@bounce-guard/core'
import { SIGNATURE_HEADER, signWebhookPayload } from './signing.js'

const PKG = '@bounce-guard/webhooks (notifier)'

/** What a notification is about. */
export type NotificationType = 'suppressed' | 'unsuppressed' | 'alert'

/** The JSON body posted to the receiver. */
export interface WebhookNotification {
  /** Unique id; receivers use it to ignore a repeated delivery. Also sent as `Bounce-Guard-Id`. */
  id: string
  type: NotificationType
  /** ISO 8601 time the decision was made. */
  createdAt: string
  /** A `suppressed` / `unsuppressed` payload (`NotificationSuppression`) or a `BounceAlert`. */
  data: NotificationSuppression | NotificationUnsuppression | BounceAlert | Record<string, unknown>
}

/** `data` of a `suppressed` notification. */
export interface NotificationSuppression extends Omit<Suppression, 'createdAt' | 'updatedAt' | 'expiresAt'> {
  createdAt: string
  updatedAt: string
  expiresAt?: string
  /** The recipient that triggered it, as given. */
  recipient?: string
}

/** `data` of an `unsuppressed` notification. */
export interface NotificationUnsuppression {
  key: string
  scope: SuppressionScope
}

/** A notification waiting for delivery. */
export interface QueuedNotification {
  notification: WebhookNotification
  /** Attempts made so far. */
  attempts: number
  /** When the next attempt is due (ms since epoch). */
  dueAt: number
  lastError?: string
}

/**
 * Optional persistence for undelivered notifications, so they survive a restart. Minimal on
 * purpose; an implementation may use a table of the app's database. Every call is awaited in the
 * background; a failure is logged and never reaches the guard.
 */
export interface NotificationQueueStore {
  /** Insert, or replace the item with the same `notification.id`. */
  save(item: QueuedNotification): Promise<void> | void
  /** Remove after delivery or give-up. Unknown ids are ignored. */
  remove(id: string): Promise<void> | void
  /** Up to `limit` pending items, oldest `dueAt` first. */
  load(limit: number): Promise<QueuedNotification[]> | QueuedNotification[]
}

/** Backoff between attempts: `initialMs * factor^(attempt-1)`, capped, with optional full jitter. */
export interface BackoffOptions {
  /** @default 1000 */
  initialMs?: number
  /** @default 2 */
  factor?: number
  /** @default 300000 (5 min) */
  maxMs?: number
  /** Randomise each delay in [delay/2, delay]. @default true */
  jitter?: boolean
}

/** Options of `createWebhookNotifier`. */
export interface WebhookNotifierOptions {
  /** The receiver's URL (http or https). */
  url: string
  /** The HMAC-SHA256 key shared with the receiver. */
  secret: string
  /** Which notifications to send. @default ["suppressed", "unsuppressed", "alert"] */
  events?: readonly NotificationType[]
  /** Subscribe to this guard right away (same as calling `attach(guard)`). @default undefined */
  guard?: BounceGuard
  /** Also notify call-time refusals of already suppressed recipients. @default false */
  includeCallTimeRefusals?: boolean
  /** Persistence for undelivered notifications. @default none (memory only) */
  store?: NotificationQueueStore
  /** @default globalThis.fetch */
  fetch?: typeof fetch
  /** Attempts per notification before giving up (the first try counts). @default 8 */
  maxAttempts?: number
  /** Delay between attempts, or a function of the attempt number (1 = after the first failure). @default { initialMs: 1000, factor: 2, maxMs: 300000, jitter: true } */
  backoff?: BackoffOptions | ((attempt: number) => number)
  /** Time allowed for one POST, in ms. @default 10000 */
  timeoutMs?: number
  /** Largest number of notifications kept waiting; the oldest is dropped beyond it. @default 1000 */
  maxQueue?: number
  /** Called after a successful delivery. @default none */
  onDelivered?: (n: WebhookNotification, attempts: number) => void
  /** Called when a notification is given up (attempts exhausted, non-retryable 4xx, or dropped from a full queue). @default none */
  onGiveUp?: (n: WebhookNotification, why: string) => void
  /** @default none */
  logger?: BounceGuardLogger
}

/** The notifier. */
export interface WebhookNotifier {
  /** Subscribe to a guard's `suppressed` and `alert` events (and `unsuppressed` if it emits one). Returns a function that unsubscribes. */
  attach(guard: BounceGuard): () => void
  /** Queue a notification (e.g. `unsuppressed` after a manual removal). Returns its id, or `undefined` when the type is not enabled. Never throws, never waits. */
  notify(type: NotificationType, data: WebhookNotification['data'], at?: Date): string | undefined
  /** Load undelivered notifications from the store (after a restart) and schedule them. */
  resume(): Promise<number>
  /** Resolve when the queue is empty (everything delivered or given up), or after `timeoutMs`. Returns the number still pending. */
  idle(timeoutMs?: number): Promise<number>
  /** Notifications waiting (in memory). */
  readonly pending: number
  /** Stop timers and detach from guards; pending notifications stay in the store, if any. */
  close(): Promise<void>
}

function suppressionData(s: Suppression, recipient?: string): NotificationSuppression {
  const d: NotificationSuppression = {
    ...s,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    expiresAt: s.expiresAt?.toISOString(),
  }
  if (d.expiresAt === undefined) delete d.expiresAt
  if (recipient !== undefined) d.recipient = recipient
  return d
}

/** Create a notifier. Throws `EINVALID_OPTION` for a missing or bad `url` / `secret`. */
export function createWebhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  let url: URL
  try {
    url = new URL(options.url)
  } catch (err) {
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: "url" is not a URL`, { cause: err })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BounceGuardError('EINVALID_OPTION', `${PKG}: "url" must be http(s)`)
  if (typeof options.secret !== 'string' || options.secret.length < 16) {
    throw new BounceGuardError('EINVALID_OPTION', `${PKG}: "secret" must be a string of at least 16 characters`)
  }
  const events = new Set<NotificationType>(options.events ?? ['suppressed', 'unsuppressed', 'alert'])
  const doFetch = options.fetch ?? globalThis.fetch
  const maxAttempts = Math.max(1, options.maxAttempts ?? 8)
  const timeoutMs = options.timeoutMs ?? 10_000
  const maxQueue = Math.max(1, options.maxQueue ?? 1000)
  const log = options.logger
  const store = options.store
  const backoff =
    typeof options.backoff === 'function'
      ? options.backoff
      : (() => {
          const b = options.backoff ?? {}
          const initial = b.initialMs ?? 1000
          const factor = b.factor ?? 2
          const max = b.maxMs ?? 300_000
          const jitter = b.jitter ?? true
          return (attempt: number) => {
            const d = Math.min(max, initial * factor ** Math.max(0, attempt - 1))
            return jitter ? d / 2 + Math.random() * (d / 2) : d
          }
        })()

  const queue = new Map<string, QueuedNotification>()
  const detachers = new Set<() => void>()
  const waiters = new Set<() => void>()
  let timer: NodeJS.Timeout | undefined
  let running = false
  let closed = false

  const persist = (fn: () => Promise<void> | void) => {
    if (!store) return
    Promise.resolve()
      .then(fn)
      .catch((err: unknown) => log?.error({ err }, `${PKG}: notification store failed`))
  }

  function settleWaiters() {
    if (queue.size > 0) return
    for (const w of waiters) w()
    waiters.clear()
  }

  function giveUp(item: QueuedNotification, why: string) {
    queue.delete(item.notification.id)
    persist(() => store!.remove(item.notification.id))
    log?.warn({ id: item.notification.id, type: item.notification.type, why }, `${PKG}: notification given up`)
    try {
      options.onGiveUp?.(item.notification, why)
    } catch {
      /* a callback must not break the queue */
    }
  }

  function enqueue(item: QueuedNotification) {
    queue.set(item.notification.id, item)
    while (queue.size > maxQueue) {
      const oldest = queue.values().next().value as QueuedNotification
      giveUp(oldest, 'queue full')
    }
    persist(() => store!.save(item))
    schedule()
  }

  function schedule() {
    if (closed || running) return
    if (timer) {
      clearTimeout(timer)
      timer = undefined
    }
    if (queue.size === 0) {
      settleWaiters()
      return
    }
    let next = Infinity
    for (const q of queue.values()) next = Math.min(next, q.dueAt)
    timer = setTimeout(
      () => {
        timer = undefined
        void pump()
      },
      Math.max(0, next - Date.now()),
    )
    timer.unref?.()
  }

  async function attempt(item: QueuedNotification): Promise<void> {
    const body = JSON.stringify(item.notification)
    item.attempts++
    let error: string | undefined
    let retryable = true
    const controller = new AbortController()
    let timeout: NodeJS.Timeout | undefined
    try {
      // Our own timer as well as the signal: a custom fetch may ignore the signal.
      const timedOut = new Promise<never>((_, reject) => {
        timeout = setTimeout(() => {
          const err = new Error(`timeout after ${timeoutMs} ms`)
          err.name = 'TimeoutError'
          controller.abort(err)
          reject(err)
        }, timeoutMs)
      })
      const res = await Promise.race([
        timedOut,
        doFetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'bounce-guard-webhooks',
            'bounce-guard-id': item.notification.id,
            [SIGNATURE_HEADER]: signWebhookPayload(body, options.secret, Date.now() / 1000),
          },
          body,
          signal: controller.signal,
          redirect: 'manual',
        }),
      ])
      await Promise.race([timedOut, res.arrayBuffer()]).catch(() => undefined)
      if (res.status >= 200 && res.status < 300) {
        queue.delete(item.notification.id)
        persist(() => store!.remove(item.notification.id))
        try {
          options.onDelivered?.(item.notification, item.attempts)
        } catch {
          /* ignore */
        }
        return
      }
      error = `HTTP ${res.status}`
      retryable = res.status >= 500 || res.status === 408 || res.status === 429
    } catch (err) {
      error = (err as Error).name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (err as Error).message
    } finally {
      clearTimeout(timeout)
    }
    item.lastError = error
    if (!retryable || item.attempts >= maxAttempts) {
      giveUp(item, retryable ? `${item.attempts} attempts failed, last: ${error}` : `not retryable: ${error}`)
      return
    }
    item.dueAt = Date.now() + backoff(item.attempts)
    persist(() => store!.save(item))
  }

  async function pump(): Promise<void> {
    if (running || closed) return
    running = true
    try {
      for (;;) {
        const nowMs = Date.now()
        const due = [...queue.values()].filter((q) => q.dueAt <= nowMs).sort((a, b) => a.dueAt - b.dueAt)
        if (due.length === 0 || closed) break
        for (const item of due) {
          if (closed) break
          if (queue.has(item.notification.id)) await attempt(item)
        }
      }
    } finally {
      running = false
      schedule()
    }
  }

  const notifier: WebhookNotifier = {
    get pending() {
      return queue.size
    },
    attach(guard) {
      const onSuppressed = (info: { recipient?: string; suppression: Suppression; atCallTime: boolean }) => {
        if (info.atCallTime && !options.includeCallTimeRefusals) return
        notifier.notify('suppressed', suppressionData(info.suppression, info.recipient), info.suppression.updatedAt)
      }
      const onAlert = (alert: BounceAlert) => notifier.notify('alert', alert, alert.at)
      const onUnsuppressed = (info: NotificationUnsuppression) => notifier.notify('unsuppressed', { key: info.key, scope: info.scope })
      guard.on('suppressed', onSuppressed)
      guard.on('alert', onAlert)
      // The core guard does not emit `unsuppressed` today; a guard that does is picked up.
      const loose = guard as unknown as {
        on(e: string, l: (...a: never[]) => void): unknown
        off(e: string, l: (...a: never[]) => void): unknown
      }
      loose.on('unsuppressed', onUnsuppressed)
      const detach = () => {
        guard.off('suppressed', onSuppressed)
        guard.off('alert', onAlert)
        loose.off('unsuppressed', onUnsuppressed)
        detachers.delete(detach)
      }
      detachers.add(detach)
      return detach
    },
    notify(type, data, at) {
      if (closed || !events.has(type)) return undefined
      try {
        const n: WebhookNotification = { id: randomUUID(), type, createdAt: (at ?? new Date()).toISOString(), data }
        enqueue({ notification: n, attempts: 0, dueAt: Date.now() })
        return n.id
      } catch (err) {
        log?.error({ err }, `${PKG}: could not queue a notification`)
        return undefined
      }
    },
    async resume() {
      if (!store) return 0
      const items = await store.load(maxQueue)
      let n = 0
      for (const item of items) {
        if (!queue.has(item.notification.id)) {
          queue.set(item.notification.id, { ...item })
          n++
        }
      }
      schedule()
      return n
    },
    idle(ms) {
      if (queue.size === 0) return Promise.resolve(0)
      return new Promise((resolve) => {
        let t: NodeJS.Timeout | undefined
        const done = () => {
          if (t) clearTimeout(t)
          waiters.delete(done)
          resolve(queue.size)
        }
        waiters.add(done)
        if (ms !== undefined) {
          t = setTimeout(done, ms)
          t.unref?.()
        }
      })
    },
    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      for (const d of [...detachers]) d()
      for (const w of [...waiters]) w()
    },
  }
  if (options.guard) notifier.attach(options.guard)
  return notifier
}
