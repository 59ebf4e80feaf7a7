// Where run/ and report/ write their lines. flow/ backs it with @actions/core; tests pass arrays.

export interface Logger {
  info(line: string): void;
  warning(line: string): void;
  debug(line: string): void;
}
