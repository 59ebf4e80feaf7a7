// What a dbt run left in PostgreSQL, in a form two runs can be compared by: every relation of a run's target schema
// (and its <target>_<custom> schemas) with its kind, columns, row count and an order-independent hash of its rows,
// named with the target schema replaced by `{target}` so that runs into different target schemas (or databases)
// line up. Also the audit rows the features project's hooks write (test/fixtures/features/macros/audit.sql).
import type { StartedPostgres } from '../../scripts/lib/postgres.mjs';

/** One relation as a run left it. */
export interface TableState {
  /** `{target}_core.fct_orders`: the schema with the run's target schema replaced by `{target}`. */
  relation: string;
  kind: string;
  /** `name type [not null]`, in column order. */
  columns: string;
  /** Constraints (primary key, unique, foreign key, check), sorted. */
  constraints: string;
  rows: number;
  /** md5 over the sorted md5 of each row's text: equal for equal contents, whatever the row order. */
  hash: string;
  /** Views: the definition as PostgreSQL prints it, with the target schema normalised (which relations it reads). */
  definition?: string;
}

export type TableStates = Map<string, TableState>;

export interface TableOptions {
  /** The run's target schema: only it and the schemas starting with `<it>_` are read, and it is replaced by `{target}`. */
  targetSchema: string;
  /** Normalised schema names to leave out, e.g. `{target}_audit`. */
  excludeSchemas?: string[];
}

const KINDS: Record<string, string> = {
  r: 'table',
  v: 'view',
  m: 'materialized view',
  p: 'partitioned table',
  f: 'foreign table',
};

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces the target schema at the start of a schema name (`pr_core` → `{target}_core`, `pr` → `{target}`). */
export function normaliseSchema(schema: string, targetSchema: string): string | undefined {
  if (schema === targetSchema) return '{target}';
  if (schema.startsWith(`${targetSchema}_`)) return `{target}${schema.slice(targetSchema.length)}`;
  return undefined;
}

/** The same in SQL text: every `<target>[_x].` (quoted or not) that qualifies a relation. */
function normaliseSql(sql: string, targetSchema: string): string {
  const t = escapeRegExp(targetSchema);
  return sql.replace(
    new RegExp(`(?<![\\w"])"?${t}((?:_\\w+?)?)"?(?=\\.)`, 'g'),
    (_m, rest: string) => `{target}${rest}`,
  );
}

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Every relation of the run whose target schema is `opts.targetSchema`, in database `db`, by normalised name. */
export async function readTables(pg: StartedPostgres, db: string, opts: TableOptions): Promise<TableStates> {
  const c = await pg.client(db);
  try {
    const rels = (
      await c.query(
        `
      select n.nspname as schema, c.relname as name, c.relkind as kind, c.oid::int as oid
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'v', 'm', 'p', 'f')
        and (n.nspname = $1 or starts_with(n.nspname, $1 || '_'))
      order by 1, 2`,
        [opts.targetSchema],
      )
    ).rows as { schema: string; name: string; kind: string; oid: number }[];
    const out: TableStates = new Map();
    for (const r of rels) {
      const schema = normaliseSchema(r.schema, opts.targetSchema);
      if (schema === undefined || (opts.excludeSchemas ?? []).includes(schema)) continue;
      const relation = `${schema}.${r.name}`;
      const cols = (
        await c.query(
          `
        select string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end, ', ' order by a.attnum) as columns
        from pg_attribute a where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped`,
          [r.oid],
        )
      ).rows[0] as { columns: string | null };
      const cons = (
        await c.query(
          `
        select coalesce(string_agg(normalised, '; ' order by normalised), '') as constraints
        from (select contype::text || ' ' || pg_get_constraintdef(oid) as normalised from pg_constraint where conrelid = $1) s`,
          [r.oid],
        )
      ).rows[0] as { constraints: string };
      const q = `${quoteIdent(r.schema)}.${quoteIdent(r.name)}`;
      const content = (
        await c.query(`
        select count(*)::int as rows, md5(coalesce(string_agg(h, '' order by h), '')) as hash
        from (select md5(t::text) as h from ${q} t) s`)
      ).rows[0] as { rows: number; hash: string };
      const state: TableState = {
        relation,
        kind: KINDS[r.kind] ?? r.kind,
        columns: cols.columns ?? '',
        constraints: normaliseSql(cons.constraints, opts.targetSchema),
        rows: content.rows,
        hash: content.hash,
      };
      if (r.kind === 'v' || r.kind === 'm') {
        const def = (await c.query('select pg_get_viewdef($1::oid, true) as def', [r.oid])).rows[0] as { def: string };
        state.definition = normaliseSql(def.def, opts.targetSchema).replace(/\s+/g, ' ').trim();
      }
      out.set(relation, state);
    }
    return out;
  } finally {
    await c.end();
  }
}

/** One relation that differs between two runs (or exists in one of them only). */
export interface TableDiff {
  relation: string;
  /** Which side has it, when only one does. */
  only?: 'a' | 'b';
  /** Field name → [a's value, b's value], for the fields that differ. */
  fields?: Record<string, [unknown, unknown]>;
}

const COMPARED: (keyof TableState)[] = ['kind', 'columns', 'constraints', 'rows', 'hash', 'definition'];

/** The relations that differ between `a` and `b`, sorted by name; empty when both runs left the same data. */
export function diffTables(a: TableStates, b: TableStates): TableDiff[] {
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out: TableDiff[] = [];
  for (const relation of names) {
    const x = a.get(relation);
    const y = b.get(relation);
    if (x === undefined || y === undefined) {
      out.push({ relation, only: x === undefined ? 'b' : 'a' });
      continue;
    }
    const fields: Record<string, [unknown, unknown]> = {};
    for (const f of COMPARED) if (x[f] !== y[f]) fields[f] = [x[f], y[f]];
    if (Object.keys(fields).length > 0) out.push({ relation, fields });
  }
  return out;
}

/**
 * One readable line per differing relation, e.g.
 * `{target}_marts.payment_pivot: columns "order_id integer, unknown_cents bigint" (action) vs "order_id integer, card_cents bigint, …" (plain dbt)`.
 * The row hash is only mentioned when the row count and columns agree (it then says which rows differ: their content).
 */
export function formatTableDiffs(diffs: TableDiff[], labels: [string, string] = ['a', 'b']): string[] {
  return diffs.map((d) => {
    if (d.only !== undefined) return `${d.relation}: only in ${d.only === 'a' ? labels[0] : labels[1]}`;
    const f = d.fields ?? {};
    const parts: string[] = [];
    for (const [name, [x, y]] of Object.entries(f)) {
      if (name === 'hash' && (f.rows !== undefined || f.columns !== undefined)) continue;
      if (name === 'hash')
        parts.push(
          `other rows (same count and columns, content hash ${String(x).slice(0, 8)} vs ${String(y).slice(0, 8)})`,
        );
      else if (name === 'definition' && typeof x === 'string' && typeof y === 'string')
        parts.push(`view definition: ${wordDiff(x, y, labels)}`);
      else parts.push(`${name} ${JSON.stringify(x)} (${labels[0]}) vs ${JSON.stringify(y)} (${labels[1]})`);
    }
    return `${d.relation}: ${parts.join('; ')}`;
  });
}

/** The words (dotted names kept whole, e.g. `{target}_core.fct_orders`) only one of two SQL texts has. */
function wordDiff(x: string, y: string, labels: [string, string]): string {
  const words = (t: string) => new Set(t.match(/[\w{}"]+(?:\.[\w"]+)*/g) ?? []);
  const wx = words(x);
  const wy = words(y);
  const onlyX = [...wx].filter((w) => !wy.has(w));
  const onlyY = [...wy].filter((w) => !wx.has(w));
  if (onlyX.length + onlyY.length === 0)
    return `same words in another order: ${JSON.stringify(x)} (${labels[0]}) vs ${JSON.stringify(y)} (${labels[1]})`;
  return `only in ${labels[0]}'s: ${JSON.stringify(onlyX)}, only in ${labels[1]}'s: ${JSON.stringify(onlyY)}`;
}

/** One row of the features project's run audit (<target schema>_audit.run_audit). */
export interface AuditRow {
  id: number;
  kind: 'start' | 'end';
  invocation_id: string;
  results: number | null;
  statuses: string | null;
}

/** The audit rows of target schema `targetSchema` in `db`, oldest first; none when no hook has created the table. */
export async function auditRows(pg: StartedPostgres, db: string, targetSchema: string): Promise<AuditRow[]> {
  const c = await pg.client(db);
  try {
    const table = `${quoteIdent(`${targetSchema}_audit`)}.run_audit`;
    const exists = (await c.query('select to_regclass($1) is not null as ok', [table])).rows[0] as { ok: boolean };
    if (!exists.ok) return [];
    return (await c.query(`select id, kind, invocation_id, results, statuses from ${table} order by id`))
      .rows as AuditRow[];
  } finally {
    await c.end();
  }
}
