/** A problem the user can fix: shown as one line, never with a stack trace. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Bad value for a named action input. */
export class InputError extends UserError {
  constructor(input: string, problem: string) {
    // One line always: values the user typed may hold newlines.
    super(`Input '${input}': ${problem.replace(/\s*[\r\n]+\s*/g, ' ')}`);
    this.name = 'InputError';
  }
}
