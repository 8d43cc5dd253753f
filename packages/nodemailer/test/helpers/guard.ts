/** A real guard (core's `createBounceGuard`) over a real store, with an injected clock. */
import { createBounceGuard } from '@bounce-guard/core'
import type { BounceAlert, BounceGuard, BounceStore, CoreBounceGuard } from '@bounce-guard/core'

export interface TestClock {
  now: () => Date
  advance(ms: number): void
  set(d: Date): void
}

export function testClock(start = Date.UTC(2025, 0, 6, 9, 0, 0)): TestClock {
  let t = start
  return {
    now: () => new Date(t),
    advance(ms) {
      t += ms
    },
    set(d) {
      t = d.getTime()
    },
  }
}

export function makeGuard(store: BounceStore, clock: TestClock): CoreBounceGuard {
  return createBounceGuard({ store, now: clock.now, random: () => 0 })
}

/** Collect the guard's events. */
export function collect(guard: BounceGuard): {
  alerts: BounceAlert[]
  suppressed: unknown[]
  bounces: unknown[]
  deferred: unknown[]
  delivered: unknown[]
} {
  const out = {
    alerts: [] as BounceAlert[],
    suppressed: [] as unknown[],
    bounces: [] as unknown[],
    deferred: [] as unknown[],
    delivered: [] as unknown[],
  }
  guard.on('alert', (a) => out.alerts.push(a))
  guard.on('suppressed', (s) => out.suppressed.push(s))
  guard.on('bounce', (r) => out.bounces.push(r))
  guard.on('deferred', (r) => out.deferred.push(r))
  guard.on('delivered', (r) => out.delivered.push(r))
  return out
}
