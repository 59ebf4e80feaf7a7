// The one logging seam: every layer writes its lines to the Logger it is given. flow/runner.ts backs it with
// @actions/core (the only file that imports it); the report's ReportSink and the flow's Runner extend it; tests
// pass one that collects lines.

export interface Logger {
  info(line: string): void;
  notice(line: string): void;
  warning(line: string): void;
  debug(line: string): void;
}

/** The same logger with every line masked first (for text that can hold secrets: dbt's output, its messages). */
export function maskedLogger(log: Logger, mask: (text: string) => string): Logger {
  return {
    info: (l) => log.info(mask(l)),
    notice: (l) => log.notice(mask(l)),
    warning: (l) => log.warning(mask(l)),
    debug: (l) => log.debug(mask(l)),
  };
}
