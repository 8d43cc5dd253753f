import { defineDatabaseSuite } from './database-suite.js'

// Needs the mariadb server on 127.0.0.1 (database `test`); skipped with a message outside CI when it
// does not answer, failed in CI.
await defineDatabaseSuite('mariadb', { concurrency: true })
