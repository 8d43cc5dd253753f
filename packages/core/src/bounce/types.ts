/**
 * Types of the bounce-message parser: what `parseBounceMessage` returns for one e-mail.
 */
import type { BounceClassification } from '../types.js'

/**
 * What a message is:
 * - `bounce`: a permanent (or final) delivery failure notice, standard (RFC 3464) or not;
 * - `delay`: a "still trying" notice (`Action: delayed`);
 * - `delivered`: a success DSN (`Action: delivered | relayed | expanded`);
 * - `complaint`: an RFC 5965 (ARF) feedback report in which a user or the provider complains about
 *   a message (`Feedback-Type` `abuse`, `fraud`, `virus`, `other`, or a non-standard type such as
 *   `opt-out`), or an Amazon SES Complaint notification: each reported recipient is a complaint
 *   (which a policy may suppress);
 * - `auto-reply`: an RFC 3834 automatic reply such as an out-of-office message;
 * - `not-a-bounce`: none of these (or nothing could be read). Also a feedback report that is no
 *   complaint: `Feedback-Type: not-spam` (RFC 6430, the user marked the message as *not* spam) and
 *   `auth-failure` (RFC 6591, an SPF/DKIM/DMARC failure report about a message that claimed our
 *   domain, often a forgery sent to someone else). Those keep `format: "arf"` and `feedback`, and
 *   list the recipients the report names (reason `feedback`, rule `arf.not-spam` /
 *   `arf.auth-failure`) for information only: the kind says they are no complaint, so nothing
 *   downstream records or suppresses anyone for them.
 */
export type BounceKind = 'bounce' | 'delay' | 'delivered' | 'complaint' | 'auto-reply' | 'not-a-bounce'

/** One recipient reported by a bounce, complaint or auto-reply. */
export interface BounceRecipient {
  /** The recipient address as the report gives it (lower-cased domain is not enforced), or `""` when unknown. */
  recipient: string
  /** RFC 3464 `Action` (`failed`, `delayed`, `delivered`, `relayed`, `expanded`), when given or inferred. */
  action?: string
  /** RFC 3463 status (`5.1.1`) from the DSN `Status` field or the notice text, when present. */
  status?: string
  /** The diagnostic text: the DSN `Diagnostic-Code` value or the MTA's own words near the address. */
  diagnosticCode?: string
  /** The remote MTA that answered (`Remote-MTA`, or the host named in the notice), when known. */
  remoteMta?: string
  /** The classifier's verdict, with the parser's own reasons (`expired`, `delivered`, `feedback`, `vacation`, `onhold`) applied. */
  classification: BounceClassification
  /** ARF `Feedback-Type` (`abuse`, `fraud`, `virus`, `other`, ...), for complaints. */
  feedbackType?: string
}

/**
 * Facts from an RFC 5965 feedback report (or an SES complaint). Present on `complaint` reports and on
 * the `not-a-bounce` reports of the feedback types that are no complaint (`not-spam`, `auth-failure`).
 */
export interface FeedbackInfo {
  /**
   * `Feedback-Type`, lower-cased: `abuse`, `fraud`, `virus`, `other` (and non-standard ones such as
   * `opt-out`) make a `complaint`; `not-spam` and `auth-failure` do not (the report is `not-a-bounce`).
   */
  feedbackType: string
  /** RFC 6591 `Auth-Failure` of an `auth-failure` report, lower-cased: `dmarc`, `spf`, `dkim`, ... */
  authFailure?: string
  /** `User-Agent` of the reporting system. */
  userAgent?: string
  /** `Source-IP` of the reported message. */
  sourceIp?: string
  /** `Original-Mail-From`. */
  originalMailFrom?: string
  /** `Reported-Domain`. */
  reportedDomain?: string
}

/** The result of `parseBounceMessage`. Never thrown: unreadable input gives `kind: "not-a-bounce"`. */
export interface BounceReport {
  kind: BounceKind
  /** The MTA that wrote the report (`Reporting-MTA`, or the host the notice names), when known. */
  reportingMta?: string
  /** The report's own Subject, From and Message-ID. */
  subject?: string
  from?: string
  messageId?: string
  /** The original message, when the report quotes it (whole or headers only). */
  original?: {
    messageId?: string
    from?: string
    to?: string
    subject?: string
  }
  /** One entry per reported recipient, in the order the report lists them. */
  recipients: BounceRecipient[]
  /** For `complaint`, and for a `not-a-bounce` feedback report (`not-spam`, `auth-failure`): the report's fields. */
  feedback?: FeedbackInfo
  /** How the recipients were found, e.g. `rfc3464`, `arf`, `rfc3834`, `text`. */
  format?: 'rfc3464' | 'arf' | 'rfc3834' | 'text' | 'none'
}

/** Options of `parseBounceMessage`. */
export interface ParseBounceOptions {
  /**
   * Bytes of input examined; a larger message is cut there (a report with what could be read).
   * @default 10485760 (10 MiB)
   */
  maxBytes?: number
  /**
   * Which MIME reader to use: `auto` reads simple, well-formed messages with a fast built-in
   * splitter and hands everything else to postal-mime; `postal-mime` always uses postal-mime
   * (slower; useful to compare both).
   * @default 'auto'
   */
  mimeParser?: 'auto' | 'postal-mime'
}
