export { createProgram, runCli, EXIT_CODES } from './program.js'
