import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BounceGuardError, MemoryBounceStore, createBounceGuard } from '@bounce-guard/core'
import type { BounceStore } from '@bounce-guard/core'
import { SERIES_COLORS, collectReportData, renderHtmlReport } from '@bounce-guard/report'
import type { ReportData } from '@bounce-guard/report'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = Date.UTC(2030, 5, 1, 0, 0, 0)

const R = {
  gmailUnknown:
    "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser",
  spamhaus:
    '550 5.7.1 Service unavailable, Client host [203.0.113.9] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/203.0.113.9 AS(1450) [BN1NAM02FT041.eop-nam02.prod.protection.outlook.com]',
  tss04:
    '421 4.7.0 [TSS04] Messages from 203.0.113.9 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
  hostile: '550 5.7.1 </script><img src=x onerror="document.title=\'pwned\'"> blocked using Spamhaus',
}

/** Three days of traffic recorded through a real guard; the guard's clock follows the events. */
async function seed(): Promise<{ store: MemoryBounceStore; counts: Record<string, number> }> {
  const store = new MemoryBounceStore()
  let t = T0
  const guard = createBounceGuard({ store, now: () => new Date(t), random: () => 0 })
  const counts: Record<string, number> = {
    gmailSent: 0,
    gmailHard: 0,
    outlookRefused: 0,
    yahooDeferred: 0,
    complaints: 0,
    yahooDelivered: 0,
  }
  for (let i = 0; i < 3 * 24; i++) {
    t = T0 + i * HOUR + 60_000
    for (let k = 0; k < 10; k++) {
      await guard.record({ recipient: `g${i}-${k}@gmail.com`, type: 'delivered', source: 'smtp' })
      counts.gmailSent!++
    }
    // the bounce rate at gmail rises on day 2
    const bounces = i >= 24 && i < 48 ? 3 : 1
    for (let k = 0; k < bounces; k++) {
      await guard.record({ recipient: `dead${i}-${k}@gmail.com`, type: 'bounced', reply: R.gmailUnknown, source: 'smtp' })
      counts.gmailSent!++
      counts.gmailHard!++
    }
    for (let k = 0; k < 5; k++) {
      await guard.record({ recipient: `y${i}-${k}@yahoo.com`, type: 'delivered', source: 'smtp' })
      counts.yahooDelivered!++
    }
    if (i % 6 === 0) {
      await guard.record({ recipient: `y${i}-0@yahoo.com`, type: 'complaint', source: 'feedback-loop' })
      counts.complaints!++
    }
    if (i % 4 === 0) {
      await guard.record({ recipient: `m${i}@outlook.com`, type: 'bounced', reply: i === 68 ? R.hostile : R.spamhaus, source: 'smtp' })
      counts.outlookRefused!++
    }
    if (i % 8 === 0) {
      await guard.record({ recipient: `t${i}@yahoo.com`, type: 'deferred', reply: R.tss04, source: 'smtp' })
      counts.yahooDeferred!++
    }
  }
  return { store, counts }
}

describe('collectReportData', () => {
  let store: MemoryBounceStore
  let counts: Record<string, number>
  let data: ReportData
  beforeAll(async () => {
    ;({ store, counts } = await seed())
    data = await collectReportData(store, {
      since: new Date(T0),
      until: new Date(T0 + 3 * DAY),
      bucketSeconds: 3600,
      now: () => new Date(T0 + 3 * DAY),
    })
  })

  it('totals per provider and reasons come from stats', () => {
    // deliveries carry no classification: the provider comes from the well-known domain list
    const gmail = data.providers.find((p) => p.key === 'gmail')!
    expect(gmail.sent).toBe(counts.gmailSent)
    expect(gmail.delivered + gmail.hardBounces).toBe(counts.gmailSent)
    expect(gmail.bounceRate).toBeCloseTo(counts.gmailHard! / counts.gmailSent!)
    const yahoo = data.providers.find((p) => p.key === 'yahoo')!
    expect(yahoo).toMatchObject({ delivered: counts.yahooDelivered, complaints: counts.complaints, deferred: counts.yahooDeferred })
    expect(yahoo.complaintRate).toBeCloseTo(counts.complaints! / counts.yahooDelivered!)
    expect(gmail.hardBounces).toBe(counts.gmailHard)
    expect(data.reasons.find((r) => r.key === 'userunknown')!.hardBounces).toBe(counts.gmailHard)
    expect(data.reasons.some((r) => r.key === 'delivered')).toBe(false)
    expect(data.reasons.find((r) => r.key === 'complaint')).toMatchObject({ sent: counts.complaints, complaints: counts.complaints })
    expect(data.reasons.some((r) => r.key === 'undefined')).toBe(false)
  })

  it('hourly series per provider: day 2 carries the higher gmail bounce rate', () => {
    expect(data.series.filter((r) => r.key === 'gmail')).toHaveLength(72)
    const hour30 = data.series.find((r) => r.key === 'gmail' && r.bucket === T0 + 30 * HOUR)!
    expect(hour30).toMatchObject({ sent: 13, hardBounces: 3, delivered: 10 })
    const total = data.series.filter((r) => r.key === 'gmail').reduce((n, r) => n + r.hardBounces, 0)
    expect(total).toBe(counts.gmailHard)
  })

  it('refusing destinations carry their evidence', () => {
    expect(data.refusing[0]).toMatchObject({
      key: 'outlook.com',
      count: counts.outlookRefused,
      blocklists: { spamhaus: counts.outlookRefused },
    })
    expect(data.refusing[0]!.sample).toContain('Spamhaus')
    expect(data.refusing.find((r) => r.key === 'yahoo.com')).toMatchObject({
      count: counts.yahooDeferred,
      reasons: { badreputation: counts.yahooDeferred },
    })
  })

  it('suppressions per day: one per hard bounce and per complaint, on the day it happened', () => {
    // 24 hard bounces a day (72 on day 2) and a complaint every 6 hours
    expect(data.suppressionsPerDay.map((d) => [d.day, d.total])).toEqual([
      ['2030-06-01', 28],
      ['2030-06-02', 76],
      ['2030-06-03', 28],
    ])
    expect(data.suppressionsPerDay[1]!.byReason).toEqual({ userunknown: 72, complaint: 4 })
  })

  it('a store without events still reports, with a note; bad input is a typed error', async () => {
    const plain = {
      stats: (q: never) => store.stats(q),
      listSuppressions: (f: never, p: never) => store.listSuppressions(f, p),
    } as unknown as BounceStore
    const d = await collectReportData(plain, { since: new Date(T0), until: new Date(T0 + 3 * DAY) })
    expect(d.series).toEqual([])
    expect(d.notes.join(' ')).toMatch(/time-series/)
    expect(d.refusing[0]).toMatchObject({ key: 'outlook.com', count: counts.outlookRefused })
    await expect(collectReportData(store, { since: new Date('nope') })).rejects.toThrow(BounceGuardError)
    await expect(collectReportData({} as never, { since: new Date(T0) })).rejects.toThrow(BounceGuardError)
  })

  it('renders one self-contained page with escaped text', () => {
    const html = renderHtmlReport(data)
    expect(html).not.toMatch(/<script[^>]+src=/i)
    expect(html).not.toMatch(/<link\b/i)
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?https?:/i)
    expect(html).toContain('uPlot')
    // the hostile reply is text, never markup
    expect(html).not.toContain('<img src=x')
    expect(html).toContain('&lt;/script&gt;&lt;img src=x')
    expect(html.match(/<\/script>/g)!.length).toBe(3)
    expect(html).toContain(`<b id="bg-bounce-rate">`)
  })
})

// ---- headless Chromium ---------------------------------------------------------------------

const CHROMIUM = '/usr/bin/chromium'
const haveChromium = existsSync(CHROMIUM)
if (!haveChromium) {
  if (process.env.CI)
    throw new Error(
      `${CHROMIUM} is missing but CI is set: .ci/run must \`apt-get install -y chromium\` before the tests (the report page is tested in headless Chromium)`,
    )
  console.warn(`[@bounce-guard/report tests] SKIPPING the headless Chromium tests: ${CHROMIUM} is missing (apt-get install -y chromium)`)
}

function chromium(args: string[], dir: string): Promise<string> {
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    '--hide-scrollbars',
    `--user-data-dir=${join(dir, 'profile')}`,
    '--virtual-time-budget=5000',
    '--window-size=1200,900',
  ]
  return new Promise((resolve, reject) => {
    execFile(
      CHROMIUM,
      [...flags, ...args],
      { timeout: 90_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HOME: dir } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2000)}`))
        else resolve(stdout)
      },
    )
  })
}

/** Decode an 8-bit RGB/RGBA non-interlaced PNG into RGBA pixels (enough for Chromium's screenshots). */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a')
  let pos = 8
  let width = 0
  let height = 0
  let colorType = 0
  const idat: Buffer[] = []
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos)
    const type = buf.toString('latin1', pos + 4, pos + 8)
    const body = buf.subarray(pos + 8, pos + 8 + len)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      expect(body[8]).toBe(8) // bit depth
      colorType = body[9]!
      expect(body[12]).toBe(0) // not interlaced
    } else if (type === 'IDAT') idat.push(body)
    else if (type === 'IEND') break
    pos += 12 + len
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0
  expect(bpp).toBeGreaterThan(0)
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * bpp
  const out = new Uint8Array(width * height * 4)
  const prev = new Uint8Array(stride)
  const cur = new Uint8Array(stride)
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0
      const b = prev[i]!
      const c = i >= bpp ? prev[i - bpp]! : 0
      let v = line[i]!
      if (f === 1) v += a
      else if (f === 2) v += b
      else if (f === 3) v += (a + b) >> 1
      else if (f === 4) {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c
      }
      cur[i] = v & 255
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4
      out[o] = cur[x * bpp]!
      out[o + 1] = cur[x * bpp + 1]!
      out[o + 2] = cur[x * bpp + 2]!
      out[o + 3] = bpp === 4 ? cur[x * bpp + 3]! : 255
    }
    prev.set(cur)
  }
  return { width, height, rgba: out }
}

describe.skipIf(!haveChromium)('the report page in headless Chromium', () => {
  let dir: string
  let file: string
  beforeAll(async () => {
    const { store } = await seed()
    const data = await collectReportData(store, {
      since: new Date(T0),
      until: new Date(T0 + 3 * DAY),
      bucketSeconds: 3600,
      now: () => new Date(T0 + 3 * DAY),
    })
    dir = mkdtempSync(join(tmpdir(), 'bg-report-'))
    file = join(dir, 'report.html')
    writeFileSync(file, renderHtmlReport(data))
  })
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('the charts run: the legends name every provider series, the hostile reply did not run', async () => {
    const dom = await chromium(['--dump-dom', `file://${file}`], dir)
    expect(dom).toContain('data-charts="ready"')
    for (const name of ['gmail', 'yahoo', 'microsoft', 'suppressions added']) expect(dom).toMatch(new RegExp(`class="u-label">${name}<`))
    expect((dom.match(/class="uplot /g) ?? []).length).toBe(4)
    expect(dom).toMatch(/<title>Bounce Guard report<\/title>/)
  })

  it('the screenshot is not blank and shows the first series colour', async () => {
    const png = join(dir, 'shot.png')
    await chromium([`--screenshot=${png}`, `file://${file}`], dir)
    const { width, height, rgba } = decodePng(readFileSync(png))
    expect([width, height]).toEqual([1200, 900])
    const [r0, g0, b0] = [1, 3, 5].map((i) => parseInt(SERIES_COLORS[0]!.slice(i, i + 2), 16)) as [number, number, number]
    let nonWhite = 0
    let series0 = 0
    const colours = new Set<number>()
    for (let i = 0; i < rgba.length; i += 4) {
      const [r, g, b] = [rgba[i]!, rgba[i + 1]!, rgba[i + 2]!]
      if (r < 235 || g < 235 || b < 235) nonWhite++
      if (Math.abs(r - r0) < 40 && Math.abs(g - g0) < 40 && Math.abs(b - b0) < 40) series0++
      colours.add((r << 16) | (g << 8) | b)
    }
    expect(nonWhite / (width * height)).toBeGreaterThan(0.02)
    expect(colours.size).toBeGreaterThan(50)
    // the first chart (bounce rate) sits in the first screen; its first series is drawn as a 2 px line
    expect(series0).toBeGreaterThan(300)
  })
})
