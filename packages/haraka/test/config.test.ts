import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const require = createRequire(import.meta.url)
const { readConfig, DEFAULTS } = require('../lib/config.js')
const mailbox = require('../lib/bounce-mailbox.js')

describe('readConfig', () => {
  it('gives the documented defaults for an empty file', () => {
    const { cfg, problems } = readConfig({})
    expect(problems).toEqual([])
    expect(cfg.database).toEqual({ url: 'sqlite:bounce-guard.sqlite', table_prefix: 'bg_', migrate: true, connect_timeout_ms: 10000 })
    expect(cfg.features).toEqual({
      record_outbound: true,
      refuse_suppressed_rcpt: true,
      refuse_domain_suppressions: true,
      parse_bounce_mailbox: true,
      shape_outbound: false,
    })
    expect(cfg.queue).toEqual({
      limit: 10000,
      write_timeout_ms: 2000,
      retry_interval_ms: 5000,
      concurrency: 2,
      rcpt_check_timeout_ms: 1000,
    })
  })

  it('reports bad values and turns off only what needs them, without throwing', () => {
    const { cfg, problems } = readConfig({
      database: { table_prefix: 'bad-prefix;drop' },
      features: { refuse_suppressed_rcpt: 'maybe' },
      bounce: { address: 'bounces@example.org, not an address', verp_separator: '#' },
      queue: { limit: '-5', write_timeout_ms: 'soon', concurrency: '3' },
    })
    expect(problems.length).toBe(6)
    expect(cfg.database.table_prefix).toBe('bg_')
    expect(cfg.features.refuse_suppressed_rcpt).toBe(true)
    expect(cfg.features.parse_bounce_mailbox).toBe(false)
    expect(cfg.features.record_outbound).toBe(true)
    expect(cfg.queue).toMatchObject({ limit: 10000, write_timeout_ms: 2000, concurrency: 3 })
  })

  it('survives junk of any type', () => {
    for (const raw of [undefined, null, 42, 'x', { features: 7 }, { bounce: { address: 12 } }]) {
      expect(() => readConfig(raw)).not.toThrow()
    }
  })

  it('the shipped ini lists every key with its default', () => {
    const ini = readFileSync(fileURLToPath(new URL('../config/bounce-guard.ini', import.meta.url)), 'utf8')
    for (const [section, keys] of Object.entries(DEFAULTS as Record<string, Record<string, unknown>>)) {
      expect(ini).toContain(`[${section}]`)
      for (const [key, value] of Object.entries(keys)) {
        expect(ini, `${section}.${key}`).toMatch(new RegExp(`^;${key}=${String(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'))
      }
    }
  })
})

describe('matchBounceAddress', () => {
  const bounce = readConfig({ bounce: { address: 'bounces@example.org', verp_prefix: 'bg' } }).cfg.bounce
  it('matches the address, its VERP forms and the VERP prefix, case-insensitively', () => {
    expect(mailbox.matchBounceAddress('bounces@example.org', bounce)).toEqual({ verp: false })
    expect(mailbox.matchBounceAddress('Bounces@Example.ORG', bounce)).toEqual({ verp: false })
    expect(mailbox.matchBounceAddress('bounces+alice=example.com@example.org', bounce)).toEqual({ verp: true })
    expect(mailbox.matchBounceAddress('bg+alice=example.com@example.org', bounce)).toEqual({ verp: true })
  })
  it('does not match other addresses', () => {
    for (const a of ['bounces@example.com', 'bouncesx@example.org', 'bounces+@example.org', 'alice@example.org', '', 'no-at-sign']) {
      expect(mailbox.matchBounceAddress(a, bounce)).toBeUndefined()
    }
  })
})
