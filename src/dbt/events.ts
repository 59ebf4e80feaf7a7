// dbt's JSON log events (`--log-format json`): their shape, and the node outcomes they announce (info level;
// dbt-core events/types.py).
import { knownStatus, type KnownStatus } from './statuses.js';

/** One line of `--log-format json` output. */
export interface DbtLogEvent {
  info: { name: string; code?: string; level: string; msg: string; ts?: string; invocation_id?: string };
  data: {
    node_info?: {
      unique_id: string;
      node_status?: string;
      resource_type?: string;
      node_path?: string;
      node_name?: string;
    };
    [k: string]: unknown;
  };
}

/** Events that carry a node's final result at info level. */
const RESULT_EVENTS = new Set([
  'LogModelResult',
  'LogTestResult',
  'LogSeedResult',
  'LogSnapshotResult',
  'LogNodeResult',
  'LogFunctionResult',
  'LogNodeNoOpResult',
  'SkippingDetails',
]);

export interface NodeEventResult {
  uid: string;
  status: KnownStatus;
  seconds?: number;
  message: string;
}

/** The final outcome of one node, if this event announces one. */
export function nodeResultOf(ev: DbtLogEvent): NodeEventResult | undefined {
  if (!RESULT_EVENTS.has(ev.info.name)) return undefined;
  const ni = ev.data.node_info;
  if (!ni?.unique_id) return undefined;
  const st =
    ev.info.name === 'SkippingDetails'
      ? 'skipped'
      : typeof ni.node_status === 'string'
        ? knownStatus(ni.node_status)
        : undefined;
  if (st === undefined) return undefined;
  const seconds = typeof ev.data.execution_time === 'number' ? ev.data.execution_time : undefined;
  return { uid: ni.unique_id, status: st, seconds, message: ev.info.msg };
}
