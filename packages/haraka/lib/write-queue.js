'use strict'
/**
 * A bounded in-process queue between Haraka's hooks and the store. Hooks `push()` and call
 * `next()` at once; the queue writes in the background, each write bounded by a timeout. A failed
 * or timed-out write puts the item back at the head and pauses the queue for `retryMs`, so a slow
 * or dead database is retried at a calm pace and nothing is lost until the queue is full. When it
 * is full, new items are refused, counted in `stats().overflowed` and logged.
 *
 * A write that timed out may still complete later; the item is then written twice. Items carry an
 * `eventId` (see `index.js`), which makes the store ignore the second copy.
 */

class WriteTimeoutError extends Error {
  constructor(ms) {
    super(`haraka-plugin-bounce-guard: store write took longer than ${ms} ms`)
    this.name = 'WriteTimeoutError'
  }
}

class WriteQueue {
  /**
   * @param {object} options
   * @param {(item: any, resource: any) => Promise<unknown>} options.write writes one item; rejects on failure
   * @param {() => Promise<any>} [options.prepare] resolves what `write` needs (e.g. an open store);
   *   awaited before each write and not counted in `timeoutMs` (it needs its own timeout)
   * @param {number} [options.limit] most items held (queued + in flight) @default 10000
   * @param {number} [options.timeoutMs] longest a write may take before it counts as failed @default 2000
   * @param {number} [options.retryMs] pause after a failure before the next attempt @default 5000
   * @param {number} [options.concurrency] writes in flight at once @default 2
   * @param {{ warn: Function, error: Function, info?: Function }} [options.logger]
   */
  constructor({ write, prepare, limit = 10_000, timeoutMs = 2_000, retryMs = 5_000, concurrency = 2, logger } = {}) {
    if (typeof write !== 'function') throw new TypeError('haraka-plugin-bounce-guard: WriteQueue needs a write function')
    this._write = write
    this._prepare = typeof prepare === 'function' ? prepare : () => Promise.resolve(undefined)
    this.limit = limit
    this.timeoutMs = timeoutMs
    this.retryMs = retryMs
    this.concurrency = concurrency
    this.logger = logger
    this._items = []
    this._inFlight = 0
    this._pausedUntil = 0
    this._timer = undefined
    this._closed = false
    this._waiters = []
    this._scheduled = false
    this._stats = { pushed: 0, written: 0, failedAttempts: 0, timeouts: 0, overflowed: 0 }
  }

  /** Items waiting plus items being written. */
  get size() {
    return this._items.length + this._inFlight
  }

  /**
   * Queue an item. Never throws and never waits.
   * @returns {boolean} false when the queue was full (the item is counted in `overflowed` and logged)
   */
  push(item) {
    if (this._closed || this.size >= this.limit) {
      this._stats.overflowed++
      const n = this._stats.overflowed
      if (n === 1 || n % 1000 === 0) {
        this.logger?.error?.(`bounce-guard: write queue full (${this.limit}); ${n} outcome(s) not recorded so far`)
      }
      return false
    }
    this._stats.pushed++
    this._items.push({ item, attempts: 0 })
    // Start writing on a later tick: a write never runs inside the caller's (the hook's) stack.
    if (!this._scheduled) {
      this._scheduled = true
      setImmediate(() => {
        this._scheduled = false
        this._pump()
      })
    }
    return true
  }

  /** Counters since creation, plus the current size. */
  stats() {
    return { ...this._stats, queued: this._items.length, inFlight: this._inFlight, limit: this.limit }
  }

  /**
   * Resolves when the queue is empty, or after `timeoutMs` (then resolves false).
   * @param {number} [timeoutMs] @default 10000
   */
  drain(timeoutMs = 10_000) {
    if (this.size === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const waiter = { resolve, timer: undefined }
      waiter.timer = setTimeout(() => {
        this._waiters = this._waiters.filter((w) => w !== waiter)
        resolve(false)
      }, timeoutMs)
      waiter.timer.unref?.()
      this._waiters.push(waiter)
    })
  }

  /** Stop accepting and stop retrying; pending items stay in memory (see `stats().queued`). */
  close() {
    this._closed = true
    if (this._timer) clearTimeout(this._timer)
    this._timer = undefined
    for (const w of this._waiters) {
      clearTimeout(w.timer)
      w.resolve(this.size === 0)
    }
    this._waiters = []
  }

  _pump() {
    if (this._closed) return
    const wait = this._pausedUntil - Date.now()
    if (wait > 0) {
      if (!this._timer) {
        this._timer = setTimeout(() => {
          this._timer = undefined
          this._pump()
        }, wait)
        this._timer.unref?.()
      }
      return
    }
    while (this._inFlight < this.concurrency && this._items.length > 0 && this._pausedUntil <= Date.now()) {
      const entry = this._items.shift()
      this._inFlight++
      entry.attempts++
      this._attempt(entry).then(
        () => {
          this._inFlight--
          this._stats.written++
          this._settled()
        },
        (err) => {
          this._inFlight--
          this._stats.failedAttempts++
          if (err instanceof WriteTimeoutError) this._stats.timeouts++
          // Put it back at the head: retried first, never dropped.
          this._items.unshift(entry)
          if (this._pausedUntil <= Date.now()) {
            this.logger?.warn?.(
              `bounce-guard: store write failed (attempt ${entry.attempts}, ${this._items.length} queued), retrying in ${this.retryMs} ms: ${err?.message ?? err}`,
            )
          }
          this._pausedUntil = Date.now() + this.retryMs
          this._settled()
        },
      )
    }
  }

  async _attempt(entry) {
    const resource = await this._prepare()
    return this._timedWrite(entry, resource)
  }

  _timedWrite(entry, resource) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new WriteTimeoutError(this.timeoutMs)), this.timeoutMs)
      timer.unref?.()
      let p
      try {
        p = Promise.resolve(this._write(entry.item, resource))
      } catch (err) {
        p = Promise.reject(err)
      }
      p.then(
        (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        (err) => {
          clearTimeout(timer)
          reject(err)
        },
      )
    })
  }

  _settled() {
    if (this.size === 0 && this._waiters.length) {
      const waiters = this._waiters
      this._waiters = []
      for (const w of waiters) {
        clearTimeout(w.timer)
        w.resolve(true)
      }
    }
    this._pump()
  }
}

module.exports = { WriteQueue, WriteTimeoutError }
