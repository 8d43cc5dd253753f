'use strict'
/**
 * Maps Haraka 3.3.x outbound hook arguments into Bounce Guard outcomes, once, at the edge.
 *
 * Where the per-recipient reply lives (see the project's integration notes, section 2.2):
 * - `delivered`: `params[6]` (`ok_recips`) lists who was delivered; `hmail.todo.rcpt_to` lists
 *   everybody, including the failed ones, so it must not be used.
 * - `deferred`: `params.fail_recips` after a partial RCPT failure, else `hmail.todo.rcpt_to`.
 * - `bounce`: `err.bounced_rcpt` (partial RCPT failure), `err.deferred_rcpt` (too many temporary
 *   failures), else `hmail.todo.rcpt_to` (a failure at MAIL/DATA applies to every recipient).
 *
 * Haraka's own pitfalls are corrected before anything is classified:
 * - its reply parser splits off only one-digit enhanced codes, so `5.7.26` or `4.7.650` stays at the
 *   start of `dsn_smtp_response` and `dsn_status` is empty: both are recovered here;
 * - after too many temporary failures it rewrites `dsn_status` 4.x.x to 5.x.x: the remote server's
 *   own code (`dsn_smtp_extc`) is kept instead;
 * - a refused or timed-out connection ends in "Tried all MXs" with a made-up `550 5.1.2`
 *   (bad destination system): that is a network error, not an unknown host.
 */

// An enhanced status at the start of a text: class, subject (1-3 digits), detail (1-3 digits).
// Bounded repetitions, no nesting: linear time.
const LEADING_ENHANCED_RE = /^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)\s*/
const NETWORK_FAILURE_RE = /tried all mxs|econnrefused|connection refused|timed out|timeout|ehostunreach|enetunreach|econnreset/i

/** Address string of a Haraka `Address` (or anything address-like). */
function addressOf(rcpt) {
  if (!rcpt) return ''
  if (typeof rcpt === 'string') return rcpt.replace(/^<|>$/g, '')
  const a = typeof rcpt.address === 'function' ? rcpt.address() : rcpt.address
  if (typeof a === 'string' && a) return a
  if (rcpt.user !== undefined && rcpt.host) return `${rcpt.user}@${rcpt.host}`
  return String(rcpt.original ?? '').replace(/^<|>$/g, '')
}

function domainPart(address) {
  const at = address.lastIndexOf('@')
  return at >= 0 ? address.slice(at + 1).toLowerCase() : undefined
}

/** Classification for a connection that never produced an SMTP reply. */
function networkClassification(enhancedStatus) {
  return {
    reason: 'networkerror',
    hard: false,
    permanent: false,
    scope: 'network',
    enhancedStatus,
    ruleId: 'haraka.no-reachable-mx',
  }
}

/**
 * The corrected reply of one recipient, ready for the guard.
 * @param {object} rcpt a Haraka Address carrying `dsn_*` fields (and `reason` for RCPT replies)
 * @param {string} [fallbackText] the hook's error text, used when the recipient carries nothing
 * @returns {{ reply?: string, classification?: object, context: object }}
 */
function replyOf(rcpt, fallbackText) {
  const address = addressOf(rcpt)
  const context = {}
  const domain = domainPart(address)
  if (domain) context.recipientDomain = domain
  if (rcpt && typeof rcpt.dsn_remote_mta === 'string' && rcpt.dsn_remote_mta) context.remoteMta = rcpt.dsn_remote_mta
  if (rcpt && typeof rcpt.reason === 'string' && rcpt.reason) context.command = 'RCPT'

  const code = rcpt && rcpt.dsn_smtp_code !== undefined && rcpt.dsn_smtp_code !== null ? String(rcpt.dsn_smtp_code) : ''
  if (/^[2-5]\d\d$/.test(code)) {
    let text = typeof rcpt.dsn_smtp_response === 'string' ? rcpt.dsn_smtp_response.trim() : ''
    let extc = typeof rcpt.dsn_smtp_extc === 'string' && rcpt.dsn_smtp_extc ? rcpt.dsn_smtp_extc : ''
    if (!extc) {
      const m = LEADING_ENHANCED_RE.exec(text)
      if (m) {
        extc = `${m[1]}.${m[2]}.${m[3]}`
        text = text.slice(m[0].length)
      }
    }
    // An enhanced status whose class contradicts the reply code is Haraka's rewrite, not the server's.
    if (extc && extc[0] !== code[0]) extc = ''
    return { reply: `${code} ${extc ? `${extc} ` : ''}${text}`.trim(), context }
  }

  // No SMTP reply: Haraka made the status up (DNS, no MX reachable, queue errors).
  const msg = rcpt && typeof rcpt.dsn_msg === 'string' ? rcpt.dsn_msg : ''
  if (msg && NETWORK_FAILURE_RE.test(msg)) {
    return { reply: msg, classification: networkClassification('4.4.1'), context }
  }
  if (msg) {
    const dsnCode = /^[245]\d\d$/.test(String(rcpt.dsn_code ?? '')) ? String(rcpt.dsn_code) : ''
    const status = typeof rcpt.dsn_status === 'string' && /^[245]\.\d{1,3}\.\d{1,3}$/.test(rcpt.dsn_status) ? rcpt.dsn_status : ''
    return { reply: [dsnCode, status, msg].filter(Boolean).join(' '), context }
  }
  const fallback = typeof fallbackText === 'string' ? fallbackText : fallbackText ? String(fallbackText.message ?? fallbackText) : ''
  if (fallback && NETWORK_FAILURE_RE.test(fallback)) {
    return { reply: fallback, classification: networkClassification('4.4.1'), context }
  }
  return fallback ? { reply: fallback, context } : { context }
}

function common(hmail) {
  const todo = (hmail && hmail.todo) || {}
  const notes = todo.notes || {}
  const out = {}
  if (typeof todo.uuid === 'string') out.queueId = todo.uuid
  const mid = notes.bounce_guard_message_id ?? notes.message_id
  if (typeof mid === 'string' && mid) out.messageId = mid
  const sender = addressOf(todo.mail_from)
  if (sender) out.sender = sender
  return out
}

function listOf(value) {
  return Array.isArray(value) ? value : []
}

/**
 * Outcomes of a `delivered` hook: one per recipient in `ok_recips`.
 * @param {object} hmail
 * @param {any[]} params `[host, ip, response, delay, port, mode, ok_recips, secured, authenticated]`
 */
function deliveredOutcomes(hmail, params) {
  const p = Array.isArray(params) ? params : []
  const response = typeof p[2] === 'string' ? p[2] : ''
  const host = typeof p[0] === 'string' ? p[0] : undefined
  const base = common(hmail)
  const attempt = (Number(hmail?.num_failures) || 0) + 1
  return listOf(p[6])
    .map((rcpt) => {
      const recipient = addressOf(rcpt)
      if (!recipient) return undefined
      const context = { recipientDomain: domainPart(recipient) }
      if (host) context.remoteMta = host
      return { ...base, recipient, type: 'delivered', source: 'smtp', reply: `250 ${response}`.trim(), context, attempt }
    })
    .filter(Boolean)
}

/**
 * Outcomes of a `deferred` hook.
 * @param {object} hmail
 * @param {{ delay?: number, err?: unknown, fail_recips?: object[] }} params
 */
function deferredOutcomes(hmail, params) {
  const p = params || {}
  const rcpts = Array.isArray(p.fail_recips) && p.fail_recips.length ? p.fail_recips : listOf(hmail?.todo?.rcpt_to)
  const attempt = Number(hmail?.num_failures) || 1
  return build(hmail, rcpts, 'deferred', p.err, attempt)
}

/**
 * Outcomes of a `bounce` hook.
 * @param {object} hmail
 * @param {Error & { bounced_rcpt?: object[], deferred_rcpt?: object[] }} err
 */
function bounceOutcomes(hmail, err) {
  const e = err || {}
  let rcpts = listOf(e.bounced_rcpt)
  if (!rcpts.length) rcpts = listOf(e.deferred_rcpt)
  if (!rcpts.length) rcpts = listOf(hmail?.todo?.rcpt_to)
  const attempt = (Number(hmail?.num_failures) || 0) + 1
  return build(hmail, rcpts, 'bounced', e, attempt)
}

function build(hmail, rcpts, type, err, attempt) {
  const base = common(hmail)
  const errText = err ? String(err.message ?? err) : ''
  return rcpts
    .map((rcpt) => {
      const recipient = addressOf(rcpt)
      if (!recipient) return undefined
      const { reply, classification, context } = replyOf(rcpt, errText)
      const outcome = { ...base, recipient, type, source: 'smtp', context, attempt }
      if (reply) outcome.reply = reply
      if (classification) outcome.classification = classification
      return outcome
    })
    .filter(Boolean)
}

module.exports = { addressOf, replyOf, deliveredOutcomes, deferredOutcomes, bounceOutcomes, LEADING_ENHANCED_RE }
