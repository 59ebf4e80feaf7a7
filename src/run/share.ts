// One run of several forked workers that behaves as one dbt invocation: which worker runs on-run-start (and creates
// the schemas of the whole run), which wait for it, what each learns of the others' statuses (their relations enter
// its cache; gated nodes wait for their parents), and the end-only invocation that runs on-run-end once, after every
// chunk, with the results of the whole run. The Python side is worker_host.py SharedRun; DBT-FACTS §16 says why.
import { START_UID, type CachedRelationKey, type PeerStatus, type PoolSpec, type WorkerShare } from '../dbt/process.js';
import { bucketOf } from '../dbt/statuses.js';

/** The run's status board, as the scheduler shares it with a chunk. */
export interface StatusFeed {
  /** The final status of a node of any chunk, when known. */
  statusOf: (uid: string) => string | undefined;
  /** Every final status from now on (any chunk); returns the unsubscribe. */
  subscribe: (listener: (uid: string, status: string) => void) => () => void;
  /** Every final status known now (a pooled worker starting late needs them all). */
  known: () => [string, string][];
}

/**
 * A pool grew: at (epoch ms) `workers` took nodes, after one measured its dbt using `load` cores (and `cpuPerNode`
 * CPU seconds per node it had ended). `predictedMakespan`: the run's makespan predicted again then, for the shape it
 * grew to with what it had measured (seconds from the first chunk's start; run/execute.ts ExecuteInput.repredict).
 */
export interface PoolGrowth {
  at: number;
  workers: number;
  load: number;
  cpuPerNode?: number;
  predictedMakespan?: number;
}

/**
 * A pool predicted its makespan again once a share of its nodes had ended (run/execute.ts), grown or not: at (epoch
 * ms), with `workers` taking nodes, from `nodes` ended nodes' times and the workers' own CPU per node (a growth's
 * prediction comes early, from few nodes, and the plan's first-run CPU per node is a guess).
 */
export interface PoolCalibration {
  at: number;
  workers: number;
  nodes: number;
  cpuPerNode: number;
  predictedMakespan: number;
}

/** One invocation's part in the run, and what the chunk runner tells back when it has ended. */
export interface SharedInvocation {
  share: WorkerShare;
  ended: () => void;
}

export class RunShare {
  private startOwned = false;
  /** undefined until on-run-start has run (or its worker ended without saying so); true: it failed. */
  private startBlocks: boolean | undefined;
  /** The subscribers of the invocations that run now (the host's notify for each): START_UID and resends reach them. */
  private readonly listeners = new Set<(uid: string, status: PeerStatus) => void>();
  /** Per running invocation, how to tell it of relations another worker's cache dropped. */
  private readonly droppers = new Map<WorkerShare, (relations: CachedRelationKey[]) => void>();

  /** Each time a pool grew (a worker measured its dbt CPU-bound with ready nodes waiting): when, to how many workers. */
  readonly growth: PoolGrowth[] = [];
  /** Told of each growth as it happens. */
  onGrowth?: (g: PoolGrowth) => void;
  /** Each pooled worker's latest measure of its own dbt (its `measured` notices). */
  private readonly measures = new Map<WorkerShare, { nodes: number; cpuPerNode: number }>();
  /** Told each time a worker measured its dbt. */
  onMeasured?: () => void;

  /**
   * @param runNodes every node of the run (all chunks)
   * @param nodeGates whether a node whose parents run in other chunks waits at its gate for them inside dbt
   * @param blocks whether a node's final status makes dbt skip what follows it (statuses.ts blocksDownstream)
   */
  constructor(
    readonly runNodes: string[],
    readonly nodeGates: boolean,
    private readonly blocks: (uid: string, status: string) => boolean,
  ) {}

  /** A final status as a worker needs it (PeerStatus). */
  private peer(uid: string, status: string): PeerStatus {
    if (this.blocks(uid, status)) return 1;
    const bucket = bucketOf(status);
    return bucket === 'passed' || bucket === 'warned' ? 0 : 2;
  }

  /** Whether on-run-start has run (or is settled as failed): what waiting workers need. */
  get startSettled(): boolean {
    return this.startBlocks !== undefined;
  }

  /**
   * The part of one invocation: the first invocation of the run runs on-run-start (and creates every schema of the
   * run), later ones wait for it or skip it; none runs on-run-end. `waitsFor`: gated plans, a node's parents in
   * other chunks; `statusOf` gives what of them is known (this chunk's own earlier results first). `pool`: the
   * worker takes ready nodes from the run's pool, and starts knowing every final status known so far.
   */
  invocation(
    feed: StatusFeed,
    waitsFor: Record<string, string[]> | undefined,
    statusOf: (uid: string) => string | undefined,
    onRunning?: (startupCpu: number | undefined) => void,
    pool?: PoolSpec,
  ): SharedInvocation {
    let start: WorkerShare['start'];
    if (!this.startOwned) {
      this.startOwned = true;
      start = 'run';
    } else start = this.startBlocks !== undefined ? 'skip' : 'wait';
    const known = new Map<string, PeerStatus>();
    for (const parents of Object.values(waitsFor ?? {})) {
      for (const p of parents) {
        const st = statusOf(p);
        if (st !== undefined) known.set(p, this.peer(p, st));
      }
    }
    if (pool !== undefined) for (const [uid, st] of feed.known()) known.set(uid, this.peer(uid, st));
    if (this.startBlocks !== undefined) known.set(START_UID, this.startBlocks ? 1 : 0);
    const share: WorkerShare = {
      runNodes: this.runNodes,
      start,
      end: 'skip',
      waitsFor,
      known: [...known],
      pool,
      subscribe: (listener) => {
        const off = feed.subscribe((uid, st) => listener(uid, this.peer(uid, st)));
        this.listeners.add(listener);
        return () => {
          off();
          this.listeners.delete(listener);
        };
      },
      onNotice: (n) => {
        if (n.notice === 'started' && start === 'run') this.settleStart(!n.ok);
        else if (n.notice === 'running') onRunning?.(n.cpu);
        else if (n.notice === 'grew')
          this.grew({ at: Date.now(), workers: n.workers, load: n.load, cpuPerNode: n.cpu_per_node });
        else if (n.notice === 'measured') {
          this.measures.set(share, { nodes: n.nodes, cpuPerNode: n.cpu_per_node });
          this.onMeasured?.();
        } else if (n.notice === 'dropped')
          for (const [other, tell] of this.droppers) if (other !== share) tell(n.relations);
      },
      subscribeDrops: (listener) => {
        this.droppers.set(share, listener);
        return () => this.droppers.delete(share);
      },
    };
    // A start worker that ended without saying its hooks ran (crash, interruption) must not hold the others.
    return {
      share,
      ended: () => {
        if (start === 'run') this.settleStart(true);
      },
    };
  }

  /**
   * Sends these nodes' final statuses again to every running invocation (a worker ignores what it already had):
   * the stall watch's first remedy for a status that did not arrive.
   */
  resend(uids: string[], statusOf: (uid: string) => string | undefined): void {
    for (const uid of uids) {
      const st = statusOf(uid);
      if (st === undefined) continue;
      for (const l of this.listeners) l(uid, this.peer(uid, st));
    }
    if (this.startBlocks !== undefined) for (const l of this.listeners) l(START_UID, this.startBlocks ? 1 : 0);
  }

  /** The end-only invocation: no node runs; on-run-end gets the results in `resultsFile` (the whole run's). */
  endInvocation(resultsFile: string): WorkerShare {
    return {
      runNodes: this.runNodes,
      start: 'skip',
      end: 'run',
      results: resultsFile,
      known: [[START_UID, this.startBlocks === true ? 1 : 0]],
      subscribe: () => () => {},
    };
  }

  /**
   * dbt's CPU seconds per node as the pooled workers measured their own (the latest measure of each, weighed by the
   * nodes it covers), and over how many nodes; undefined before any worker measured.
   */
  measuredCpu(): { nodes: number; cpuPerNode: number } | undefined {
    let nodes = 0;
    let cpu = 0;
    for (const m of this.measures.values()) {
      nodes += m.nodes;
      cpu += m.nodes * m.cpuPerNode;
    }
    return nodes > 0 ? { nodes, cpuPerNode: cpu / nodes } : undefined;
  }

  private grew(g: PoolGrowth): void {
    if (this.growth.some((x) => x.workers >= g.workers)) return;
    this.growth.push(g);
    this.onGrowth?.(g);
  }

  private settleStart(blocks: boolean): void {
    if (this.startBlocks !== undefined) return;
    this.startBlocks = blocks;
    for (const l of [...this.listeners]) l(START_UID, blocks ? 1 : 0);
  }
}
