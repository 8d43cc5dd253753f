/**
 * Every pattern that sees remote text is linear-time: each built-in rule's pattern passes the
 * redos-detector analysis and runs on pathological 100 KB inputs well within a generous bound;
 * the same analysis guards user rules (createClassifier rejects unsafe ones), and the whole
 * classifier stays fast on huge adversarial replies.
 */
import { describe, expect, it } from 'vitest'
import { isSafe } from 'redos-detector'
import { BUILTIN_RULES, classifyReply, createClassifier, parseSmtpReply } from '@bounce-guard/core'

/**
 * CPU milliseconds this process spent in `fn` (user + system). CPU time, not wall time, so that other
 * work on a shared machine does not count: a linear scan of 100 KB takes about a millisecond, a
 * quadratic one about 10^10 steps (many seconds), so the bounds below separate them with a wide margin.
 */
const cpuMs = (fn: () => void): number => {
  const t0 = process.cpuUsage()
  fn()
  const d = process.cpuUsage(t0)
  return (d.user + d.system) / 1000
}

const pathological = (): string[] => {
  const n = 100_000
  return [
    'a'.repeat(n),
    ' '.repeat(n),
    'a '.repeat(n / 2),
    '5'.repeat(n),
    '550-'.repeat(n / 4),
    '5.1.'.repeat(n / 4),
    '<'.repeat(n),
    'user '.repeat(n / 5),
    'x@'.repeat(n / 2),
    "doesn't have a ".repeat(n / 15),
    '.'.repeat(n),
    'dns domain '.repeat(n / 11),
    '1'.repeat(n) + '!',
  ]
}

describe('ReDoS safety', () => {
  const withPattern = BUILTIN_RULES.filter((r) => r.pattern)
  it('there are patterns to check', () => expect(withPattern.length).toBeGreaterThan(5))
  for (const rule of withPattern) {
    it(`${rule.id}: pattern is linear-time`, () => {
      const result = isSafe(rule.pattern!)
      expect(result.safe, `${rule.pattern} score ${JSON.stringify(result.score)}`).toBe(true)
      for (const input of pathological()) {
        const ms = cpuMs(() => rule.pattern!.test(input))
        expect(ms, `${rule.pattern} on ${input.slice(0, 20)}...`).toBeLessThan(500)
      }
    })
  }
  it('the parser and classifier handle pathological 100 KB replies quickly', () => {
    for (const input of pathological()) {
      const ms = cpuMs(() => {
        parseSmtpReply(input)
        classifyReply(input)
        classifyReply(`550 5.1.1 ${input}`)
      })
      expect(ms, `on ${input.slice(0, 20)}...`).toBeLessThan(2000)
    }
  })
  it('user rules get the same analysis', () => {
    expect(() => createClassifier({ rules: [{ id: 'evil', reason: 'blocked', pattern: /^(a|a)*$/, examples: [] }] })).toThrow(/linear-time/)
    expect(() =>
      createClassifier({ rules: [{ id: 'fine', reason: 'blocked', pattern: /^acme [a-z]{1,20} refused/, examples: [] }] }),
    ).not.toThrow()
  })
})
