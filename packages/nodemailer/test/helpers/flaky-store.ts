/**
 * Fault injection for the store: a wrapper whose methods throw `ESTORE_UNAVAILABLE` (as a real
 * store does when its database is unreachable) while `down` is true. Everything else is the real
 * store underneath.
 */
import { BounceGuardError } from '@bounce-guard/core'
import type { BounceStore } from '@bounce-guard/core'

export interface FlakyStore extends BounceStore {
  down: boolean
  /** Calls refused while down, per method. */
  refused: Map<string, number>
}

export function flaky(store: BounceStore): FlakyStore {
  const refused = new Map<string, number>()
  const state = { down: false }
  return new Proxy(store as FlakyStore, {
    get(target, prop, receiver) {
      if (prop === 'down') return state.down
      if (prop === 'refused') return refused
      const v = Reflect.get(target, prop, receiver)
      if (typeof v !== 'function' || prop === 'close') return typeof v === 'function' ? v.bind(target) : v
      return (...args: unknown[]) => {
        if (state.down) {
          refused.set(String(prop), (refused.get(String(prop)) ?? 0) + 1)
          return Promise.reject(new BounceGuardError('ESTORE_UNAVAILABLE', `test store: ${String(prop)} refused (down)`))
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
    set(target, prop, value) {
      if (prop === 'down') {
        state.down = Boolean(value)
        return true
      }
      return Reflect.set(target, prop, value)
    },
  })
}
