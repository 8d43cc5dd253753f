/**
 * The report page behind `report --html` and `serve`: data from the store, with the time series
 * and the refusal evidence computed in SQL by `@bounce-guard/typeorm` when the store is a TypeORM one.
 */
import type { BounceStore } from '@bounce-guard/core'
import { collectReportData, type CollectReportOptions, type ReportData } from '@bounce-guard/report'
import { eventTimeSeries, refusalEvidence } from '@bounce-guard/typeorm'
import type { DataSource } from 'typeorm'

interface SqlStore {
  dataSource: DataSource
  tables: { prefix: string }
}

function isSqlStore(store: unknown): store is SqlStore {
  const s = store as Partial<SqlStore>
  return typeof s?.dataSource === 'object' && s.dataSource !== null && typeof s.tables?.prefix === 'string'
}

/** Collect the report page's data for a period. */
export async function collectPageData(
  store: BounceStore,
  options: { since: Date; until: Date; bucketSeconds?: number },
): Promise<ReportData> {
  const opts: CollectReportOptions = { since: options.since, until: options.until, bucketSeconds: options.bucketSeconds ?? 3600 }
  if (isSqlStore(store)) {
    const { dataSource, tables } = store
    opts.timeSeries = (q) => eventTimeSeries(dataSource, { ...q, tablePrefix: tables.prefix })
    opts.refusals = (q) => refusalEvidence(dataSource, { ...q, tablePrefix: tables.prefix })
  }
  return collectReportData(store, opts)
}
