// A local stand-in for the parts of GitHub's REST API the action uses, over real HTTP on 127.0.0.1, for the real
// Octokit client from @actions/github (point its baseUrl / GITHUB_API_URL at `url`). It keeps state, validates
// requests the way GitHub documents them, records every request, and can be told to fail:
//   POST  /repos/{o}/{r}/check-runs                      create a check run
//   PATCH /repos/{o}/{r}/check-runs/{id}                 update: output.annotations are APPENDED (≤ 50 a request)
//   GET   /repos/{o}/{r}/commits/{ref}/check-runs        list a commit's check runs (check_name filter)
//   GET   /repos/{o}/{r}/issues/{n}/comments             list, paginated (per_page ≤ 100, Link header)
//   POST  /repos/{o}/{r}/issues/{n}/comments             create a comment (body ≤ 65,536 characters)
//   PATCH /repos/{o}/{r}/issues/comments/{id}            edit a comment
// Errors are JSON { message, documentation_url } like GitHub's.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Route =
  'checks.create' | 'checks.update' | 'checks.listForRef' | 'comments.list' | 'comments.create' | 'comments.update';

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: string;
  message: string;
  title?: string;
}

export interface StoredCheckRun {
  id: number;
  owner: string;
  repo: string;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  details_url?: string;
  external_id?: string;
  output: { title?: string; summary?: string; text?: string };
  annotations: Annotation[];
}

export interface StoredComment {
  id: number;
  issue: number;
  body: string;
  user: { login: string; type: string };
  edits: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  route?: Route;
  status: number;
  body?: Record<string, unknown>;
}

export interface GithubApi {
  url: string;
  token: string;
  requests(): RequestRecord[];
  /** Requests of one route, in order. */
  requestsOf(route: Route): RequestRecord[];
  checkRuns(): StoredCheckRun[];
  comments(issue: number): StoredComment[];
  /** Adds `count` comments by someone else to issue `issue` (to push ours past the first page). */
  seedComments(issue: number, count: number, body?: (i: number) => string): void;
  /** The next `times` requests of `route` get `status` (a JSON error) without touching the state. */
  failNext(route: Route, status: number, times?: number): void;
  /** Every request of `route` gets `status` from now on (e.g. 403: the token lacks the permission). */
  deny(route: Route, status: number, message?: string): void;
  /** Answer 422 to any check-run update carrying an annotation for which `test` is true (like an invalid field). */
  rejectAnnotations(test: (a: Annotation) => boolean): void;
  /** Delay the next `times` answers of `route` by `ms`, after the request took effect (a lost or late answer). */
  delayNext(route: Route, ms: number, times?: number): void;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const DOCS = 'https://docs.github.com/rest';
const LEVELS = new Set(['notice', 'warning', 'failure']);
const CHECK_TEXT_LIMIT = 65535;
const COMMENT_LIMIT = 65536;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

const isPositiveInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/** GitHub's documented constraints on a check run's output (title and summary required beside annotations). */
function validateOutput(output: unknown, reject: (a: Annotation) => boolean): void {
  if (output === undefined) return;
  const o = output as Record<string, unknown>;
  if (typeof o.title !== 'string' || typeof o.summary !== 'string')
    throw new HttpError(422, 'Invalid request.\n\n"title", "summary" weren\'t supplied.');
  if (o.summary.length > CHECK_TEXT_LIMIT)
    throw new HttpError(422, 'Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied.');
  if (typeof o.text === 'string' && o.text.length > CHECK_TEXT_LIMIT)
    throw new HttpError(422, 'Invalid request.\n\ntext is too long.');
  if (o.annotations === undefined) return;
  if (!Array.isArray(o.annotations)) throw new HttpError(422, 'Invalid request.\n\nannotations must be an array.');
  if (o.annotations.length > 50)
    throw new HttpError(422, 'Invalid request.\n\nOnly 50 annotations are allowed per request.');
  for (const a of o.annotations as Record<string, unknown>[]) {
    if (
      typeof a.path !== 'string' ||
      a.path === '' ||
      !isPositiveInt(a.start_line) ||
      !isPositiveInt(a.end_line) ||
      typeof a.message !== 'string' ||
      !LEVELS.has(String(a.annotation_level))
    ) {
      throw new HttpError(422, `Invalid request.\n\nInvalid annotation: ${JSON.stringify(a).slice(0, 200)}`);
    }
    if ((a.end_line as number) < (a.start_line as number))
      throw new HttpError(422, 'Invalid request.\n\nend_line must be >= start_line.');
    if (typeof a.title === 'string' && a.title.length > 255)
      throw new HttpError(422, 'Invalid request.\n\ntitle is too long.');
    if (reject(a as unknown as Annotation))
      throw new HttpError(422, `Validation Failed: annotation for ${a.path} is invalid`);
  }
}

export async function startGithubApi(options: { token?: string } = {}): Promise<GithubApi> {
  const token = options.token ?? 'ghs_test_token';
  const log: RequestRecord[] = [];
  const runs: StoredCheckRun[] = [];
  const comments: StoredComment[] = [];
  const failures = new Map<Route, { status: number; times: number }>();
  const denied = new Map<Route, { status: number; message: string }>();
  const delays = new Map<Route, { ms: number; times: number }>();
  let rejectAnnotation: (a: Annotation) => boolean = () => false;
  let nextId = 1000;
  let url = '';

  function route(method: string, path: string): { route: Route; m: RegExpMatchArray } | undefined {
    const table: [string, RegExp, Route][] = [
      ['POST', /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/, 'checks.create'],
      ['PATCH', /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/, 'checks.update'],
      ['GET', /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/check-runs$/, 'checks.listForRef'],
      ['GET', /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, 'comments.list'],
      ['POST', /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, 'comments.create'],
      ['PATCH', /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/, 'comments.update'],
    ];
    for (const [verb, re, name] of table) {
      const m = method === verb ? re.exec(path) : null;
      if (m) return { route: name, m };
    }
    return undefined;
  }

  function handle(
    r: Route,
    m: RegExpMatchArray,
    body: Record<string, unknown>,
    query: URLSearchParams,
  ): { status: number; json: unknown; headers?: Record<string, string> } {
    const [owner, repo] = [m[1], m[2]];
    switch (r) {
      case 'checks.create': {
        if (
          typeof body.name !== 'string' ||
          body.name === '' ||
          typeof body.head_sha !== 'string' ||
          body.head_sha === ''
        ) {
          throw new HttpError(422, 'Invalid request.\n\n"name", "head_sha" weren\'t supplied.');
        }
        validateOutput(body.output, rejectAnnotation);
        const run: StoredCheckRun = {
          id: nextId++,
          owner,
          repo,
          name: body.name,
          head_sha: body.head_sha,
          external_id: body.external_id as string | undefined,
          status: String(body.status ?? 'queued'),
          conclusion: (body.conclusion as string | undefined) ?? null,
          details_url: body.details_url as string | undefined,
          output: { ...(body.output as object | undefined) },
          annotations: [],
        };
        delete (run.output as Record<string, unknown>).annotations;
        run.annotations.push(...((body.output as { annotations?: Annotation[] } | undefined)?.annotations ?? []));
        runs.push(run);
        return {
          status: 201,
          json: {
            ...run,
            html_url: `${url}/${owner}/${repo}/runs/${run.id}`,
            output: { ...run.output, annotations_count: run.annotations.length },
          },
        };
      }
      case 'checks.update': {
        const run = runs.find((x) => x.id === Number(m[3]) && x.owner === owner && x.repo === repo);
        if (!run) throw new HttpError(404, 'Not Found');
        if (body.status === 'completed' && body.conclusion === undefined)
          throw new HttpError(422, 'Invalid request.\n\n"conclusion" wasn\'t supplied.');
        validateOutput(body.output, rejectAnnotation);
        const out = body.output as
          { title: string; summary: string; text?: string; annotations?: Annotation[] } | undefined;
        if (out) {
          const { annotations, ...rest } = out;
          run.output = { ...run.output, ...rest };
          run.annotations.push(...(annotations ?? [])); // appended, as the docs say
        }
        if (body.conclusion !== undefined) {
          run.conclusion = String(body.conclusion);
          run.status = 'completed';
        } else if (body.status !== undefined) run.status = String(body.status);
        return { status: 200, json: { ...run, html_url: `${url}/${owner}/${repo}/runs/${run.id}` } };
      }
      case 'checks.listForRef': {
        const name = query.get('check_name');
        const found = runs.filter(
          (x) => x.owner === owner && x.repo === repo && x.head_sha === m[3] && (name === null || x.name === name),
        );
        return {
          status: 200,
          json: {
            total_count: found.length,
            check_runs: found.map((x) => ({ ...x, html_url: `${url}/${owner}/${repo}/runs/${x.id}` })),
          },
        };
      }
      case 'comments.list': {
        const issue = Number(m[3]);
        const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30)));
        const page = Math.max(1, Number(query.get('page') ?? 1));
        const all = comments.filter((c) => c.issue === issue);
        const last = Math.max(1, Math.ceil(all.length / perPage));
        const links: string[] = [];
        const pageUrl = (p: number) =>
          `${url}/repos/${owner}/${repo}/issues/${issue}/comments?per_page=${perPage}&page=${p}`;
        if (page < last) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`);
        if (page > 1) links.push(`<${pageUrl(page - 1)}>; rel="prev"`, `<${pageUrl(1)}>; rel="first"`);
        const data = all.slice((page - 1) * perPage, page * perPage).map((c) => ({
          id: c.id,
          body: c.body,
          user: c.user,
          html_url: `${url}/${owner}/${repo}/pull/${issue}#issuecomment-${c.id}`,
        }));
        return { status: 200, json: data, headers: links.length > 0 ? { link: links.join(', ') } : {} };
      }
      case 'comments.create':
      case 'comments.update': {
        if (typeof body.body !== 'string' || body.body === '')
          throw new HttpError(422, 'Validation Failed: body is missing');
        if (body.body.length > COMMENT_LIMIT)
          throw new HttpError(422, 'Validation Failed: Body is too long (maximum is 65536 characters)');
        let c: StoredComment | undefined;
        if (r === 'comments.create') {
          c = {
            id: nextId++,
            issue: Number(m[3]),
            body: body.body,
            user: { login: 'github-actions[bot]', type: 'Bot' },
            edits: 0,
          };
          comments.push(c);
        } else {
          c = comments.find((x) => x.id === Number(m[3]));
          if (!c) throw new HttpError(404, 'Not Found');
          c.body = body.body;
          c.edits++;
        }
        return {
          status: r === 'comments.create' ? 201 : 200,
          json: {
            id: c.id,
            body: c.body,
            user: c.user,
            html_url: `${url}/${owner}/${repo}/pull/${c.issue}#issuecomment-${c.id}`,
          },
        };
      }
    }
  }

  const server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'http://stand-in');
      const text = await readBody(req);
      const rec: RequestRecord = { method: req.method ?? 'GET', path: u.pathname, status: 0 };
      log.push(rec);
      try {
        if (req.headers.authorization !== `token ${token}`) throw new HttpError(401, 'Bad credentials');
        const found = route(rec.method, u.pathname);
        if (!found) throw new HttpError(404, 'Not Found');
        rec.route = found.route;
        const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        rec.body = body;
        const deny = denied.get(found.route);
        if (deny) throw new HttpError(deny.status, deny.message);
        const fail = failures.get(found.route);
        if (fail && fail.times > 0) {
          fail.times--;
          throw new HttpError(fail.status, fail.status >= 500 ? 'Server Error' : 'Injected failure');
        }
        const out = handle(found.route, found.m, body, u.searchParams);
        rec.status = out.status;
        const delay = delays.get(found.route);
        if (delay && delay.times > 0) {
          delay.times--;
          await new Promise((resolve) => setTimeout(resolve, delay.ms));
        }
        if (!res.destroyed) send(res, out.status, out.json, out.headers);
      } catch (e) {
        rec.status = e instanceof HttpError ? e.status : 500;
        if (!res.destroyed)
          send(res, rec.status, { message: e instanceof Error ? e.message : String(e), documentation_url: DOCS });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    requests: () => [...log],
    requestsOf: (r) => log.filter((x) => x.route === r),
    checkRuns: () => runs,
    comments: (issue) => comments.filter((c) => c.issue === issue),
    seedComments(issue, count, body = (i) => `An unrelated comment ${i}`) {
      for (let i = 0; i < count; i++)
        comments.push({ id: nextId++, issue, body: body(i), user: { login: 'someone', type: 'User' }, edits: 0 });
    },
    failNext: (r, status, times = 1) => {
      failures.set(r, { status, times });
    },
    deny: (r, status, message = 'Resource not accessible by integration') => {
      denied.set(r, { status, message });
    },
    rejectAnnotations: (test) => {
      rejectAnnotation = test;
    },
    delayNext: (r, ms, times = 1) => {
      delays.set(r, { ms, times });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A pull_request event payload file (GITHUB_EVENT_PATH) for PR `number` of acme/analytics at head `sha`. */
export function prEventFile(number: number, sha: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'pdbt-event-')), 'event.json');
  writeFileSync(
    p,
    JSON.stringify({
      pull_request: {
        number,
        head: { sha, repo: { full_name: 'acme/analytics' } },
        base: { repo: { full_name: 'acme/analytics' } },
      },
    }),
  );
  return p;
}
