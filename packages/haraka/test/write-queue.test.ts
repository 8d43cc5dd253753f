import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

const require = createRequire(import.meta.url)
const { WriteQueue } = require('../lib/write-queue.js')

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A store stand-in whose availability we switch: writes fail (or hang) while it is down. */
function switchableStore(mode: 'fail' | 'hang') {
  const written: number[] = []
  let up = false
  return {
    written,
    setUp(v: boolean) {
      up = v
    },
    write(item: number): Promise<void> {
      if (up) {
        written.push(item)
        return Promise.resolve()
      }
      return mode === 'fail' ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : new Promise(() => {})
    },
  }
}

describe('WriteQueue', () => {
  it('keeps every item while the store is dead and writes them all, in order, after recovery', async () => {
    const store = switchableStore('fail')
    const warnings: string[] = []
    const q = new WriteQueue({
      write: (i: number) => store.write(i),
      limit: 100,
      timeoutMs: 200,
      retryMs: 30,
      concurrency: 1,
      logger: { warn: (m: string) => warnings.push(m), error: () => {} },
    })
    const t0 = performance.now()
    for (let i = 0; i < 50; i++) expect(q.push(i)).toBe(true)
    // push never waits for the store
    expect(performance.now() - t0).toBeLessThan(50)
    await sleep(150)
    expect(store.written).toEqual([])
    expect(q.stats().failedAttempts).toBeGreaterThanOrEqual(2)
    expect(q.size).toBe(50)
    expect(warnings.length).toBeGreaterThan(0)
    store.setUp(true)
    expect(await q.drain(2000)).toBe(true)
    expect(store.written).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(q.stats()).toMatchObject({ written: 50, overflowed: 0, queued: 0, inFlight: 0 })
    q.close()
  })

  it('times out a hanging store write, retries it, and loses nothing', async () => {
    const store = switchableStore('hang')
    const q = new WriteQueue({
      write: (i: number) => store.write(i),
      limit: 10,
      timeoutMs: 40,
      retryMs: 20,
      concurrency: 2,
      logger: { warn: () => {}, error: () => {} },
    })
    q.push(1)
    q.push(2)
    q.push(3)
    await sleep(120)
    expect(q.stats().timeouts).toBeGreaterThanOrEqual(1)
    store.setUp(true)
    expect(await q.drain(2000)).toBe(true)
    expect([...store.written].sort()).toEqual([1, 2, 3])
    q.close()
  })

  it('counts and logs overflow beyond the limit instead of growing without bound', async () => {
    const store = switchableStore('fail')
    const errors: string[] = []
    const q = new WriteQueue({
      write: (i: number) => store.write(i),
      limit: 5,
      timeoutMs: 100,
      retryMs: 1000,
      concurrency: 1,
      logger: { warn: () => {}, error: (m: string) => errors.push(m) },
    })
    const accepted = Array.from({ length: 8 }, (_, i) => q.push(i))
    expect(accepted).toEqual([true, true, true, true, true, false, false, false])
    expect(q.stats()).toMatchObject({ overflowed: 3, pushed: 5 })
    expect(q.size).toBe(5)
    expect(errors.some((e) => /write queue full/.test(e))).toBe(true)
    q.close()
  })

  it('a slow prepare step (opening the store) is not counted against the write timeout', async () => {
    const written: string[] = []
    const q = new WriteQueue({
      prepare: () => new Promise((r) => setTimeout(() => r('store'), 80)),
      write: (i: number, store: string) => {
        written.push(`${store}:${i}`)
        return Promise.resolve()
      },
      timeoutMs: 20,
      retryMs: 1000,
      logger: { warn: () => {}, error: () => {} },
    })
    q.push(1)
    expect(await q.drain(2000)).toBe(true)
    expect(written).toEqual(['store:1'])
    expect(q.stats()).toMatchObject({ timeouts: 0, failedAttempts: 0 })
    q.close()
  })

  it('drain resolves false when the store stays down past the deadline', async () => {
    const store = switchableStore('fail')
    const q = new WriteQueue({
      write: (i: number) => store.write(i),
      timeoutMs: 50,
      retryMs: 20,
      logger: { warn: () => {}, error: () => {} },
    })
    q.push(1)
    expect(await q.drain(80)).toBe(false)
    q.close()
  })
})
