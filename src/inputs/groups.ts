// Parses the multiline `groups` input: one `name: selection` per line.
import { InputError } from '../shared/errors.js';

export interface GroupSpec {
  name: string;
  /** dbt --select items of this group. */
  select: string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function parseGroups(text: string): GroupSpec[] {
  const groups: GroupSpec[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const colon = trimmed.indexOf(':');
    // A selector method also contains ':' (tag:x), so the name is what stands before the first ': ' or ':' that
    // is followed by a space; 'tag:finance' alone has no name.
    const sep = trimmed.search(/:\s/);
    if (colon <= 0 || sep <= 0) {
      throw new InputError(
        'groups',
        `line ${i + 1} '${trimmed}' has no group name; write 'name: selection', e.g. 'finance: tag:finance'.`,
      );
    }
    const name = trimmed.slice(0, sep).trim();
    const select = trimmed
      .slice(sep + 1)
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '');
    if (!NAME.test(name)) {
      throw new InputError(
        'groups',
        `line ${i + 1}: group name '${name}' may use letters, digits, '_', '.', '-' (up to 64, starting with a letter or digit).`,
      );
    }
    if (select.length === 0) {
      throw new InputError('groups', `line ${i + 1}: group '${name}' has an empty selection; write 'name: selection'.`);
    }
    if (groups.some((g) => g.name === name)) {
      throw new InputError(
        'groups',
        `group name '${name}' appears twice (line ${i + 1}); each group needs its own name.`,
      );
    }
    groups.push({ name, select });
  });
  return groups;
}
