/**
 * `pnpm bench guard`: the pure policy and the guard over MemoryBounceStore (no I/O), so the
 * figures show the guard's own overhead on top of any store.
 * - `decide()` calls per second on a mix of outcomes.
 * - `guard.check()` latency for batches of 10 addresses (3 suppressed) over 100,000 suppressions.
 * - `guard.record()` throughput (normalise, record, decide, apply) for a mix of outcomes.
 * - `guard.enqueue()` throughput for deliveries (write-behind queue, batched `recordEvents`).
 */
import { DEFAULT_POLICY, MemoryBounceStore, createBounceGuard, decide } from '@bounce-guard/core'
import type { BounceClassification, BounceEvent, DeliveryOutcome } from '@bounce-guard/core'

const T0 = Date.UTC(2030, 0, 1)

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const mix: BounceClassification[] = [
  { reason: 'mailboxfull', hard: false, permanent: true, scope: 'recipient', ruleId: 'b.full' },
  { reason: 'userunknown', hard: true, permanent: true, scope: 'recipient', ruleId: 'b.uu' },
  { reason: 'blocked', hard: false, permanent: true, scope: 'sender', ruleId: 'b.bl', provider: 'microsoft' },
  { reason: 'networkerror', hard: false, permanent: false, scope: 'network', ruleId: 'b.net' },
]

export async function run(): Promise<void> {
  // decide()
  const events: BounceEvent[] = mix.map((c, i) => ({
    recipient: `u${i}@d.example`,
    domain: 'd.example',
    type: 'bounced',
    classification: c,
    at: new Date(T0),
    source: 'smtp',
  }))
  const n = 1_000_000
  let t = performance.now()
  for (let i = 0; i < n; i++)
    decide(events[i & 3]!, undefined, DEFAULT_POLICY, { now: new Date(T0), random: Math.random, attempt: 1 + (i % 5) })
  let ms = performance.now() - t
  console.log(
    `decide(): ${Math.round(n / (ms / 1000)).toLocaleString('en')} decisions/s (${n.toLocaleString('en')} calls in ${ms.toFixed(0)} ms)`,
  )

  // check()
  const store = new MemoryBounceStore()
  const guard = createBounceGuard({ store, now: () => new Date(T0) })
  const N = 100_000
  t = performance.now()
  for (let i = 0; i < N; i++)
    await store.suppress({
      key: `user${i}@d${i % 500}.example`,
      scope: 'address',
      reason: 'userunknown',
      source: 'manual',
      at: new Date(T0),
    })
  console.log(`seeded ${N.toLocaleString('en')} suppressions in ${(performance.now() - t).toFixed(0)} ms`)
  const lat: number[] = []
  for (let k = 0; k < 20_000; k++) {
    const batch = Array.from({ length: 10 }, (_, j) =>
      j < 3 ? `User${(k * 7 + j) % N}@D${((k * 7 + j) % N) % 500}.example` : `fresh${k}_${j}@new.example`,
    )
    const s = performance.now()
    await guard.check(batch)
    lat.push(performance.now() - s)
  }
  lat.sort((a, b) => a - b)
  console.log(
    `guard.check() x10 addresses (3 suppressed), memory store: median ${(pct(lat, 50) * 1000).toFixed(1)} µs, p99 ${(pct(lat, 99) * 1000).toFixed(1)} µs`,
  )

  // record()
  const outcomes: DeliveryOutcome[] = mix.map((c, i) => ({
    recipient: `R${i}@Rec.example`,
    type: 'bounced',
    classification: c,
    source: 'smtp',
  }))
  const R = 100_000
  t = performance.now()
  for (let i = 0; i < R; i++) {
    const o = outcomes[i & 3]!
    await guard.record({ ...o, recipient: `r${i % 5000}_${i & 3}@rec${i % 50}.example` })
  }
  ms = performance.now() - t
  console.log(
    `guard.record(), memory store: ${Math.round(R / (ms / 1000)).toLocaleString('en')} outcomes/s (${R.toLocaleString('en')} in ${ms.toFixed(0)} ms)`,
  )

  // enqueue(): deliveries through the write-behind queue (normalise, decide, queue; batched writes)
  const D = 100_000
  const wbStore = new MemoryBounceStore()
  const wbGuard = createBounceGuard({ store: wbStore, now: () => new Date(T0) })
  t = performance.now()
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < D; i++) await wbGuard.enqueue({ recipient: `D${i % 5000}@Rec${i % 50}.example`, type: 'delivered', source: 'smtp' })
  await wbGuard.flush()
  ms = performance.now() - t
  const cpu = process.cpuUsage(cpu0)
  console.log(
    `guard.enqueue() deliveries + flush, memory store: ${Math.round(D / (ms / 1000)).toLocaleString('en')} outcomes/s, ${((cpu.user + cpu.system) / D).toFixed(1)} µs CPU each (${D.toLocaleString('en')} in ${ms.toFixed(0)} ms)`,
  )
  await wbGuard.close()
  await guard.close()
}
