import { describe, expect, it } from 'vitest'
import { BounceGuardError, MemoryBounceStore, createBounceGuard } from '@bounce-guard/core'
import type { BounceClassification, BounceEvent, RecordResult } from '@bounce-guard/core'

const T0 = new Date('2030-05-01T08:00:00.000Z')
const full: BounceClassification = { reason: 'mailboxfull', hard: false, permanent: false, scope: 'recipient', ruleId: 'test.full' }

/** A memory store that counts batched writes and can fail on demand. */
class CountingStore extends MemoryBounceStore {
  batches: number[] = []
  singles = 0
  down = false
  poison = new Set<string>()
  gate: Promise<void> | undefined
  override async recordEvents(events: readonly BounceEvent[]) {
    if (this.gate) await this.gate
    if (this.down) throw new BounceGuardError('ESTORE_UNAVAILABLE', 'test store: down')
    if (events.some((e) => this.poison.has(e.recipient))) throw new Error('value too long for column')
    this.batches.push(events.length)
    return super.recordEvents(events)
  }
  override async recordEvent(e: BounceEvent) {
    if (this.down) throw new BounceGuardError('ESTORE_UNAVAILABLE', 'test store: down')
    if (this.poison.has(e.recipient)) throw new Error('value too long for column')
    this.singles++
    return super.recordEvent(e)
  }
}

function setup(writeBehind: Parameters<typeof createBounceGuard>[0]['writeBehind'] = {}) {
  const store = new CountingStore()
  const guard = createBounceGuard({ store, now: () => T0, random: () => 0, writeBehind })
  const delivered: RecordResult[] = []
  const errors: BounceGuardError[] = []
  guard.on('delivered', (r) => void delivered.push(r))
  guard.on('error', (e) => void errors.push(e as BounceGuardError))
  return { store, guard, delivered, errors }
}

const delivery = (recipient: string) => ({ recipient, type: 'delivered' as const, source: 'smtp' as const })
const tick = () => new Promise((r) => setImmediate(r))

describe('guard.enqueue (write-behind)', () => {
  it('queues deliveries, answers decision none at once, and writes them in one batch on the next turn', async () => {
    const { store, guard, delivered } = setup()
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => guard.enqueue(delivery(`User${i}@Example.COM`))))
    expect(results.every((r) => r.queued && r.decision.action === 'none')).toBe(true)
    expect(results[3]?.event.recipient).toBe('user3@example.com')
    expect(guard.pendingWrites).toBe(40)
    expect(await store.getRecipientState('user3@example.com')).toBeUndefined()
    await tick()
    await guard.flush()
    expect(guard.pendingWrites).toBe(0)
    expect(store.batches).toEqual([40])
    expect(store.singles).toBe(0)
    expect((await store.getRecipientState('user3@example.com'))?.deliveries).toBe(1)
    // the delivered event comes after the write, with the stored state
    expect(delivered).toHaveLength(40)
    expect(delivered[0]?.state.deliveries).toBe(1)
    expect(delivered[0]?.event.recipient).toBe('user0@example.com')
  })

  it('events that arrive while a write runs go together into the next write', async () => {
    const { store, guard } = setup({ delayMs: 0 })
    let open!: () => void
    store.gate = new Promise((r) => (open = r))
    await guard.enqueue(delivery('first@example.com'))
    await tick() // the first write starts and waits at the gate
    for (let i = 0; i < 25; i++) await guard.enqueue(delivery(`later${i}@example.com`))
    store.gate = undefined
    open()
    await guard.flush()
    expect(store.batches).toEqual([1, 25])
  })

  it('record() of a recipient with queued events writes them first, so the order holds', async () => {
    const { store, guard } = setup()
    const r = 'grey@example.com'
    await guard.record({ recipient: r, type: 'deferred', source: 'smtp', classification: full })
    await guard.enqueue(delivery(r))
    const after = await guard.record({
      recipient: r,
      type: 'deferred',
      source: 'smtp',
      classification: full,
      at: new Date(T0.getTime() + 1000),
    })
    // delivery reset the run before the second deferral: 1, not 0 (delivery last) or 2 (no delivery)
    expect(after.state.consecutiveSoftFailures).toBe(1)
    expect(after.state.deliveries).toBe(1)
    expect((await store.listEvents(r)).map((e) => e.type)).toEqual(['deferred', 'delivered', 'deferred'])
  })

  it('keeps the queue through an outage, reports each failed write, and writes everything after', async () => {
    const { store, guard, errors } = setup({ retryDelayMs: 5 })
    store.down = true
    for (let i = 0; i < 10; i++) await guard.enqueue(delivery(`d${i}@example.com`))
    await tick()
    await new Promise((r) => setTimeout(r, 30))
    expect(guard.pendingWrites).toBe(10)
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.every((e) => e.code === 'ESTORE_UNAVAILABLE')).toBe(true)
    await expect(guard.flush()).rejects.toMatchObject({ code: 'ESTORE_UNAVAILABLE' })
    store.down = false
    await guard.flush()
    expect(guard.pendingWrites).toBe(0)
    for (let i = 0; i < 10; i++) expect((await store.getRecipientState(`d${i}@example.com`))?.deliveries).toBe(1)
    expect(store.rawData().events.length).toBe(10)
  })

  it('isolates an event the store refuses: the rest is written, that one is dropped loudly after 5 tries', async () => {
    const { store, guard, errors } = setup({ retryDelayMs: 1 })
    store.poison.add('bad@example.com')
    await guard.enqueue(delivery('a@example.com'))
    await guard.enqueue(delivery('bad@example.com'))
    await guard.enqueue(delivery('b@example.com'))
    for (let i = 0; i < 50 && guard.pendingWrites > 0; i++) await guard.flush().catch(() => tick())
    expect(guard.pendingWrites).toBe(0)
    expect((await store.getRecipientState('a@example.com'))?.deliveries).toBe(1)
    expect((await store.getRecipientState('b@example.com'))?.deliveries).toBe(1)
    expect(await store.getRecipientState('bad@example.com')).toBeUndefined()
    const dropped = errors.filter((e) => e.details?.event)
    expect(dropped).toHaveLength(1)
    expect((dropped[0]?.details?.event as BounceEvent | undefined)?.recipient).toBe('bad@example.com')
  })

  it('applies backpressure when the queue is full instead of dropping', async () => {
    const { store, guard } = setup({ maxQueued: 3, maxBatch: 2 })
    let open!: () => void
    store.gate = new Promise((r) => (open = r))
    for (let i = 0; i < 3; i++) await guard.enqueue(delivery(`q${i}@example.com`))
    let fourth = false
    const p = guard.enqueue(delivery('q3@example.com')).then(() => (fourth = true))
    await tick()
    await tick()
    expect(fourth).toBe(false)
    expect(guard.pendingWrites).toBe(3)
    store.gate = undefined
    open()
    await p
    await guard.flush()
    expect(store.rawData().events.map((e) => e.recipient)).toEqual(['q0@example.com', 'q1@example.com', 'q2@example.com', 'q3@example.com'])
  })

  it('close() writes the queue first; while the store is down it rejects and keeps it', async () => {
    const { store, guard } = setup({ retryDelayMs: 1000 })
    store.down = true
    await guard.enqueue(delivery('c@example.com'))
    await expect(guard.close()).rejects.toMatchObject({ code: 'ESTORE_UNAVAILABLE' })
    expect(guard.pendingWrites).toBe(1)
    store.down = false
    await guard.close()
    expect(store.rawData().events.map((e) => e.recipient)).toEqual(['c@example.com'])
    await expect(guard.enqueue(delivery('late@example.com'))).rejects.toMatchObject({ code: 'ESTORE_CLOSED' })
  })

  it('records other outcome types at once, and validates input like record()', async () => {
    const { store, guard } = setup()
    const r = await guard.enqueue({
      recipient: 'x@example.com',
      type: 'bounced',
      source: 'smtp',
      classification: { ...full, reason: 'userunknown', hard: true, permanent: true },
    })
    expect(r.queued).toBe(false)
    expect(r.result?.decision.action).toBe('suppress')
    expect((await store.findSuppressions(['x@example.com'])).size).toBe(1)
    await expect(guard.enqueue(delivery('not an address'))).rejects.toMatchObject({ code: 'EINVALID_ADDRESS' })
    expect(guard.pendingWrites).toBe(0)
  })

  it('works event by event on a store without recordEvents', async () => {
    const store = new MemoryBounceStore()
    ;(store as { recordEvents?: unknown }).recordEvents = undefined // an own property hides the method
    const guard = createBounceGuard({ store })
    for (let i = 0; i < 5; i++) await guard.enqueue(delivery(`p${i}@example.com`))
    await guard.flush()
    expect(store.rawData().events).toHaveLength(5)
  })

  it('waits delayMs after the first queued event before writing, to gather a batch', async () => {
    const { store, guard } = setup({ delayMs: 30 })
    await guard.enqueue(delivery('early@example.com'))
    await new Promise((r) => setTimeout(r, 5))
    expect(store.batches).toEqual([])
    await guard.enqueue(delivery('late@example.com'))
    await new Promise((r) => setTimeout(r, 60))
    expect(store.batches).toEqual([2])
    expect(guard.pendingWrites).toBe(0)
  })

  it('tryEnqueue queues what enqueue queues at once, and leaves everything else untouched', async () => {
    const { store, guard, delivered } = setup({ maxQueued: 2 })
    const r = guard.tryEnqueue({ ...delivery('T1@Example.com'), messageId: '<m1@x>' })
    expect(r).toMatchObject({ queued: true, decision: { action: 'none' }, event: { recipient: 't1@example.com', messageId: 'm1@x' } })
    expect(guard.pendingWrites).toBe(1)
    expect(() => guard.tryEnqueue(delivery('not an address'))).toThrow(BounceGuardError)
    // Not a write-behind type: nothing done (enqueue would record it at once).
    expect(guard.tryEnqueue({ recipient: 't2@example.com', type: 'bounced', source: 'smtp', reply: '452 4.2.2 full' })).toBeUndefined()
    expect(guard.tryEnqueue(delivery('t3@example.com'))?.queued).toBe(true)
    // The queue is full: nothing done (enqueue would wait for room).
    expect(guard.tryEnqueue(delivery('t4@example.com'))).toBeUndefined()
    expect(guard.pendingWrites).toBe(2)
    await guard.flush()
    expect(store.rawData().events.map((e) => e.recipient)).toEqual(['t1@example.com', 't3@example.com'])
    expect(delivered.map((d) => d.event.recipient)).toEqual(['t1@example.com', 't3@example.com'])
  })

  it('stores Message-IDs in one form: no angle brackets, no white space around or inside them', () => {
    const { guard } = setup()
    const cases: Array<[string, string]> = [
      ['<m1@x.example>', 'm1@x.example'],
      ['m2@x.example', 'm2@x.example'],
      [' <m3@x.example> ', 'm3@x.example'],
      ['< m4@x.example >', 'm4@x.example'],
      ['<\u00a0m5@x.example\u3000>', 'm5@x.example'],
      ['<m6@x.example', 'm6@x.example'],
      ['<a>', 'a'],
    ]
    cases.forEach(([given, stored], i) => {
      expect(guard.tryEnqueue({ ...delivery(`id${i}@example.com`), messageId: given })?.event.messageId).toBe(stored)
    })
  })

  it('rejects bad writeBehind options', () => {
    expect(() => createBounceGuard({ store: new MemoryBounceStore(), writeBehind: { maxBatch: 0 } })).toThrow(/maxBatch/)
  })
})
