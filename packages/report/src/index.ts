/**
 * `@bounce-guard/report`: a report people would rather look at than read. `collectReportData`
 * gathers rates, reasons, refusing destinations and suppressions from a `BounceStore`;
 * `renderHtmlReport` turns them into one self-contained HTML page with uPlot charts.
 */
export * from './collect.js'
export * from './render.js'
export * from './serve.js'
export * from './metrics.js'
