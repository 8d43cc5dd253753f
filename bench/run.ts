/**
 * `pnpm bench`: runs every suite in bench/suites/ (or those named on the command line) one after
 * the other and prints their figures. Suites print; they never assert times.
 * Usage: pnpm bench [suite-name ...]
 */
import { readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join } from 'node:path'

const dir = fileURLToPath(new URL('./suites/', import.meta.url))
const wanted = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort()
for (const file of files) {
  const name = file.replace(/\.ts$/, '')
  if (wanted.length > 0 && !wanted.includes(name)) continue
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run?: () => Promise<void> }
  if (typeof mod.run !== 'function') continue
  console.log(`\n=== bench: ${name} ===`)
  await mod.run()
}
