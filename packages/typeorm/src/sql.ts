/**
 * The few places where the three SQL dialects differ: identifier quotes, placeholders, casts of
 * untyped parameters (PostgreSQL), and how an upsert names the proposed row.
 */
import type { SqlDialect } from './schema.js'
import type { Step } from './executor.js'

/** PostgreSQL types for explicit parameter casts. */
export type PgCast = 'varchar' | 'bigint' | 'integer' | 'boolean' | 'text' | 'varchar[]' | 'bigint[]' | 'integer[]' | 'boolean[]' | 'text[]'

/** Builds one statement's parameter list. */
export class Params {
  readonly values: unknown[] = []
  constructor(readonly dialect: SqlDialect) {}

  /** Add a value; returns its placeholder (with a cast on PostgreSQL when `cast` is given). */
  add(value: unknown, cast?: PgCast): string {
    this.values.push(value === undefined ? null : value)
    if (this.dialect !== 'postgres') return '?'
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`
  }

  /** Placeholders for a list, comma-separated. */
  list(values: readonly unknown[], cast?: PgCast): string {
    return values.map((v) => this.add(v, cast)).join(', ')
  }
}

/** Dialect helpers bound to one dialect. */
export class Dialect {
  constructor(readonly name: SqlDialect) {}

  /** Quote an identifier (names come from validated prefixes and fixed column names). */
  id(name: string): string {
    return this.name === 'mysql' ? `\`${name}\`` : `"${name}"`
  }

  /** The proposed row's value of `col` inside an upsert's update clause. */
  proposed(col: string): string {
    return this.name === 'mysql' ? `VALUES(${this.id(col)})` : `excluded.${this.id(col)}`
  }

  /** `ON CONFLICT (cols) DO UPDATE SET` or `ON DUPLICATE KEY UPDATE`. */
  onConflictUpdate(conflict: readonly string[]): string {
    return this.name === 'mysql' ? 'ON DUPLICATE KEY UPDATE' : `ON CONFLICT (${conflict.map((c) => this.id(c)).join(', ')}) DO UPDATE SET`
  }

  /** A boolean value as the driver binds it. */
  bool(v: boolean | undefined): boolean | number | null {
    if (v === undefined) return null
    return this.name === 'postgres' ? v : v ? 1 : 0
  }

  /** Row locking suffix for SELECT inside a transaction (SQLite locks the whole file instead). */
  forUpdate(skipLocked = false): string {
    if (this.name === 'sqlite') return ''
    return skipLocked ? ' FOR UPDATE SKIP LOCKED' : ' FOR UPDATE'
  }

  params(): Params {
    return new Params(this.name)
  }

  step(sql: string, p: Params): Step {
    return { sql, params: p.values }
  }
}
