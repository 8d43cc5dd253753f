/**
 * MTA-specific diagnostic texts found inside bounce messages (owned by the bounce-message parser).
 * Same rule shape as the other rule files; `rules/index.ts` places these after the provider rules
 * and before the generic texts. Starts empty.
 */
import type { ReplyRule } from './types.js'

/** Rules for diagnostic texts of non-standard bounce bodies. */
export const BOUNCE_TEXT_RULES: readonly ReplyRule[] = []
