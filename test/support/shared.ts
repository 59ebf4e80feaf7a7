// One server (PostgreSQL, a stand-in API, …) shared by the tests of a file or describe block, without the
// let/beforeAll/afterAll boilerplate in each file.
import { afterAll, beforeAll } from '@jest/globals';

/**
 * Registers beforeAll (start) and afterAll (stop, if it started) in the calling file or describe block, and returns a
 * stand-in that forwards every property to the started server; reading it before beforeAll ran throws. E.g.
 * `const pg = usePostgres()` at the top of a file, then `pg.client(db)` in its tests.
 */
export function useShared<T extends object>(
  what: string,
  start: () => Promise<T>,
  stop: (server: T) => Promise<void>,
): T {
  let server: T | undefined;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    if (server !== undefined) await stop(server);
    server = undefined;
  });
  return new Proxy({} as T, {
    get(_target, key) {
      if (server === undefined)
        throw new Error(`${what} is not running: it is started in beforeAll and stopped in afterAll (useShared).`);
      const value: unknown = Reflect.get(server, key, server);
      return typeof value === 'function' ? value.bind(server) : value;
    },
  });
}
