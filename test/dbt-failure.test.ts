// What the action says when a dbt step before the run fails: dbt's own reason, without the Python traceback dbt
// printed on its way out (src/dbt/errors.ts withoutTraceback). The lines are dbt 1.11's for a state folder whose
// manifest.json it could not read (`dbt ls --state`), as the action's tail keeps them (trimmed).
import { describe, expect, test } from '@jest/globals';
import { withoutTraceback } from '../src/dbt/errors.js';

describe('withoutTraceback', () => {
  test("a traceback's frames, source lines and markers go; the exception and dbt's own lines stay", () => {
    const tail = [
      'Running with dbt=1.11.16',
      'Encountered an error:',
      'Traceback (most recent call last):',
      '  File "/venv/lib/python3.11/site-packages/dbt/cli/requires.py", line 153, in wrapper',
      '    result, success = func(*args, **kwargs)',
      '                      ^^^^^^^^^^^^^^^^^^^^^',
      '  File "/venv/lib/python3.11/site-packages/dbt/artifacts/schemas/base.py", line 142, in read_and_check_versions',
      '    return cls.from_dict(data)',
      '           ^^^^^^^^^^^^^^^^^^^',
      '  File "<string>", line 4, in __mashumaro_from_dict__',
      '  File "<string>", line 19, in __mashumaro_from_dict__',
      'mashumaro.exceptions.InvalidFieldValue: Field "nodes" of type Mapping[str, Model] in WritableManifest has invalid value 5',
    ];
    expect(withoutTraceback(tail)).toEqual([
      'Running with dbt=1.11.16',
      'Encountered an error:',
      'mashumaro.exceptions.InvalidFieldValue: Field "nodes" of type Mapping[str, Model] in WritableManifest has invalid value 5',
    ]);
  });

  test('an exception with no message after a frame with no source line is kept', () => {
    expect(
      withoutTraceback(['Traceback (most recent call last):', '  File "<string>", line 4, in f', 'KeyboardInterrupt']),
    ).toEqual(['KeyboardInterrupt']);
  });

  test('lines without a traceback are kept as they are, indented ones too', () => {
    const tail = ['Encountered an error:', 'Runtime Error', "  Could not find profile named 'analytics'"];
    expect(withoutTraceback(tail)).toEqual(tail);
  });
});
