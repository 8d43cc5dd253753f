#!/usr/bin/env node
import { runCli } from './program.js'

runCli(process.argv).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`bounce-guard: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  },
)
