import type pg from 'pg';
export function freePort(): Promise<number>;
export interface StartedPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  dir: string;
  client(database?: string, as?: { user: string; password: string }): Promise<pg.Client>;
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}
export function startPostgres(opts?: { maxConnections?: number; settings?: Record<string, string>; log?: (line: string) => void }): Promise<StartedPostgres>;
