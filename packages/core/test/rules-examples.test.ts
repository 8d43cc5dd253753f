/**
 * Generated checks over the built-in rule set: every rule has a unique id and at least one real
 * example, and every example is classified by that very rule.
 */
import { describe, expect, it } from 'vitest'
import { BUILTIN_RULES, classifyReply } from '@bounce-guard/core'

describe('built-in rules', () => {
  it('have unique ids and at least one example each', () => {
    const ids = new Set<string>()
    for (const r of BUILTIN_RULES) {
      expect(ids.has(r.id), `duplicate id ${r.id}`).toBe(false)
      ids.add(r.id)
      expect(r.examples.length, r.id).toBeGreaterThan(0)
    }
  })
  for (const rule of BUILTIN_RULES) {
    it(`${rule.id}: each example is decided by this rule`, () => {
      for (const example of rule.examples) {
        const c = classifyReply(example)
        expect({ example, ruleId: c.ruleId, reason: c.reason }).toEqual({ example, ruleId: rule.id, reason: rule.reason })
        if (rule.provider) expect(c.provider, example).toBe(rule.provider)
      }
    })
  }
})
