/**
 * The RFC 3463 / IANA enhanced status table as rules (the fallback after every text rule). One rule
 * per class (4 and 5) and per registered `subject.detail`; an unregistered detail falls back to its
 * subject's `x.y.0` rule (RFC 3463 section 3), and 2.x.x means delivered.
 */
import type { BounceReason } from '../types.js'
import type { ReplyRule } from './types.js'

/** `subject.detail` -> [reason, RFC meaning]. */
export const RFC3463_TABLE: ReadonlyArray<readonly [string, BounceReason, string]> = [
  ['0.0', 'onhold', 'Other undefined status'],
  ['1.0', 'onhold', 'Other address status'],
  ['1.1', 'userunknown', 'Bad destination mailbox address'],
  ['1.2', 'hostunknown', 'Bad destination system address'],
  ['1.3', 'userunknown', 'Bad destination mailbox address syntax'],
  ['1.4', 'userunknown', 'Destination mailbox address ambiguous'],
  ['1.5', 'onhold', 'Destination address valid'],
  ['1.6', 'hasmoved', 'Destination mailbox has moved, no forwarding address'],
  ['1.7', 'rejected', "Bad sender's mailbox address syntax"],
  ['1.8', 'rejected', "Bad sender's system address"],
  ['1.9', 'systemerror', 'Message relayed to non-compliant mailer'],
  ['1.10', 'notaccept', 'Recipient address has null MX'],
  // a mailbox-level refusal with no detail: in practice a recipient-side filter (Sisimai's reading too)
  ['2.0', 'filtered', 'Other or undefined mailbox status'],
  ['2.1', 'suspend', 'Mailbox disabled, not accepting messages'],
  ['2.2', 'mailboxfull', 'Mailbox full'],
  ['2.3', 'exceedlimit', 'Message length exceeds administrative limit'],
  ['2.4', 'systemerror', 'Mailing list expansion problem'],
  ['3.0', 'systemerror', 'Other or undefined mail system status'],
  ['3.1', 'systemfull', 'Mail system full'],
  ['3.2', 'notaccept', 'System not accepting network messages'],
  ['3.3', 'systemerror', 'System not capable of selected features'],
  ['3.4', 'mesgtoobig', 'Message too big for system'],
  ['3.5', 'systemerror', 'System incorrectly configured'],
  ['3.6', 'systemerror', 'Requested priority was changed'],
  ['4.0', 'networkerror', 'Other or undefined network or routing status'],
  ['4.1', 'networkerror', 'No answer from host'],
  ['4.2', 'networkerror', 'Bad connection'],
  ['4.3', 'networkerror', 'Directory server failure'],
  ['4.4', 'hostunknown', 'Unable to route'],
  ['4.5', 'systemerror', 'Mail system congestion'],
  ['4.6', 'systemerror', 'Routing loop detected'],
  ['4.7', 'expired', 'Delivery time expired'],
  ['5.0', 'syntaxerror', 'Other or undefined protocol status'],
  ['5.1', 'syntaxerror', 'Invalid command'],
  ['5.2', 'syntaxerror', 'Syntax error'],
  ['5.3', 'exceedlimit', 'Too many recipients'],
  ['5.4', 'syntaxerror', 'Invalid command arguments'],
  ['5.5', 'syntaxerror', 'Wrong protocol version'],
  ['5.6', 'syntaxerror', 'Authentication exchange line is too long'],
  ['6.0', 'contenterror', 'Other or undefined media error'],
  ['6.1', 'contenterror', 'Media not supported'],
  ['6.2', 'contenterror', 'Conversion required and prohibited'],
  ['6.3', 'contenterror', 'Conversion required but not supported'],
  ['6.4', 'contenterror', 'Conversion with loss performed'],
  ['6.5', 'contenterror', 'Conversion failed'],
  ['6.6', 'contenterror', 'Message content not available'],
  ['6.7', 'contenterror', 'Non-ASCII addresses not permitted for that sender/recipient'],
  ['6.8', 'contenterror', 'UTF-8 string reply is required, but not permitted by the SMTP client'],
  ['6.9', 'contenterror', 'UTF-8 header message cannot be transferred to one or more recipients'],
  ['6.10', 'contenterror', 'UTF-8 string reply is required (deprecated duplicate of X.6.8)'],
  ['7.0', 'securityerror', 'Other or undefined security status'],
  ['7.1', 'securityerror', 'Delivery not authorized, message refused'],
  ['7.2', 'rejected', 'Mailing list expansion prohibited'],
  ['7.3', 'securityerror', 'Security conversion required but not possible'],
  ['7.4', 'securityerror', 'Security features not supported'],
  ['7.5', 'securityerror', 'Cryptographic failure'],
  ['7.6', 'securityerror', 'Cryptographic algorithm not supported'],
  ['7.7', 'securityerror', 'Message integrity failure'],
  ['7.8', 'securityerror', 'Authentication credentials invalid'],
  ['7.9', 'securityerror', 'Authentication mechanism is too weak'],
  ['7.10', 'failedstarttls', 'Encryption needed'],
  ['7.11', 'failedstarttls', 'Encryption required for requested authentication mechanism'],
  ['7.12', 'securityerror', 'A password transition is needed'],
  ['7.13', 'suspend', 'User account disabled'],
  ['7.14', 'securityerror', 'Trust relationship required'],
  ['7.15', 'policyviolation', 'Priority level is too low'],
  ['7.16', 'mesgtoobig', 'Message is too big for the specified priority'],
  ['7.17', 'hasmoved', 'Mailbox owner has changed'],
  ['7.18', 'hasmoved', 'Domain owner has changed'],
  ['7.19', 'securityerror', 'RRVS test cannot be completed'],
  ['7.20', 'authfailure', 'No passing DKIM signature found'],
  ['7.21', 'authfailure', 'No acceptable DKIM signature found'],
  ['7.22', 'authfailure', 'No valid author-matched DKIM signature found'],
  ['7.23', 'authfailure', 'SPF validation failed'],
  ['7.24', 'authfailure', 'SPF validation error'],
  ['7.25', 'requireptr', 'Reverse DNS validation failed'],
  ['7.26', 'authfailure', 'Multiple authentication checks failed'],
  ['7.27', 'rejected', 'Sender address has null MX'],
  ['7.28', 'speeding', 'Mail flood detected'],
  ['7.29', 'authfailure', 'ARC validation failure'],
  ['7.30', 'failedstarttls', 'REQUIRETLS support required'],
]

/** Neutral reply texts, as servers send them with nothing but the code (one per class). */
const SAMPLE_TEXT: Record<4 | 5, string> = {
  4: '<someone@example.com>... Deferred',
  5: '<someone@example.com>... Rejected',
}

function makeRules(): ReplyRule[] {
  const rules: ReplyRule[] = []
  for (const cls of [5, 4] as const) {
    for (const [sd, reason] of RFC3463_TABLE) {
      const status = `${cls}.${sd}`
      const code = cls === 5 ? 550 : 450
      rules.push({
        id: `rfc3463.${status}`,
        reason,
        status: [status],
        examples: [`${code} ${status} ${SAMPLE_TEXT[cls]}`, `${status}`],
      })
    }
  }
  rules.push({ id: 'rfc3463.2.x.x', reason: 'delivered', status: ['2.'], examples: ['250 2.0.0 Ok: queued as 4ABC123', '2.0.0'] })
  return rules
}

/** The enhanced-status table rules. */
export const RFC3463_RULES: readonly ReplyRule[] = makeRules()
