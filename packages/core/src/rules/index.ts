/**
 * The built-in rule set, in the order the classifier tries it: provider-specific replies (with the
 * named DNS blocklists), MTA diagnostic texts from bounce bodies, generic MTA texts, the RFC 3463
 * enhanced-status table, then the basic reply code.
 */
import { BASIC_RULES } from './basic.js'
import { BOUNCE_TEXT_RULES } from './bounce-texts.js'
import { GENERIC_RULES } from './generic.js'
import { PROVIDER_RULES } from './providers.js'
import { RFC3463_RULES } from './rfc3463.js'
import type { ReplyRule } from './types.js'

export type { ReplyRule } from './types.js'
export { BASIC_RULES, BOUNCE_TEXT_RULES, GENERIC_RULES, PROVIDER_RULES, RFC3463_RULES }

/** Every built-in rule, in priority order. */
export const BUILTIN_RULES: readonly ReplyRule[] = [
  ...PROVIDER_RULES,
  ...BOUNCE_TEXT_RULES,
  ...GENERIC_RULES,
  ...RFC3463_RULES,
  ...BASIC_RULES,
]
