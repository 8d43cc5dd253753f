import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runCli, tmpDir } from './cli-helpers.js'

const corpus = join(fileURLToPath(new URL('../../..', import.meta.url)), 'test/fixtures/sisimai/emails') // vendored copy of ../shared/corpus

function jsonLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

describe('bounce-guard parse', () => {
  it('prints one JSON object per recipient, in file order, and not-a-bounce for other mail', () => {
    const dir = tmpDir('bg-parse-')
    const plain = join(dir, 'hello.eml')
    writeFileSync(plain, 'From: a@example.com\nTo: b@example.org\nSubject: hello\n\nhi\n')
    const r = runCli(['parse', '--json', join(corpus, 'postfix-04.eml'), plain, join(corpus, 'arf-02.eml')])
    expect(r.status, r.stderr).toBe(0)
    const lines = jsonLines(r.stdout)
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatchObject({
      file: join(corpus, 'postfix-04.eml'),
      kind: 'bounce',
      recipient: 'kijitora@example.co.jp',
      status: '5.1.1',
      reason: 'userunknown',
      hard: true,
      scope: 'recipient',
    })
    expect(typeof lines[0]!.ruleId).toBe('string')
    expect(String(lines[0]!.diagnosticCode)).toContain('5.1.1')
    expect(lines[1]).toEqual({ file: plain, kind: 'not-a-bounce' })
    expect(lines[2]).toMatchObject({ kind: 'complaint', reason: 'feedback', hard: false, feedbackType: 'abuse' })
  })

  it('walks a directory in name order and reads mbox files message by message', () => {
    const dir = tmpDir('bg-parse-dir-')
    mkdirSync(join(dir, 'sub'))
    copyFileSync(join(corpus, 'qmail-03.eml'), join(dir, 'b.eml'))
    copyFileSync(join(corpus, 'exim-01.eml'), join(dir, 'sub', 'a.eml'))
    const mbox = `From MAILER-DAEMON Thu Apr 29 23:34:45 2010\n${readFileSync(join(corpus, 'postfix-04.eml'), 'latin1')}\n\nFrom MAILER-DAEMON Thu Apr 29 23:34:46 2010\n${readFileSync(join(corpus, 'yahoo-02.eml'), 'latin1')}\n`
    writeFileSync(join(dir, 'a.mbox'), mbox, 'latin1')
    const r = runCli(['parse', '--json', dir])
    expect(r.status, r.stderr).toBe(0)
    const lines = jsonLines(r.stdout)
    expect(lines.map((l) => [String(l.file).slice(dir.length + 1), l.recipient])).toEqual([
      ['a.mbox', 'kijitora@example.co.jp'],
      ['a.mbox', 'kijitora@example.ed.jp'],
      ['b.eml', 'kijitora@example.org'],
      [join('sub', 'a.eml'), 'kijitora@example.ed.jp'],
    ])
  })

  it('prints a readable table without --json', () => {
    const r = runCli(['parse', join(corpus, 'yahoo-02.eml')])
    expect(r.status, r.stderr).toBe(0)
    const [header, rule, row] = r.stdout.split('\n')
    expect(header).toMatch(/^file\s+kind\s+recipient\s+status\s+code\s+reason\s+hard\s+scope/)
    expect(rule).toMatch(/^-+\s+-+/)
    expect(row).toContain('mailboxfull')
    expect(row).toContain('kijitora@example.ed.jp')
  })

  it('fails with exit code 4 for a missing file', () => {
    const r = runCli(['parse', '--json', '/nonexistent/bounce.eml'])
    expect(r.status).toBe(4)
    expect(r.stderr).toContain('cannot read')
  })
})
