// The benchmark's PostgreSQL (scripts/lib/postgres.mjs, embedded): one server for the whole run, a fresh database
// (or schema) per variant, the environment dbt and the action get to reach it, and its CPU seconds.
import { startPostgres } from '../../scripts/lib/postgres.mjs';
import { join } from 'node:path';
import { DBT_BIN } from '../../scripts/lib/action-run.mjs';
import { postgresCpu } from './accounting.mjs';

/**
 * @typedef {object} BenchPostgres
 * @property {(db: string, schema?: string) => NodeJS.ProcessEnv} env   a dbt run's (or the action's) environment against one
 *   database; `schema` sets the generated profile's target schema (PARALLEL_DBT_PG_SCHEMA; default 'bench')
 * @property {(name: string) => Promise<string>} freshDb   creates a database (name lower-cased, [a-z0-9_] only) and returns its name
 * @property {(db?: string) => Promise<import('pg').Client>} client
 * @property {() => number} cpuSeconds   the server's CPU seconds so far
 * @property {() => Promise<string>} version   "PostgreSQL 17.10"
 * @property {() => Promise<void>} stop   once; later calls do nothing
 */

/**
 * Starts the server.
 * @param {{ maxConnections: number }} o
 * @returns {Promise<BenchPostgres>}
 */
export async function startBenchPostgres({ maxConnections }) {
  const server = await startPostgres({ maxConnections });
  let stopped = false;
  return {
    env: (db, schema) => ({
      ...process.env,
      PATH: `${DBT_BIN}:${process.env.PATH}`,
      DO_NOT_TRACK: '1',
      DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
      PARALLEL_DBT_PG_HOST: server.host,
      PARALLEL_DBT_PG_PORT: String(server.port),
      PARALLEL_DBT_PG_USER: server.user,
      PARALLEL_DBT_PG_PASSWORD: server.password,
      PARALLEL_DBT_PG_DATABASE: db,
      ...(schema ? { PARALLEL_DBT_PG_SCHEMA: schema } : {}),
    }),
    freshDb: (name) => server.createDatabase(name.toLowerCase().replace(/[^a-z0-9_]/g, '_')),
    client: (db) => server.client(db),
    cpuSeconds: () => (stopped ? 0 : postgresCpu(join(server.dir, 'data'))),
    version: async () => {
      const c = await server.client();
      try {
        return `PostgreSQL ${(await c.query('show server_version')).rows[0].server_version}`;
      } finally {
        await c.end();
      }
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop().catch(() => {});
    },
  };
}
