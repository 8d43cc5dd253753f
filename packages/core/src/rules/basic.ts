/**
 * The last fallback: the basic RFC 5321 reply code alone (no enhanced status, no recognised text).
 * Ambiguous codes (550, 553, 554, 450) give `onhold`: without words we cannot tell a dead mailbox
 * from a policy block, and calling a live address dead is the costliest mistake.
 */
import type { BounceReason } from '../types.js'
import type { ReplyRule } from './types.js'

const CODES: ReadonlyArray<readonly [number, BounceReason, string]> = [
  [421, 'systemerror', 'Service not available, closing transmission channel'],
  [450, 'onhold', 'Requested mail action not taken: mailbox unavailable'],
  [451, 'systemerror', 'Requested action aborted: local error in processing'],
  [452, 'systemfull', 'Requested action not taken: insufficient system storage'],
  [454, 'securityerror', 'TLS not available due to temporary reason'],
  [455, 'syntaxerror', 'Server unable to accommodate parameters'],
  [500, 'syntaxerror', 'Syntax error, command unrecognized'],
  [501, 'syntaxerror', 'Syntax error in parameters or arguments'],
  [502, 'syntaxerror', 'Command not implemented'],
  [503, 'syntaxerror', 'Bad sequence of commands'],
  [504, 'syntaxerror', 'Command parameter not implemented'],
  [521, 'notaccept', 'Host does not accept mail (RFC 7504)'],
  [523, 'mesgtoobig', 'Message larger than the server accepts (RFC 4468 BURL)'],
  [530, 'securityerror', 'Authentication required'],
  [534, 'securityerror', 'Authentication mechanism is too weak'],
  [535, 'securityerror', 'Authentication credentials invalid'],
  [538, 'failedstarttls', 'Encryption required for requested authentication mechanism'],
  [550, 'onhold', 'Requested action not taken: mailbox unavailable'],
  [551, 'hasmoved', 'User not local; please try <forward-path>'],
  [552, 'mailboxfull', 'Requested mail action aborted: exceeded storage allocation'],
  [553, 'onhold', 'Requested action not taken: mailbox name not allowed'],
  [554, 'onhold', 'Transaction failed'],
  [555, 'syntaxerror', 'MAIL FROM/RCPT TO parameters not recognized or not implemented'],
  [556, 'notaccept', 'Domain does not accept mail (RFC 7504)'],
]

function makeRules(): ReplyRule[] {
  const rules: ReplyRule[] = CODES.map(([code, reason]) => ({
    id: `basic.${code}`,
    reason,
    codes: [code],
    examples: [`${code} <someone@example.com>`, `${code}`],
  }))
  rules.push(
    { id: 'basic.2xx', reason: 'delivered', classes: [2], examples: ['250 Ok', '251 forwarding'] },
    { id: 'basic.4xx', reason: 'onhold', classes: [4], examples: ['459 <someone@example.com>', '449'] },
    { id: 'basic.5xx', reason: 'onhold', classes: [5], examples: ['599 <someone@example.com>', '559'] },
  )
  return rules
}

/** The basic reply-code rules, then one fallback per class. */
export const BASIC_RULES: readonly ReplyRule[] = makeRules()
