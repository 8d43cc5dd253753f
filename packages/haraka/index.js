'use strict'
/**
 * haraka-plugin-bounce-guard: records every outbound delivery, deferral and bounce through
 * Bounce Guard, refuses relaying clients' suppressed recipients at RCPT time, and reads the DSNs
 * that arrive at the bounce address.
 *
 * Haraka loads this file with `require()` and copies every export onto its Plugin object, so
 * `this` in the functions below is the Plugin (`this.config`, `this.loginfo`, ...). Every hook
 * calls `next()` exactly once and promptly: store writes go through a bounded background queue
 * (`lib/write-queue.js`), so a slow or dead database never holds up Haraka's DSNs.
 */
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const constants = require('haraka-constants')

const { readConfig, BOOLEANS } = require('./lib/config')
const { WriteQueue } = require('./lib/write-queue')
const { loadDeps } = require('./lib/deps')
const outbound = require('./lib/outbound')
const mailbox = require('./lib/bounce-mailbox')

const CONFIG_FILE = 'bounce-guard.ini'

/** Haraka calls this once after loading the plugin. */
exports.register = function () {
  this._bg = this._bg || {}
  bgLoadConfig(this)
  // Load @bounce-guard/core and /typeorm now, at start-up, not inside the first hook.
  bgDeps(this)
  this.register_hook('data_post', 'bounce_guard_note_message_id')
}

/** Shut down cleanly: give queued writes a moment, then close the store. */
exports.shutdown = function () {
  const bg = this._bg
  if (!bg) return
  const q = bg.queue
  const guardP = bg.guardPromise
  Promise.resolve(q ? q.drain(2_000) : true)
    .then(() => {
      if (q) q.close()
      return guardP
    })
    .then((g) => {
      bgStopSharing(bg)
      return g && bg.ownsGuard ? g.close() : undefined
    })
    .catch(() => {})
}

/**
 * Use this guard instead of opening the configured database (for embedding and tests).
 * Outcomes already queued are written to it.
 * @param {object} guard a `BounceGuard` from `@bounce-guard/core`
 * @param {object} [deps] `{ core }` to use instead of requiring `@bounce-guard/core`
 */
exports.bounce_guard_use = function (guard, deps) {
  const bg = this._bg || (this._bg = {})
  bgStopSharing(bg)
  bg.guardPromise = Promise.resolve(guard)
  bg.ownsGuard = false
  if (deps) bg.deps = { errors: [], ...deps }
}

/** Queue counters: pushed, written, failedAttempts, timeouts, overflowed, queued, inFlight. */
exports.bounce_guard_stats = function () {
  return this._bg && this._bg.queue ? this._bg.queue.stats() : undefined
}

/** Resolves when every queued outcome is written (true), or after `timeoutMs` (false). */
exports.bounce_guard_drain = function (timeoutMs) {
  return this._bg && this._bg.queue ? this._bg.queue.drain(timeoutMs) : Promise.resolve(true)
}

// ---------------------------------------------------------------------------------------------
// Outbound results

/** `delivered`: params = [host, ip, response, delay, port, mode, ok_recips, secured, authenticated]. */
exports.hook_delivered = function (next, hmail, params) {
  bgOutbound(this, 'delivered', () => outbound.deliveredOutcomes(hmail, params))
  next()
}

/** `deferred`: params = { delay, err, fail_recips? }. Answers CONT so Haraka keeps its schedule. */
exports.hook_deferred = function (next, hmail, params) {
  bgOutbound(this, 'deferred', () => outbound.deferredOutcomes(hmail, params))
  next()
}

/** `bounce`: err carries bounced_rcpt or deferred_rcpt. Answers CONT so Haraka sends its DSN. */
exports.hook_bounce = function (next, hmail, err) {
  bgOutbound(this, 'bounce', () => outbound.bounceOutcomes(hmail, err))
  next()
}

/**
 * `send_email` (feature `shape_outbound`): before Haraka delivers a queue item, ask the traffic
 * shaper about its destination domain. A destination paused by a rule (Yahoo TSS04 deferrals, a
 * provider refusing most of our mail, ...) or paced (Microsoft S3150, Gmail 4.7.28) is answered
 * DELAY with the seconds to wait, so Haraka re-queues the item instead of hammering the provider.
 * The shaper learns from the outcomes this plugin records. When the store implements shared shaping
 * (`putShapingEntries` & co: the SQL store's `<prefix>shaping` table, the memory store), its actions
 * are shared (`createSharedShaper`): every Haraka node on one database applies a pause any of them
 * decided within `[shaping] refresh_ms`; when the store also implements `takeShapingSlots` (the SQL
 * store's `<prefix>shaping_slots`, the memory store), a cap of N per minute holds for all nodes
 * together (each delivery takes a slot of the minute window; a store failure falls back to
 * per-process pacing, logged). Otherwise the state is per Haraka process.
 */
exports.hook_send_email = function (next, hmail) {
  const bg = this._bg
  if (!bg || !bg.cfg || !bg.cfg.features.shape_outbound) return next()
  const done = onceNext(next)
  const answer = (domain, d) => {
    if (done.called) return
    let delaySeconds = 0
    try {
      if (d && d.action === 'pause') delaySeconds = Math.ceil((d.until.getTime() - Date.now()) / 1000)
      else if (d && d.action === 'pace') delaySeconds = Math.ceil(d.delayMs / 1000)
      if (delaySeconds > 0) this.loginfo(`bounce-guard: ${domain}: ${d.action} by ${d.ruleId}, delaying ${delaySeconds}s`)
    } catch (err) {
      this.logerror(`bounce-guard: shaping check failed: ${err.message}`)
      delaySeconds = 0
    }
    if (delaySeconds > 0) return done(constants.delay, delaySeconds)
    done()
  }
  try {
    const shaper = bgShaper(this)
    const domain = hmail && hmail.todo && hmail.todo.domain
    if (!shaper || typeof domain !== 'string' || !domain) return answer(domain, undefined)
    // Shared through the store: `acquire` also takes a slot of a shared cap, so a cap holds for
    // every Haraka node together (it answers like `check` when the store cannot or fails).
    const shared = bg.sharing && typeof bg.sharing === 'object' ? bg.sharing.shared : undefined
    if (shared && typeof shared.acquire === 'function') {
      return shared.acquire(domain).then(
        (d) => answer(domain, d),
        (err) => {
          this.logerror(`bounce-guard: shaping check failed: ${err && err.message}`)
          answer(domain, undefined)
        },
      )
    }
    answer(domain, shaper.check(domain))
  } catch (err) {
    this.logerror(`bounce-guard: shaping check failed: ${err.message}`)
    answer(undefined, undefined)
  }
}

/** Remember the Message-ID of relayed mail; it travels with the queue item (`todo.notes`). */
exports.bounce_guard_note_message_id = function (next, connection) {
  try {
    const txn = connection && connection.transaction
    if (txn && txn.header && typeof txn.header.get === 'function') {
      const mid = String(txn.header.get('Message-ID') || '').trim()
      if (mid && txn.notes) txn.notes.bounce_guard_message_id = mid.slice(0, 998)
    }
  } catch (err) {
    this.logwarn(`bounce-guard: could not read Message-ID: ${err.message}`)
  }
  next()
}

// ---------------------------------------------------------------------------------------------
// RCPT: refuse suppressed recipients of relaying clients; accept the bounce address

exports.hook_rcpt = function (next, connection, params) {
  const done = onceNext(next)
  try {
    const bg = this._bg || {}
    const cfg = bg.cfg
    const rcpt = Array.isArray(params) ? params[0] : params
    const address = outbound.addressOf(rcpt)
    if (!cfg || !address) return done()

    if (!connection.relaying) {
      if (cfg.features.parse_bounce_mailbox && cfg.bounce.accept_rcpt && mailbox.matchBounceAddress(address, cfg.bounce)) {
        return done(constants.ok)
      }
      return done()
    }
    if (!cfg.features.refuse_suppressed_rcpt) return done()

    const timer = setTimeout(() => {
      this.logwarn(`bounce-guard: suppression lookup for ${address} took over ${cfg.queue.rcpt_check_timeout_ms} ms; letting it through`)
      done()
    }, cfg.queue.rcpt_check_timeout_ms)
    timer.unref?.()
    bgGuard(this)
      .then((guard) => guard.check([address]))
      .then((res) => {
        clearTimeout(timer)
        const hit = res && Array.isArray(res.suppressed) ? res.suppressed[0] : undefined
        if (!hit) return done()
        const s = hit.suppression
        if (s.scope === 'domain' && !cfg.features.refuse_domain_suppressions) return done()
        done(constants.deny, refusalText(address, s))
      })
      .catch((err) => {
        clearTimeout(timer)
        this.logwarn(`bounce-guard: suppression lookup failed for ${address}, letting it through: ${err && err.message}`)
        done()
      })
  } catch (err) {
    this.logerror(`bounce-guard: rcpt hook error: ${err && err.message}`)
    done()
  }
}

function refusalText(address, s) {
  const status = s.scope === 'domain' ? '5.1.2' : ['complaint', 'manual', 'unsubscribe'].includes(s.reason) ? '5.7.1' : '5.1.1'
  const since = s.createdAt instanceof Date && !Number.isNaN(s.createdAt.getTime()) ? s.createdAt.toISOString() : String(s.createdAt ?? '')
  const what = s.scope === 'domain' ? `domain ${s.key} ` : ''
  return `${status} <${address}>: ${what}suppressed by bounce-guard (${s.reason}${since ? ` since ${since}` : ''})`
}

// ---------------------------------------------------------------------------------------------
// Bounce mailbox: DSNs and feedback reports sent to the bounce address

exports.hook_queue = function (next, connection) {
  const done = onceNext(next)
  try {
    const bg = this._bg || {}
    const cfg = bg.cfg
    const txn = connection && connection.transaction
    if (!cfg || !cfg.features.parse_bounce_mailbox || !txn) return done()
    const rcpts = Array.isArray(txn.rcpt_to) ? txn.rcpt_to : []
    const matched = rcpts.map((r) => outbound.addressOf(r)).filter((a) => mailbox.matchBounceAddress(a, cfg.bounce))
    if (!matched.length) return done()
    const onlyBounces = matched.length === rcpts.length
    const deps = bgDeps(this)
    if (!deps.core || typeof deps.core.parseBounceMessage !== 'function') {
      this.logerror('bounce-guard: parseBounceMessage is not available; bounce mailbox passes mail on')
      return done()
    }
    if (!txn.message_stream || typeof txn.message_stream.get_data !== 'function') return done()
    const size = Number(txn.data_bytes) || 0
    if (size > cfg.bounce.max_message_bytes) {
      this.logwarn(`bounce-guard: message to the bounce address is ${size} bytes, over max_message_bytes; not parsed`)
      return done()
    }
    const timer = setTimeout(() => {
      this.logwarn('bounce-guard: reading the bounce message took too long; passing it on')
      done()
    }, 10_000)
    timer.unref?.()
    txn.message_stream.get_data((buf) => {
      if (done.called) return
      Promise.resolve()
        .then(() => deps.core.parseBounceMessage(buf, { maxBytes: cfg.bounce.max_message_bytes }))
        .then((report) => {
          clearTimeout(timer)
          const verp = matched.map((a) => mailbox.verpRecipient(deps.core, a, cfg.bounce)).find(Boolean)
          const outcomes = mailbox.reportOutcomes(report, { verpRecipient: verp, uuid: txn.uuid })
          for (const o of outcomes) bgEnqueue(this, o)
          this.loginfo(`bounce-guard: ${report && report.kind} report at the bounce address, ${outcomes.length} outcome(s) queued`)
          if (onlyBounces && cfg.bounce.accept_and_drop_dsn && report && report.kind !== 'not-a-bounce') {
            return done(constants.ok, 'bounce report recorded by bounce-guard')
          }
          done()
        })
        .catch((err) => {
          clearTimeout(timer)
          this.logerror(`bounce-guard: could not parse the message at the bounce address: ${err && err.message}`)
          done()
        })
    })
  } catch (err) {
    this.logerror(`bounce-guard: queue hook error: ${err && err.message}`)
    done()
  }
}

// ---------------------------------------------------------------------------------------------
// Internals (not exported: Haraka would copy them onto the plugin)

function bgLoadConfig(plugin) {
  const bg = plugin._bg
  let raw
  try {
    raw = plugin.config.get(CONFIG_FILE, { booleans: BOOLEANS }, () => bgLoadConfig(plugin))
  } catch (err) {
    plugin.logerror(`bounce-guard: cannot read ${CONFIG_FILE}: ${err.message}; using defaults`)
    raw = {}
  }
  const { cfg, problems } = readConfig(raw)
  for (const p of problems) plugin.logerror(`bounce-guard: ${CONFIG_FILE}: ${p}`)
  if (cfg.features.parse_bounce_mailbox && cfg.bounce.addresses.length === 0) {
    plugin.loginfo('bounce-guard: no [bounce] address configured; bounce mailbox off')
    cfg.features.parse_bounce_mailbox = false
  }
  const dbChanged = bg.cfg && (bg.cfg.database.url !== cfg.database.url || bg.cfg.database.table_prefix !== cfg.database.table_prefix)
  bg.cfg = cfg
  if (dbChanged && bg.ownsGuard) {
    bgStopSharing(bg)
    const old = bg.guardPromise
    bg.guardPromise = undefined
    if (old) old.then((g) => g.close()).catch(() => {})
  }
  if (!bg.queue) {
    bg.queue = new WriteQueue({
      // Opening the store has its own timeout (connect_timeout_ms); write_timeout_ms covers the write.
      prepare: () => bgGuard(plugin),
      write: (outcome, guard) =>
        guard.record(outcome).then((result) => {
          bgShaperObserve(plugin, result, outcome)
          return result
        }),
      limit: cfg.queue.limit,
      timeoutMs: cfg.queue.write_timeout_ms,
      retryMs: cfg.queue.retry_interval_ms,
      concurrency: cfg.queue.concurrency,
      logger: { warn: (m) => plugin.logwarn(m), error: (m) => plugin.logerror(m), info: (m) => plugin.loginfo(m) },
    })
  } else {
    Object.assign(bg.queue, {
      limit: cfg.queue.limit,
      timeoutMs: cfg.queue.write_timeout_ms,
      retryMs: cfg.queue.retry_interval_ms,
      concurrency: cfg.queue.concurrency,
    })
  }
}

function bgDeps(plugin) {
  const bg = plugin._bg
  if (!bg.deps) {
    bg.deps = loadDeps()
    for (const e of bg.deps.errors) plugin.logerror(`bounce-guard: ${e}`)
  }
  return bg.deps
}

/**
 * The guard, opened on first use. After a failed open, callers get that failure at once (no new
 * attempt, no new log line) until `retry_interval_ms` has passed: a dead database is not hammered
 * from every RCPT and every queued write.
 */
function bgGuard(plugin) {
  const bg = plugin._bg
  if (bg.guardPromise) return bg.guardPromise
  if (bg.openFailure && Date.now() - bg.openFailure.at < bg.cfg.queue.retry_interval_ms) return Promise.reject(bg.openFailure.err)
  const p = openGuard(plugin)
  bg.ownsGuard = true
  bg.guardPromise = p
  p.then(
    () => {
      bg.openFailure = undefined
    },
    (err) => {
      if (bg.guardPromise === p) bg.guardPromise = undefined
      bg.openFailure = { at: Date.now(), err }
      plugin.logerror(`bounce-guard: cannot open the store (${redactUrl(bg.cfg.database.url)}): ${err && err.message}`)
    },
  )
  return p
}

async function openGuard(plugin) {
  const { cfg } = plugin._bg
  const deps = bgDeps(plugin)
  if (!deps.core || typeof deps.core.createBounceGuard !== 'function')
    throw new Error('@bounce-guard/core (createBounceGuard) is not available')
  if (!deps.typeorm || typeof deps.typeorm.createTypeOrmBounceStore !== 'function')
    throw new Error('@bounce-guard/typeorm is not available')
  const url = resolveDatabaseUrl(cfg.database.url)
  let dataSource
  const opening = (async () => {
    const sqliteFile = /^sqlite:(.+)$/i.exec(url)
    if (sqliteFile && sqliteFile[1] !== ':memory:') fs.mkdirSync(path.dirname(sqliteFile[1]), { recursive: true })
    const prefix = cfg.database.table_prefix
    dataSource = await deps.typeorm.createBounceGuardDataSource(url, {
      tablePrefix: prefix,
      migrationsTableName: `${prefix}migrations`,
      // RCPT lookups plus the queue's writes; several Haraka workers each hold a pool.
      poolSize: cfg.queue.concurrency + 2,
    })
    if (dataSource && dataSource.isInitialized === false) await dataSource.initialize()
    if (cfg.database.migrate) await migrateWithRetry(plugin, deps, dataSource, prefix)
    return dataSource
  })()
  let timer
  try {
    await Promise.race([
      opening,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer after ${cfg.database.connect_timeout_ms} ms`)),
          cfg.database.connect_timeout_ms,
        )
        timer.unref?.()
      }),
    ])
  } catch (err) {
    // Do not leak a connection that opens after we gave up.
    opening.then((ds) => ds && ds.isInitialized && ds.destroy()).catch(() => {})
    throw err
  } finally {
    clearTimeout(timer)
  }
  const store = await deps.typeorm.createTypeOrmBounceStore(dataSource, { tablePrefix: cfg.database.table_prefix })
  const logger = {
    debug: (o, m) => plugin.logdebug(`bounce-guard: ${m || ''} ${safeJson(o)}`),
    info: (o, m) => plugin.loginfo(`bounce-guard: ${m || ''} ${safeJson(o)}`),
    warn: (o, m) => plugin.logwarn(`bounce-guard: ${m || ''} ${safeJson(o)}`),
    error: (o, m) => plugin.logerror(`bounce-guard: ${m || ''} ${safeJson(o)}`),
  }
  const guard = deps.core.createBounceGuard({ store, logger })
  const closeGuard = guard.close.bind(guard)
  guard.close = async () => {
    await closeGuard().catch(() => {})
    if (dataSource && dataSource.isInitialized && typeof dataSource.destroy === 'function') await dataSource.destroy().catch(() => {})
  }
  plugin.loginfo(`bounce-guard: store open (${redactUrl(url)})`)
  return guard
}

/**
 * Run pending migrations. Several Haraka nodes (or cluster workers) starting at once on one
 * PostgreSQL race to create the same tables, and all but one fail ("duplicate key value violates
 * unique constraint pg_type_typname_nsp_index"). A short, jittered retry lets the loser see the
 * winner's finished schema instead of waiting a whole retry interval.
 */
async function migrateWithRetry(plugin, deps, dataSource, prefix) {
  for (let attempt = 1; ; attempt++) {
    try {
      if (typeof deps.typeorm.runMigrations === 'function') await deps.typeorm.runMigrations(dataSource, { tablePrefix: prefix })
      else await dataSource.runMigrations({ transaction: 'each' })
      return
    } catch (err) {
      if (attempt >= 4) throw err
      plugin.loginfo(
        `bounce-guard: migration attempt ${attempt} failed (${err && err.message}); another node may be creating the schema, retrying`,
      )
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.floor(Math.random() * 600)))
    }
  }
}

/** A relative SQLite path is taken relative to the Haraka directory, not the working directory. */
function resolveDatabaseUrl(url) {
  const m = /^(sqlite|better-sqlite3):(\/\/)?(.*)$/i.exec(url)
  if (!m) return url
  const file = m[3]
  if (!file || file === ':memory:' || path.isAbsolute(file)) return url
  const base = process.env.HARAKA || process.cwd()
  return `${m[1]}:${path.resolve(base, file)}`
}

function redactUrl(url) {
  return String(url).replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}

function safeJson(o) {
  try {
    return typeof o === 'string' ? o : JSON.stringify(o)
  } catch {
    return String(o)
  }
}

function bgEnqueue(plugin, outcome) {
  if (!outcome.eventId) outcome.eventId = `haraka:${crypto.randomUUID()}`
  plugin._bg.queue.push(outcome)
}

function bgOutbound(plugin, hook, build) {
  try {
    const bg = plugin._bg
    if (!bg || !bg.cfg || !bg.cfg.features.record_outbound) return
    const outcomes = build()
    for (const o of outcomes) bgEnqueue(plugin, o)
  } catch (err) {
    plugin.logerror(`bounce-guard: ${hook} hook error: ${err && err.message}`)
  }
}

/**
 * The local shaper (synchronous, always answers). Once the store is open and can share shaping
 * state, a shared shaper wraps this same local shaper: it writes the actions decided here and merges
 * the other nodes' every `[shaping] refresh_ms`, so `check` stays local and cheap.
 */
function bgShaper(plugin) {
  const bg = plugin._bg
  if (bg.shaper === undefined) {
    const core = bgDeps(plugin).core
    bg.shaper = core && typeof core.createShaper === 'function' ? core.createShaper() : null
    if (!bg.shaper) plugin.logerror('bounce-guard: traffic shaping needs @bounce-guard/core with createShaper; shaping off')
  }
  if (bg.shaper && !bg.sharing) bgShareShaping(plugin)
  return bg.shaper
}

/** Start sharing the shaper's actions through the store, once, when the store supports it. */
function bgShareShaping(plugin) {
  const bg = plugin._bg
  const core = bgDeps(plugin).core
  if (!core || typeof core.createSharedShaper !== 'function' || typeof core.supportsSharedShaping !== 'function') {
    bg.sharing = 'unsupported'
    return
  }
  const attempt = (bg.sharing = { shared: undefined })
  Promise.resolve()
    .then(() => bgGuard(plugin))
    .then((guard) => {
      if (bg.sharing !== attempt) return // the store changed meanwhile
      const store = guard && guard.store
      if (!core.supportsSharedShaping(store)) {
        bg.sharing = 'unsupported'
        plugin.loginfo('bounce-guard: the store cannot share shaping state; traffic shaping is per process')
        return
      }
      attempt.shared = core.createSharedShaper({
        store,
        shaper: bg.shaper,
        refreshMs: bg.cfg.shaping.refresh_ms,
        onError: (err) => plugin.logwarn(`bounce-guard: shared shaping state not synced: ${err && err.message}`),
      })
      plugin.loginfo(`bounce-guard: traffic shaping shared through the store (refresh every ${bg.cfg.shaping.refresh_ms} ms)`)
    })
    .catch(() => {
      // The store did not open (already logged by bgGuard): try again on a later check.
      if (bg.sharing === attempt) bg.sharing = undefined
    })
}

/** Stop sharing (store closed or replaced); the local shaper keeps its state. */
function bgStopSharing(bg) {
  const s = bg && bg.sharing
  if (s && typeof s === 'object' && s.shared) s.shared.stop()
  if (bg) bg.sharing = undefined
}

function bgShaperObserve(plugin, result, outcome) {
  const bg = plugin._bg
  if (!bg || !bg.cfg || !bg.cfg.features.shape_outbound || !result) return
  try {
    const shaper = bgShaper(plugin)
    const remoteMta = outcome && outcome.context && outcome.context.remoteMta
    if (shaper) shaper.observe(result, remoteMta ? { remoteMta } : undefined)
  } catch (err) {
    plugin.logerror(`bounce-guard: shaping observe failed: ${err.message}`)
  }
}

/** `next` guarded so that a hook answers Haraka exactly once, whatever path ends it. */
function onceNext(next) {
  const done = (code, msg) => {
    if (done.called) return
    done.called = true
    next(code, msg)
  }
  done.called = false
  return done
}
