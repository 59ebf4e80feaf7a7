// A local stand-in for GitHub's artifact service (results service, Twirp JSON) plus the Azure block-blob
// endpoints @actions/artifact's DefaultArtifactClient talks to. Implements exactly the calls made by
// uploadArtifact, listArtifacts, getArtifact and downloadArtifact for the current run:
//   POST /twirp/github.actions.results.api.v1.ArtifactService/{CreateArtifact,FinalizeArtifact,ListArtifacts,GetSignedArtifactURL}
//   PUT  /blob/artifacts/<id>.zip?sig=…&comp=block&blockid=…   (stage one block; 8 MiB each)
//   PUT  /blob/artifacts/<id>.zip?sig=…&comp=blocklist         (commit: XML list of block ids, in order)
//   GET  /blob/artifacts/<id>.zip?sig=…                         (download the committed zip)
// Twirp errors are always JSON: the client retries non-JSON bodies (and 429/5xx) 5 times from 3 s.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.ArtifactService/';

export type TwirpMethod = 'CreateArtifact' | 'FinalizeArtifact' | 'ListArtifacts' | 'GetSignedArtifactURL';
export type FailableCall = TwirpMethod | 'blob-block' | 'blob-blocklist' | 'blob-get';

export interface StoredArtifact {
  id: number;
  name: string;
  runId: string;
  jobId: string;
  mimeType?: string;
  expiresAt?: string;
  createdAt: Date;
  finalized: boolean;
  /** Size and `sha256:<hex>` digest reported by FinalizeArtifact (checked against the committed blob). */
  size?: number;
  digest?: string;
}

export interface CallRecord {
  call: FailableCall;
  status: number;
  name?: string;
}

export interface ArtifactService {
  url: string;
  token: string;
  runId: string;
  jobId: string;
  /** ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL, GITHUB_RUN_ID, … for a child process (or process.env). */
  env: Record<string, string>;
  artifacts(): StoredArtifact[];
  /** The committed zip of a finalized artifact of this run. Throws if there is none. */
  zipOf(name: string): Buffer;
  /** Every request handled, in order, with the status answered. */
  calls(): CallRecord[];
  /** Make the next `times` requests of that kind fail with `status` (JSON body for Twirp, XML for blob). */
  failNext(call: FailableCall, status: number, times?: number): void;
  close(): Promise<void>;
}

interface Blob {
  sig: string;
  blocks: Map<string, Buffer>;
  committed?: Buffer;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TWIRP_CODES: Record<number, string> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  409: 'already_exists',
  412: 'failed_precondition',
  429: 'resource_exhausted',
  500: 'internal',
  503: 'unavailable',
};

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function str(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw new HttpError(400, 'invalid_argument', `${key} is required`);
  return v;
}

export async function startArtifactService(): Promise<ArtifactService> {
  const runId = randomBytes(16).toString('hex');
  const jobId = randomBytes(16).toString('hex');
  // Unsigned JWT (alg none): the client only decodes it, like our stand-in.
  const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({
    scp: `Actions.ExampleScope Actions.Results:${runId}:${jobId}`,
    exp: Math.floor(Date.now() / 1000) + 3600,
  })}.`;
  const stored: StoredArtifact[] = [];
  const blobs = new Map<number, Blob>();
  const log: CallRecord[] = [];
  const failures = new Map<FailableCall, { status: number; times: number }>();
  let nextId = 1000;
  let baseUrl = '';

  const takeFailure = (call: FailableCall): number | undefined => {
    const f = failures.get(call);
    if (!f) return undefined;
    if (--f.times <= 0) failures.delete(call);
    return f.status;
  };
  const blobUrl = (id: number): string => `${baseUrl}/blob/artifacts/${id}.zip?sig=${blobs.get(id)?.sig}&se=2099-01-01`;
  const findArtifact = (name: string): StoredArtifact | undefined =>
    stored.find((a) => a.runId === runId && a.name === name);

  function authorize(req: IncomingMessage, body: Record<string, unknown>): void {
    const auth = req.headers.authorization ?? '';
    const payload = auth.startsWith('Bearer ') ? auth.slice(7).split('.')[1] : undefined;
    let scp = '';
    try {
      scp = String((JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as { scp?: unknown }).scp ?? '');
    } catch {
      /* answered below */
    }
    const scope = scp
      .split(' ')
      .find((s) => s.startsWith('Actions.Results:'))
      ?.split(':');
    if (!scope || scope.length !== 3) throw new HttpError(401, 'unauthenticated', 'missing or invalid runtime token');
    if (body.workflow_run_backend_id !== scope[1] || body.workflow_job_run_backend_id !== scope[2]) {
      throw new HttpError(403, 'permission_denied', 'token does not grant access to this run/job');
    }
  }

  const twirp: Record<TwirpMethod, (body: Record<string, unknown>) => object> = {
    CreateArtifact(body) {
      const name = str(body, 'name');
      if (body.version !== 7 && body.version !== 4)
        throw new HttpError(400, 'invalid_argument', `unsupported version ${String(body.version)}`);
      if (findArtifact(name))
        throw new HttpError(409, 'already_exists', 'an artifact with this name already exists on the workflow run');
      const id = nextId++;
      stored.push({
        id,
        name,
        runId,
        jobId,
        createdAt: new Date(),
        finalized: false,
        mimeType: typeof body.mime_type === 'string' ? body.mime_type : undefined,
        expiresAt: typeof body.expires_at === 'string' ? body.expires_at : undefined,
      });
      blobs.set(id, { sig: randomBytes(12).toString('hex'), blocks: new Map() });
      return { ok: true, signed_upload_url: blobUrl(id) };
    },
    FinalizeArtifact(body) {
      const a = findArtifact(str(body, 'name'));
      if (!a || a.finalized) throw new HttpError(404, 'not_found', 'no pending artifact with this name');
      const data = blobs.get(a.id)?.committed;
      if (!data) throw new HttpError(412, 'failed_precondition', 'blob was never committed');
      const size = Number(str(body, 'size'));
      if (size !== data.length) throw new HttpError(400, 'invalid_argument', `size ${size} != uploaded ${data.length}`);
      const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      if (body.hash !== undefined && body.hash !== digest)
        throw new HttpError(400, 'invalid_argument', `hash ${String(body.hash)} != ${digest}`);
      Object.assign(a, { finalized: true, size, digest });
      return { ok: true, artifact_id: String(a.id) };
    },
    ListArtifacts(body) {
      const nameFilter = body.name_filter,
        idFilter = body.id_filter;
      const list = stored.filter(
        (a) =>
          a.runId === runId &&
          a.finalized &&
          (nameFilter === undefined || a.name === nameFilter) &&
          (idFilter === undefined || String(a.id) === String(idFilter)),
      );
      return {
        artifacts: list.map((a) => ({
          workflow_run_backend_id: a.runId,
          workflow_job_run_backend_id: a.jobId,
          database_id: String(a.id),
          name: a.name,
          size: String(a.size),
          created_at: a.createdAt.toISOString(),
          digest: a.digest,
        })),
      };
    },
    GetSignedArtifactURL(body) {
      const a = findArtifact(str(body, 'name'));
      if (!a?.finalized) throw new HttpError(404, 'not_found', 'artifact not found');
      return { signed_url: blobUrl(a.id) };
    },
  };

  async function handleTwirp(req: IncomingMessage, res: ServerResponse, method: TwirpMethod): Promise<number> {
    const raw = (await readBody(req)).toString();
    const injected = takeFailure(method);
    if (injected) throw new HttpError(injected, TWIRP_CODES[injected] ?? 'unknown', `injected failure (${injected})`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw new HttpError(400, 'malformed', 'body is not JSON');
    }
    authorize(req, body);
    const answer = JSON.stringify(twirp[method](body)); // may throw: headers must not be sent yet
    res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    return 200;
  }

  async function handleBlob(req: IncomingMessage, res: ServerResponse, url: URL): Promise<CallRecord> {
    const id = Number(/^\/blob\/artifacts\/(\d+)\.zip$/.exec(url.pathname)?.[1]);
    const blob = blobs.get(id);
    const comp = url.searchParams.get('comp');
    const call: FailableCall =
      req.method === 'GET' ? 'blob-get' : comp === 'blocklist' ? 'blob-blocklist' : 'blob-block';
    const name = stored.find((a) => a.id === id)?.name;
    const data = await readBody(req); // always drain the request body
    const xmlError = (status: number, code: string): CallRecord => {
      res
        .writeHead(status, { 'content-type': 'application/xml', 'x-ms-error-code': code })
        .end(`<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
      return { call, status, name };
    };
    const injected = takeFailure(call);
    if (injected) return xmlError(injected, 'InjectedFailure');
    if (!blob || url.searchParams.get('sig') !== blob.sig) return xmlError(403, 'AuthenticationFailed');
    const headers = {
      'x-ms-request-id': randomBytes(8).toString('hex'),
      'x-ms-version': '2025-01-05',
      'x-ms-request-server-encrypted': 'true',
    };
    if (req.method === 'PUT' && comp === 'block') {
      const blockId = url.searchParams.get('blockid');
      if (!blockId) return xmlError(400, 'InvalidQueryParameterValue');
      blob.blocks.set(blockId, data);
    } else if (req.method === 'PUT' && comp === 'blocklist') {
      const ids = [...data.toString().matchAll(/<(Latest|Uncommitted|Committed)>([^<]*)<\/\1>/g)].map((m) => m[2]);
      const parts = ids.map((b) => blob.blocks.get(b));
      if (parts.some((p) => p === undefined)) return xmlError(400, 'InvalidBlockList');
      blob.committed = Buffer.concat(parts as Buffer[]);
      blob.blocks.clear();
      res
        .writeHead(201, { ...headers, etag: `"0x${id.toString(16)}"`, 'last-modified': new Date().toUTCString() })
        .end();
      return { call, status: 201, name };
    } else if (req.method === 'GET' && blob.committed && stored.find((a) => a.id === id)?.finalized) {
      res
        .writeHead(200, { ...headers, 'content-type': 'application/zip', 'content-length': blob.committed.length })
        .end(blob.committed);
      return { call, status: 200, name };
    } else {
      return xmlError(req.method === 'GET' ? 404 : 400, req.method === 'GET' ? 'BlobNotFound' : 'UnsupportedOperation');
    }
    res.writeHead(201, headers).end();
    return { call, status: 201, name };
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', baseUrl);
    const respond = async (): Promise<void> => {
      if (req.method === 'POST' && url.pathname.startsWith(TWIRP_PREFIX)) {
        const method = url.pathname.slice(TWIRP_PREFIX.length);
        if (!(method in twirp)) throw new HttpError(404, 'bad_route', `no such method ${method}`);
        try {
          log.push({ call: method as TwirpMethod, status: await handleTwirp(req, res, method as TwirpMethod) });
        } catch (e) {
          log.push({ call: method as TwirpMethod, status: e instanceof HttpError ? e.status : 500 });
          throw e;
        }
      } else if (url.pathname.startsWith('/blob/')) {
        log.push(await handleBlob(req, res, url));
      } else {
        throw new HttpError(404, 'bad_route', `no route for ${req.method} ${url.pathname}`);
      }
    };
    respond().catch((e: unknown) => {
      const err = e instanceof HttpError ? e : new HttpError(500, 'internal', String(e));
      if (!res.headersSent) res.writeHead(err.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: err.code, msg: err.message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    token,
    runId,
    jobId,
    env: {
      ACTIONS_RUNTIME_TOKEN: token,
      ACTIONS_RESULTS_URL: `${baseUrl}/`,
      ACTIONS_RUNTIME_URL: `${baseUrl}/`,
      GITHUB_SERVER_URL: 'https://github.com', // anything else counts as GHES, which the client refuses
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_REPOSITORY: 'octo/parallel-dbt-test',
    },
    artifacts: () => stored.map((a) => ({ ...a })),
    zipOf(name) {
      const a = findArtifact(name);
      const data = a?.finalized ? blobs.get(a.id)?.committed : undefined;
      if (!data) throw new Error(`no finalized artifact named ${name}`);
      return data;
    },
    calls: () => [...log],
    failNext(call, status, times = 1) {
      failures.set(call, { status, times });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
