// The README's code examples are copies of files that run in the test suite: this test fails when
// one of them drifts from its source.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (p: string) => readFileSync(join(root, p), 'utf8')

/** The first fenced block after `heading` (a line of the README). */
function blockAfter(markdown: string, heading: string): string {
  const at = markdown.indexOf(`\n${heading}\n`)
  expect(at, `README has a section ${heading}`).toBeGreaterThanOrEqual(0)
  const rest = markdown.slice(at)
  const m = /\n```[a-z]*\n([\s\S]*?)\n```/.exec(rest)
  expect(m, `a code block under ${heading}`).not.toBeNull()
  return m![1]!
}

/** Lines between `// #region name` and `// #endregion name`, common indentation removed. */
function region(source: string, name: string): string {
  const lines = source.split('\n')
  const from = lines.findIndex((l) => l.trim() === `// #region ${name}`)
  const to = lines.findIndex((l) => l.trim() === `// #endregion ${name}`)
  expect(from, `region ${name}`).toBeGreaterThanOrEqual(0)
  expect(to).toBeGreaterThan(from)
  const body = lines.slice(from + 1, to)
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length))
  return body.map((l) => l.slice(indent)).join('\n')
}

describe('README snippets', () => {
  const readme = read('README.md')

  it('the Nodemailer example is the nodemailer-sqlite example, verbatim', () => {
    const mailer = read('examples/nodemailer-sqlite/src/mailer.ts')
    const expected = `${region(mailer, 'readme-imports')}\n\n${region(mailer, 'readme-body')}`
    expect(blockAfter(readme, '## Nodemailer in 15 lines')).toBe(expected)
    expect(expected.split('\n').length).toBeLessThanOrEqual(16)
  })

  it('the Haraka example is the examples/haraka config, verbatim', () => {
    const at = readme.indexOf('\n## Haraka\n')
    const section = readme.slice(at, readme.indexOf('\n## ', at + 5))
    const blocks = [...section.matchAll(/\n```[a-z]*\n([\s\S]*?)\n```/g)].map((m) => m[1])
    expect(blocks[0]).toBe(read('examples/haraka/config/plugins').trimEnd())
    expect(blocks[1]).toBe(read('examples/haraka/config/bounce-guard.ini').trimEnd())
  })

  it('the Quick start has exactly two lines, the second being what .ci/run runs', () => {
    const lines = blockAfter(readme, '## Quick start').split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[1]).toMatch(/ test$/)
    expect(read('.ci/run')).toContain('/^## Quick start/')
  })
})
