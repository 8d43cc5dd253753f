import { describe, expect, it } from 'vitest'
import { MemoryBounceStore } from '@bounce-guard/core'
import type { BounceStore } from '@bounce-guard/core'
import { runStoreConformance } from '@bounce-guard/store-conformance'
import type { StoreInspector } from '@bounce-guard/store-conformance'

/** Reads MemoryBounceStore's internal maps directly: the second read path of the suite. */
function inspectMemory(store: BounceStore): StoreInspector {
  const data = (store as MemoryBounceStore).rawData()
  return {
    async rawSuppression(key, scope) {
      return data.suppressions.get(`${scope}:${key}`)
    },
    async rawRecipientState(recipient) {
      return data.states.get(recipient)
    },
    async rawEventCount(recipient) {
      return data.events.filter((e) => e.recipient === recipient).length
    },
    async rawRetryJob(id) {
      const row = data.retries.get(id)
      return row ? { ...row.job, leasedUntil: row.leasedUntil ?? null } : undefined
    },
    async rawShapingEntries() {
      return [...data.shaping.values()].map((e) => ({
        key: e.key,
        ruleId: e.ruleId,
        action: e.action,
        until: e.until,
        perMinute: e.perMinute ?? null,
      }))
    },
    async rawShapingSlots() {
      return [...data.shapingSlots.values()].map((r) => ({ key: r.key, windowStart: r.windowStart, used: r.used }))
    },
  }
}

runStoreConformance({
  name: 'MemoryBounceStore',
  createStore: async () => new MemoryBounceStore(),
  inspect: inspectMemory,
  capabilities: { concurrentWriters: true, skipLocked: true, recordEvents: true, sharedShaping: true, shapingSlots: true },
})

describe('MemoryBounceStore specifics', () => {
  it('rejects an invalid date with EINVALID_OPTION instead of storing NaN', async () => {
    const store = new MemoryBounceStore()
    await expect(
      store.suppress({ key: 'a@b.example', scope: 'address', reason: 'manual', source: 'manual', at: new Date('nope') }),
    ).rejects.toMatchObject({ code: 'EINVALID_OPTION' })
    await expect(
      store.recordEvent({ recipient: 'a@b.example', domain: 'b.example', type: 'delivered', source: 'smtp', at: new Date(NaN) }),
    ).rejects.toMatchObject({ code: 'EINVALID_OPTION' })
    expect(store.rawData().events).toHaveLength(0)
  })
  it('recordEvents rejects a batch with a bad event whole, naming that event', async () => {
    const store = new MemoryBounceStore()
    const good = { recipient: 'a@b.example', domain: 'b.example', type: 'delivered' as const, source: 'smtp' as const, at: new Date(0) }
    await expect(store.recordEvents([good, { ...good, at: new Date(NaN) }])).rejects.toMatchObject({
      code: 'EINVALID_OPTION',
      message: expect.stringContaining('events[1].at'),
    })
    await expect(store.recordEvents([{ ...good, recipient: '' }, good])).rejects.toMatchObject({
      code: 'EINVALID_OPTION',
      message: expect.stringContaining('events[0].recipient'),
    })
    expect(store.rawData().events).toHaveLength(0)
    expect(await store.recordEvents([good, good])).toHaveLength(2)
  })
  it('rejects a non-positive page size', async () => {
    const store = new MemoryBounceStore()
    await expect(store.listSuppressions({}, { limit: 0 })).rejects.toMatchObject({ code: 'EINVALID_OPTION' })
  })
})
