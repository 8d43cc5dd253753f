/**
 * The shape of a classification rule. Rules are data: the classifier compiles the whole list once
 * (see `classify.ts`) and every rule carries the real replies it was written for in `examples`.
 */
import type { BounceReason, BounceScope } from '../types.js'

/**
 * One classification rule. A rule matches a reply when ALL of its given conditions hold:
 * - `keywords`: at least one of these literal phrases occurs in the reply text (case-insensitive,
 *   white-space runs count as one space). Found for all rules at once by one scan of the text.
 * - `pattern`: this regular expression matches the reply text lower-cased with white space
 *   squashed to single spaces. It must be linear-time (checked for user rules and by a test for
 *   the built-in ones).
 * - `classes`: the reply's class (from its code, else its enhanced status) is one of these.
 * - `codes`: the reply code is one of these.
 * - `status`: the enhanced status equals one of these; `x` stands for any class
 *   (`"x.1.1"` matches `4.1.1` and `5.1.1`), a trailing `.` makes a prefix (`"5.7."`).
 *
 * A rule with neither `keywords` nor `pattern` is a table rule: it decides on codes alone and only
 * when no text rule matched. The first matching rule in list order decides.
 */
export interface ReplyRule {
  /** Unique id, reported as `ruleId`, e.g. `gmail.user-unknown`. */
  id: string
  /** The mailbox provider or filter whose reply this is, e.g. `gmail`. */
  provider?: string
  /** Literal phrases, any one of which makes the rule a candidate. Lower-case. */
  keywords?: readonly string[]
  /** A further condition on the lower-cased, space-squashed text. Must be linear-time. */
  pattern?: RegExp
  /** Reply classes the rule applies to. */
  classes?: readonly (2 | 4 | 5)[]
  /** Reply codes the rule applies to. */
  codes?: readonly number[]
  /** Enhanced statuses the rule applies to (`x` = any class, trailing `.` = prefix). */
  status?: readonly string[]
  /** The reason the rule yields. */
  reason: BounceReason
  /** Overrides the reason's default scope. */
  scope?: BounceScope
  /**
   * Forces `hard` to false when `false` (a rule can never make a non-hard reason hard).
   * @default derived from the reason and the reply class
   */
  hard?: false
  /** Whether the failure is permanent when the reply carries no code or status at all. */
  permanentWhenUnknown?: boolean
  /** The blocklist this rule's replies name, e.g. `spamhaus`. */
  blocklist?: string
  /** Real reply texts the rule is written for; each must be classified by this very rule. */
  examples: readonly string[]
}
