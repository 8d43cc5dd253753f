/**
 * `pnpm bench classify`: classifications per second on one core over a mixed set of distinct real
 * reply texts (every built-in rule's examples plus wrapped variants: Diagnostic-Code values,
 * Postfix "host ... said:" lines, Nodemailer error messages, other recipients and IPs), and the
 * heap before and after 10 million classifications. Prints figures; asserts nothing. No result is
 * cached: every call parses and scans its text.
 *
 * Where the time goes (CPU profile of parse + classify on this corpus, 2-core shared VM, Nov 2026):
 * the keyword automaton's table walk ~25-30% (about 5 ns a character: one dependent load into a
 * 2.4 MB table per character, latency-bound; a tiny table walks at ~2.5 ns), parseSmtpReply ~30%
 * (its white-space check is a regular expression at ~0.8 ns a character, already the fastest form
 * found), the reply prefix and provider look-up ~12%, the rest spread thin. Reading characters with
 * charCodeAt from strings of mixed internal forms cost twice the table walk; the scan now copies
 * ASCII text into bytes first (see keyword-matcher.ts).
 */
import { BUILTIN_RULES, classifyReply, createClassifier, parseSmtpReply } from '@bounce-guard/core'

function corpus(): string[] {
  const base = new Set<string>()
  for (const rule of BUILTIN_RULES) {
    if (!rule.keywords) continue // table rules' examples are synthetic; keep real texts only
    for (const e of rule.examples) base.add(e)
  }
  const out = new Set<string>(base)
  let i = 0
  for (const e of base) {
    i++
    const flat = e.replace(/\n/g, ' ')
    out.add(`Diagnostic-Code: smtp; ${flat}`)
    out.add(`host mx${i}.example.net[192.0.2.${i % 250}] said: ${flat} (in reply to RCPT TO command)`)
    out.add(`Can't send mail - all recipients were rejected: ${flat.replace(/someone@/g, `user${i}@`)}`)
  }
  return [...out]
}

function gc(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

export async function run(): Promise<void> {
  const texts = corpus()
  const replies = texts.map((t) => parseSmtpReply(t))
  const classifier = createClassifier()
  // Warm-up.
  for (let r = 0; r < 50; r++) for (const t of texts) classifier.classify(t)
  const avgLen = Math.round(texts.reduce((a, t) => a + t.length, 0) / texts.length)
  console.log(`corpus: ${texts.length} distinct reply texts (average ${avgLen} chars), ${BUILTIN_RULES.length} rules`)

  const fmt = (x: number) => Math.round(x).toLocaleString('en-US')
  // Wall time and this process's CPU time, each the median of several rounds: on a shared, loaded
  // machine the CPU-time figure is the one that shows what one core does, and a median of rounds
  // is steadier than one long run (the best round is printed too).
  const ROUNDS = 5
  const measure = (label: string, fn: (i: number) => unknown, n: number): void => {
    const walls: number[] = []
    const cpus: number[] = []
    let sink = 0
    const per = Math.ceil(n / ROUNDS)
    for (let r = 0; r < ROUNDS; r++) {
      const c0 = process.cpuUsage()
      const t0 = process.hrtime.bigint()
      for (let i = r * per; i < (r + 1) * per; i++) if (fn(i) !== undefined) sink++
      const ns = Number(process.hrtime.bigint() - t0)
      const c = process.cpuUsage(c0)
      walls.push((per / ns) * 1e9)
      cpus.push((per / ((c.user + c.system) * 1000)) * 1e9)
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1] as number
    const cpu = median(cpus)
    console.log(
      `${label}: ${fmt(median(walls))} /s wall, ${fmt(cpu)} /s per CPU-second (${(1e9 / cpu).toFixed(0)} ns CPU each; medians of ${ROUNDS} rounds of ${fmt(per)}, best ${fmt(Math.max(...cpus))} /CPU-s${sink > 0 ? '' : ', no result?'})`,
    )
  }
  console.log(
    `load average: ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} on ${(await import('node:os')).cpus().length} cores`,
  )
  const N = 2_000_000
  const L = texts.length
  measure('classifyReply(string)  parse + classify', (i) => classifier.classify(texts[i % L]!), N)
  measure('classifyReply(SmtpReply) classify only', (i) => classifier.classify(replies[i % L]!), N)
  measure('parseSmtpReply(string) parse only     ', (i) => parseSmtpReply(texts[i % L]!), N)
  measure('classifyReply via default classifier  ', (i) => classifyReply(texts[i % L]!, { recipientDomain: 'example.com' }), N)

  gc()
  const before = process.memoryUsage().heapUsed
  const M = Number(process.env.BG_BENCH_MEMORY_CALLS ?? 10_000_000)
  const c0 = process.cpuUsage()
  for (let i = 0; i < M; i++) classifier.classify(texts[i % L]!)
  const cu = process.cpuUsage(c0)
  const s = (cu.user + cu.system) / 1e6
  gc()
  const after = process.memoryUsage().heapUsed
  console.log(
    `memory: heapUsed ${(before / 1048576).toFixed(1)} MiB before, ${(after / 1048576).toFixed(1)} MiB after ${M.toLocaleString('en-US')} classifications (${fmt(M / s)} /s per CPU-second)${(globalThis as { gc?: unknown }).gc ? '' : ' [run node with --expose-gc for exact figures]'}`,
  )
}
