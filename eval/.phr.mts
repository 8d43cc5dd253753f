import { classifyReply } from '@bounce-guard/core'
const lines = (await import('node:fs')).readFileSync(0, 'utf8').split('\n').filter(Boolean)
for (const l of lines) {
  const c = classifyReply(l)
  console.log(c.reason.padEnd(14), String(c.hard).padEnd(5), c.ruleId.padEnd(30), l)
}
