// How text is cut and flattened: the one place for it (GitHub's limits are in UTF-16 units, and a cut must never
// leave half of a surrogate pair, which would show as a broken character or be refused as invalid JSON).

/** The first `end` UTF-16 units, one fewer if that would split a surrogate pair. */
export function sliceSafe(s: string, end: number): string {
  const e = end > 0 && /[\uD800-\uDBFF]/.test(s[end - 1] ?? '') ? end - 1 : end;
  return s.slice(0, e);
}

/** At most `max` UTF-16 units, never splitting a surrogate pair, ending with `mark` when cut. */
export function clip(s: string, max: number, mark = '…'): string {
  if (s.length <= max) return s;
  return sliceSafe(s, Math.max(0, max - mark.length)) + mark;
}

/** Runs of whitespace (newlines included) as one space, trimmed. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
