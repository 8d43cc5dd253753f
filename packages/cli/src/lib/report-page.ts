/**
 * The report page behind `report --html` and `serve`: data from the store, with the time series
 * and the refusal evidence computed in SQL by `@bounce-guard/typeorm` when the store is a TypeORM one.
 */
import type { BounceStore } from '@bounce-guard/core'
import { collectReportData, type CollectReportOptions, type ReportData } from '@bounce-guard/report'
import { eventTimeSeries, refusalEvidence } from '@bounce-guard/typeorm'
import { sqlStoreOf } from './sql-store.js'

/** Collect the report page's data for a period. */
export async function collectPageData(
  store: BounceStore,
  options: { since: Date; until: Date; bucketSeconds?: number },
): Promise<ReportData> {
  const opts: CollectReportOptions = { since: options.since, until: options.until, bucketSeconds: options.bucketSeconds ?? 3600 }
  const sql = sqlStoreOf(store)
  if (sql) {
    const { dataSource, tables } = sql
    opts.timeSeries = (q) => eventTimeSeries(dataSource, { ...q, tablePrefix: tables.prefix })
    opts.refusals = (q) => refusalEvidence(dataSource, { ...q, tablePrefix: tables.prefix })
  }
  return collectReportData(store, opts)
}
