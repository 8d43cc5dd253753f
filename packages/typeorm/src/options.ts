/**
 * Options shared by the entities, the migrations and the store, and the table names they derive.
 */
import { BounceGuardError } from '@bounce-guard/core'

/** Options that decide where Bounce Guard's tables live. */
export interface BounceGuardSchemaOptions {
  /**
   * Prefix of every table and index name. Letters, digits and `_` only, at most 30 characters
   * (PostgreSQL cuts identifiers at 63 bytes and index names are built from it).
   * @default "bg_"
   */
  tablePrefix?: string
}

/** The table names for one prefix. */
export interface BounceGuardTableNames {
  prefix: string
  suppressions: string
  events: string
  recipientState: string
  retryJobs: string
  /** Shared traffic-shaping actions (`<prefix>shaping`, created by the second migration). */
  shaping: string
  /** Shared cap slots per destination key and minute window (`<prefix>shaping_slots`, fourth migration; see `takeShapingSlots`). */
  shapingSlots: string
  /** Hourly per-provider event counts (`<prefix>event_rollup`, third migration; see `rollupEvents`). */
  eventRollup: string
  /** How far the rollup has read the events table (`<prefix>rollup_marks`, third migration). */
  rollupMarks: string
}

/** The default table prefix. */
export const DEFAULT_TABLE_PREFIX = 'bg_'

const PREFIX_RE = /^[A-Za-z0-9_]{0,30}$/

/** Validate the prefix and derive the table names. Throws `EINVALID_OPTION` for a bad prefix. */
export function tableNames(options: BounceGuardSchemaOptions = {}): BounceGuardTableNames {
  const prefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw new BounceGuardError(
      'EINVALID_OPTION',
      `@bounce-guard/typeorm: tablePrefix must be 0-30 letters, digits or "_" (got ${JSON.stringify(prefix)})`,
    )
  }
  return {
    prefix,
    suppressions: `${prefix}suppressions`,
    events: `${prefix}events`,
    recipientState: `${prefix}recipient_state`,
    retryJobs: `${prefix}retry_jobs`,
    shaping: `${prefix}shaping`,
    shapingSlots: `${prefix}shaping_slots`,
    eventRollup: `${prefix}event_rollup`,
    rollupMarks: `${prefix}rollup_marks`,
  }
}
