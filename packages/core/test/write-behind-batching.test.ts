/**
 * The write-behind queue keeps gathering batches of `delayMs` worth of events when the store
 * answers a write quickly (the TypeORM store's SQLite worker thread): events queued while a write
 * ran wait until the oldest of them is `delayMs` old, unless a batch is full, `flush()` runs, or
 * callers wait for room.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MemoryBounceStore, createBounceGuard } from '@bounce-guard/core'
import type { BounceEvent } from '@bounce-guard/core'

/** A memory store whose batched writes wait at a gate and are counted. */
class GatedStore extends MemoryBounceStore {
  batches: number[] = []
  gate: Promise<void> | undefined
  started: Array<() => void> = []
  override async recordEvents(events: readonly BounceEvent[]) {
    for (const s of this.started.splice(0)) s()
    if (this.gate) await this.gate
    this.batches.push(events.length)
    return super.recordEvents(events)
  }
}

const delivery = (recipient: string) => ({ recipient, type: 'delivered' as const, source: 'smtp' as const })
const tick = () => new Promise((r) => setImmediate(r))

// The clock the queue reads (`performance.now()`) and its timers are faked: no test waits for time.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
})
afterEach(() => {
  vi.useRealTimers()
})

/** Queue one event, let its write start and hold it at the gate, queue `more` events meanwhile, open the gate. */
async function writeWithLateArrivals(delayMs: number, more: number, maxBatch = 500) {
  const store = new GatedStore()
  const guard = createBounceGuard({ store, writeBehind: { delayMs, maxBatch } })
  let open!: () => void
  store.gate = new Promise((r) => (open = r))
  const started = new Promise<void>((r) => store.started.push(r))
  await guard.enqueue(delivery('first@example.com'))
  await vi.advanceTimersByTimeAsync(delayMs)
  await started
  vi.advanceTimersByTime(delayMs / 4) // the write takes a while
  for (let i = 0; i < more; i++) await guard.enqueue(delivery(`later${i}@example.com`))
  store.gate = undefined
  open()
  for (let i = 0; i < 5; i++) await tick()
  return { store, guard }
}

describe('write-behind batches with a store that answers fast', () => {
  it('events queued during a write wait until the oldest is delayMs old, then go in one write', async () => {
    const { store, guard } = await writeWithLateArrivals(400, 5)
    expect(store.batches).toEqual([1])
    expect(guard.pendingWrites).toBe(5)
    await vi.advanceTimersByTimeAsync(390)
    expect(store.batches).toEqual([1])
    await vi.advanceTimersByTimeAsync(20)
    for (let i = 0; i < 5; i++) await tick()
    expect(store.batches).toEqual([1, 5])
    expect(guard.pendingWrites).toBe(0)
  })

  it('flush() writes what is queued at once', async () => {
    const { store, guard } = await writeWithLateArrivals(400, 5)
    expect(store.batches).toEqual([1])
    await guard.flush()
    expect(store.batches).toEqual([1, 5])
    expect(guard.pendingWrites).toBe(0)
  })

  it('full batches are written at once, the rest waits', async () => {
    const { store, guard } = await writeWithLateArrivals(400, 7, 3)
    expect(store.batches).toEqual([1, 3, 3])
    expect(guard.pendingWrites).toBe(1)
    await guard.flush()
    expect(store.batches).toEqual([1, 3, 3, 1])
  })

  it('with delayMs 0, events queued during a write go in the next write at once', async () => {
    const { store, guard } = await writeWithLateArrivals(0, 5)
    expect(store.batches).toEqual([1, 5])
    expect(guard.pendingWrites).toBe(0)
  })
})
