// Secrets the action knows of: environment values under secret-looking names and literal secret-looking values
// in profiles.yml. Each is registered with the runner (core.setSecret) and masked in everything we print or write.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

const SECRET_WORDS = new Set([
  'PASSWORD',
  'PASSWD',
  'PASS',
  'PASSPHRASE',
  'SECRET',
  'SECRETS',
  'TOKEN',
  'CREDENTIAL',
  'CREDENTIALS',
  'KEYFILE',
  'APIKEY',
]);
const KEY_QUALIFIERS = new Set(['PRIVATE', 'API', 'ACCESS', 'SECRET', 'SIGNING', 'ENCRYPTION']);

/** A name (env var or profiles.yml key) made of words such as PASSWORD, TOKEN, SECRET, PRIVATE_KEY. */
function secretName(name: string): boolean {
  const words = name
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((w) => w !== '');
  return words.some((w, i) => SECRET_WORDS.has(w) || (w === 'KEY' && i > 0 && KEY_QUALIFIERS.has(words[i - 1])));
}
const MIN_LENGTH = 4;

export class Masker {
  private readonly values: string[];

  constructor(values: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole.
    this.values = [...new Set([...values].filter((v) => v.length >= MIN_LENGTH))].sort((a, b) => b.length - a.length);
  }

  get secrets(): readonly string[] {
    return this.values;
  }

  mask(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  }
}

export function secretsFromEnv(env: Record<string, string | undefined>): string[] {
  return Object.entries(env)
    .filter(([k, v]) => v !== undefined && secretName(k) && !k.startsWith('INPUT_'))
    .map(([, v]) => v!.trim())
    .filter((v) => v.length >= MIN_LENGTH && !/^(true|false|\d{1,4})$/i.test(v));
}

/** Literal values of secret-looking keys in profiles.yml (templated values come from the environment). */
export function secretsFromProfiles(dir: string | undefined): string[] {
  if (dir === undefined) return [];
  const path = join(dir, 'profiles.yml');
  if (!existsSync(path)) return [];
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
  const out: string[] = [];
  const walk = (x: unknown, key: string): void => {
    if (typeof x === 'string') {
      if (secretName(key) && !x.includes('{{')) out.push(x);
    } else if (Array.isArray(x)) x.forEach((v) => walk(v, key));
    else if (x !== null && typeof x === 'object') for (const [k, v] of Object.entries(x)) walk(v, k);
  };
  walk(doc, '');
  return out;
}
