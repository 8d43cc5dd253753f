'use strict'
/**
 * The bounce mailbox: recognising the configured bounce address (plain or VERP-encoded) and
 * turning a parsed bounce report into outcomes for the guard.
 */
const { addressOf } = require('./outbound')

/**
 * Is `address` one of the bounce addresses, or a VERP form of one?
 * A VERP form has the bounce address's local part (or `verp_prefix`) followed by the separator
 * and anything, at the same domain: `bounces+alice=example.com@example.org`.
 * @param {string} address
 * @param {{ addresses: string[], verp_prefix: string, verp_separator: string }} bounceCfg
 * @returns {{ verp: boolean } | undefined}
 */
function matchBounceAddress(address, bounceCfg) {
  const a = String(address || '').toLowerCase()
  const at = a.lastIndexOf('@')
  if (at <= 0) return undefined
  const local = a.slice(0, at)
  const domain = a.slice(at + 1)
  for (const bounce of bounceCfg.addresses) {
    const bAt = bounce.lastIndexOf('@')
    const bLocal = bounce.slice(0, bAt)
    const bDomain = bounce.slice(bAt + 1)
    if (domain !== bDomain) continue
    if (local === bLocal) return { verp: false }
    const prefixes = [bLocal]
    if (bounceCfg.verp_prefix) prefixes.push(bounceCfg.verp_prefix.toLowerCase())
    for (const p of prefixes) {
      if (local.startsWith(p + bounceCfg.verp_separator) && local.length > p.length + 1) return { verp: true }
    }
  }
  return undefined
}

/**
 * The original recipient encoded in a VERP return path, or undefined.
 * Uses core's `decodeVerp` when present; bad input yields undefined, never a throw.
 */
function verpRecipient(core, address, bounceCfg) {
  if (!core || typeof core.decodeVerp !== 'function') return undefined
  const a = String(address || '')
  const local = a.slice(0, a.lastIndexOf('@')).toLowerCase()
  const prefixes = [bounceCfg.verp_prefix, ...bounceCfg.addresses.map((b) => b.slice(0, b.lastIndexOf('@')))].filter(Boolean)
  const prefix = prefixes.find((p) => local.startsWith(p.toLowerCase() + bounceCfg.verp_separator))
  if (!prefix) return undefined
  try {
    const r = core.decodeVerp(a, { prefix, separator: bounceCfg.verp_separator })
    if (typeof r === 'string') return r
    if (r && typeof r === 'object') return r.recipient ?? r.address ?? undefined
  } catch {
    return undefined
  }
  return undefined
}

const KIND_TO_TYPE = { bounce: 'bounced', delay: 'deferred', delivered: 'delivered', complaint: 'complaint', 'auto-reply': 'auto-reply' }

/**
 * Outcomes for one parsed report.
 * @param {object} report result of `parseBounceMessage`
 * @param {{ verpRecipient?: string, uuid: string, sender?: string }} info
 */
function reportOutcomes(report, info) {
  if (!report || typeof report !== 'object') return []
  const type = KIND_TO_TYPE[report.kind]
  if (!type) return []
  const source = report.kind === 'complaint' ? 'feedback-loop' : 'dsn'
  const base = { type, source }
  // The original message's Message-ID (the report's own `messageId` is the DSN's, not ours).
  const messageId = report.original && report.original.messageId
  // Stored in its RFC 5322 form with angle brackets, as the outbound hooks (and Nodemailer) store it,
  // so a DSN's event and the delivery attempt it reports share one Message-ID.
  if (typeof messageId === 'string' && messageId.trim()) {
    const mid = messageId.trim()
    base.messageId = mid.startsWith('<') ? mid : `<${mid}>`
  }
  const entries = Array.isArray(report.recipients) ? report.recipients : []
  const out = []
  entries.forEach((entry, i) => {
    const recipient = addressOf(entry?.recipient) || info.verpRecipient
    if (!recipient) return
    const o = { ...base, recipient, eventId: `haraka-dsn:${info.uuid}:${i}:${recipient.toLowerCase()}` }
    if (entry.classification) o.classification = entry.classification
    const diag = entry.diagnosticCode ?? entry.diagnostic
    if (typeof diag === 'string' && diag) {
      o.reply = diag
    } else if (!o.classification && typeof entry.status === 'string') {
      o.reply = entry.status
    }
    const remote = entry.remoteMta ?? report.remoteMta
    if (typeof remote === 'string' && remote) o.context = { remoteMta: remote }
    out.push(o)
  })
  if (!out.length && info.verpRecipient && type !== 'delivered') {
    const o = { ...base, recipient: info.verpRecipient, eventId: `haraka-dsn:${info.uuid}:verp:${info.verpRecipient.toLowerCase()}` }
    if (report.classification) o.classification = report.classification
    out.push(o)
  }
  return out
}

module.exports = { matchBounceAddress, verpRecipient, reportOutcomes }
