'use strict'
/**
 * Reads `config/bounce-guard.ini` into a checked settings object. Nothing here throws: a bad value
 * is reported in `problems` and turns off the feature that needs it, so a typo in the ini file
 * never takes a hook (and with it Haraka's outbound queue) down.
 */

/** Boolean keys, per section, as `haraka-config` wants them listed. */
const BOOLEANS = [
  '+database.migrate',
  '+features.record_outbound',
  '+features.refuse_suppressed_rcpt',
  '+features.refuse_domain_suppressions',
  '+features.parse_bounce_mailbox',
  '-features.shape_outbound',
  '+bounce.accept_and_drop_dsn',
  '+bounce.accept_rcpt',
]

/** Defaults; the same values are written, commented, in the shipped `config/bounce-guard.ini`. */
const DEFAULTS = Object.freeze({
  database: Object.freeze({ url: 'sqlite:bounce-guard.sqlite', table_prefix: 'bg_', migrate: true, connect_timeout_ms: 10_000 }),
  features: Object.freeze({
    record_outbound: true,
    refuse_suppressed_rcpt: true,
    refuse_domain_suppressions: true,
    parse_bounce_mailbox: true,
    shape_outbound: false,
  }),
  bounce: Object.freeze({
    address: '',
    verp_prefix: '',
    verp_separator: '+',
    accept_and_drop_dsn: true,
    accept_rcpt: true,
    max_message_bytes: 2_000_000,
  }),
  queue: Object.freeze({
    limit: 10_000,
    write_timeout_ms: 2_000,
    retry_interval_ms: 5_000,
    concurrency: 2,
    rcpt_check_timeout_ms: 1_000,
  }),
  shaping: Object.freeze({ refresh_ms: 5_000 }),
})

const NUMBER_LIMITS = {
  'database.connect_timeout_ms': [100, 600_000],
  'queue.limit': [1, 10_000_000],
  'queue.write_timeout_ms': [10, 600_000],
  'queue.retry_interval_ms': [10, 3_600_000],
  'queue.concurrency': [1, 64],
  'queue.rcpt_check_timeout_ms': [10, 60_000],
  'bounce.max_message_bytes': [1_000, 100_000_000],
  'shaping.refresh_ms': [100, 600_000],
}

// A plain address: no spaces, one @, something on each side. Linear: two negated classes.
const ADDRESS_RE = /^[^\s@]+@[^\s@]+$/
const SEPARATOR_RE = /^[+\-._]$/
const PREFIX_RE = /^[A-Za-z0-9._-]{1,64}$/

function section(raw, name) {
  const s = raw && typeof raw === 'object' ? raw[name] : undefined
  return s && typeof s === 'object' ? s : {}
}

function toBool(value, fallback) {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    if (/^(true|yes|on|1)$/i.test(value.trim())) return true
    if (/^(false|no|off|0)$/i.test(value.trim())) return false
  }
  return fallback
}

/**
 * Check the raw ini object (as returned by `this.config.get('bounce-guard.ini')`).
 * @param {Record<string, any>} raw
 * @returns {{ cfg: BounceGuardPluginConfig, problems: string[] }}
 */
function readConfig(raw) {
  const problems = []
  const db = section(raw, 'database')
  const features = section(raw, 'features')
  const bounce = section(raw, 'bounce')
  const queue = section(raw, 'queue')

  const cfg = {
    database: {
      url: typeof db.url === 'string' && db.url.trim() ? db.url.trim() : DEFAULTS.database.url,
      table_prefix: typeof db.table_prefix === 'string' ? db.table_prefix.trim() : DEFAULTS.database.table_prefix,
      migrate: toBool(db.migrate, DEFAULTS.database.migrate),
      connect_timeout_ms: readNumber(db, 'database', 'connect_timeout_ms', DEFAULTS.database.connect_timeout_ms, problems),
    },
    features: {},
    bounce: {
      addresses: [],
      verp_prefix: '',
      verp_separator: DEFAULTS.bounce.verp_separator,
      accept_and_drop_dsn: toBool(bounce.accept_and_drop_dsn, DEFAULTS.bounce.accept_and_drop_dsn),
      accept_rcpt: toBool(bounce.accept_rcpt, DEFAULTS.bounce.accept_rcpt),
      max_message_bytes: DEFAULTS.bounce.max_message_bytes,
    },
    queue: {},
    shaping: {
      refresh_ms: readNumber(section(raw, 'shaping'), 'shaping', 'refresh_ms', DEFAULTS.shaping.refresh_ms, problems),
    },
  }
  for (const [key, def] of Object.entries(DEFAULTS.features)) {
    const v = toBool(features[key], undefined)
    if (features[key] !== undefined && v === undefined) problems.push(`[features] ${key}=${features[key]} is not a boolean; using ${def}`)
    cfg.features[key] = v === undefined ? def : v
  }
  if (!/^[A-Za-z0-9_]{0,32}$/.test(cfg.database.table_prefix)) {
    problems.push(
      `[database] table_prefix=${cfg.database.table_prefix} must be letters, digits or _ (at most 32); using ${DEFAULTS.database.table_prefix}`,
    )
    cfg.database.table_prefix = DEFAULTS.database.table_prefix
  }

  for (const [key, def] of Object.entries(DEFAULTS.queue)) {
    cfg.queue[key] = readNumber(queue, 'queue', key, def, problems)
  }
  cfg.bounce.max_message_bytes = readNumber(bounce, 'bounce', 'max_message_bytes', DEFAULTS.bounce.max_message_bytes, problems)

  const sep = bounce.verp_separator === undefined ? DEFAULTS.bounce.verp_separator : String(bounce.verp_separator).trim()
  if (!SEPARATOR_RE.test(sep)) {
    problems.push(`[bounce] verp_separator=${sep} must be one of + - . _; bounce mailbox disabled`)
    cfg.features.parse_bounce_mailbox = false
  }
  cfg.bounce.verp_separator = sep
  const addresses = String(bounce.address ?? '')
    .split(/[,\s]+/)
    .map((a) => a.trim())
    .filter(Boolean)
  const bad = addresses.filter((a) => !ADDRESS_RE.test(a))
  if (bad.length) {
    problems.push(`[bounce] address has invalid entries (${bad.join(', ')}); bounce mailbox disabled`)
    cfg.features.parse_bounce_mailbox = false
  }
  cfg.bounce.addresses = addresses.filter((a) => ADDRESS_RE.test(a)).map((a) => a.toLowerCase())
  const prefix = String(bounce.verp_prefix ?? '').trim()
  if (prefix && !PREFIX_RE.test(prefix)) {
    problems.push(`[bounce] verp_prefix=${prefix} must be 1-64 of A-Z a-z 0-9 . _ -; VERP decoding off`)
  } else {
    cfg.bounce.verp_prefix = prefix
  }
  return { cfg, problems }
}

function readNumber(sectionObj, sectionName, key, def, problems) {
  const rawValue = sectionObj[key]
  if (rawValue === undefined || rawValue === '') return def
  const n = Number(rawValue)
  const [min, max] = NUMBER_LIMITS[`${sectionName}.${key}`] ?? [0, Number.MAX_SAFE_INTEGER]
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < min || n > max) {
    problems.push(`[${sectionName}] ${key}=${rawValue} must be an integer in ${min}..${max}; using ${def}`)
    return def
  }
  return n
}

/**
 * @typedef {object} BounceGuardPluginConfig
 * @property {{ url: string, table_prefix: string, migrate: boolean, connect_timeout_ms: number }} database
 * @property {{ record_outbound: boolean, refuse_suppressed_rcpt: boolean, refuse_domain_suppressions: boolean, parse_bounce_mailbox: boolean }} features
 * @property {{ addresses: string[], verp_prefix: string, verp_separator: string, accept_and_drop_dsn: boolean, accept_rcpt: boolean, max_message_bytes: number }} bounce
 * @property {{ limit: number, write_timeout_ms: number, retry_interval_ms: number, concurrency: number, rcpt_check_timeout_ms: number }} queue
 * @property {{ refresh_ms: number }} shaping
 */

module.exports = { readConfig, DEFAULTS, BOOLEANS }
