// A Logger for tests (src/shared/log.ts): keeps the lines it is given, per level.
import type { Logger } from '../../src/shared/log.js';

export interface KeptLines extends Logger {
  infos: string[];
  notices: string[];
  warnings: string[];
  debugs: string[];
}

export function keptLines(): KeptLines {
  const kept = { infos: [] as string[], notices: [] as string[], warnings: [] as string[], debugs: [] as string[] };
  return {
    ...kept,
    info: (l) => kept.infos.push(l),
    notice: (l) => kept.notices.push(l),
    warning: (l) => kept.warnings.push(l),
    debug: (l) => kept.debugs.push(l),
  };
}
