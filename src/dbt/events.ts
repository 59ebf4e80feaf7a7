// Reads node outcomes from dbt's JSON log events (info level; dbt-core events/types.py).
import type { DbtLogEvent } from './types.js';
import { isFinalStatus } from './statuses.js';

/** Events that carry a node's final result at info level. */
const RESULT_EVENTS = new Set([
  'LogModelResult', 'LogTestResult', 'LogSeedResult', 'LogSnapshotResult', 'LogNodeResult', 'LogFunctionResult',
  'LogNodeNoOpResult', 'SkippingDetails',
]);

export interface NodeEventResult {
  uid: string;
  status: string;
  seconds?: number;
  message: string;
}

/** The final outcome of one node, if this event announces one. */
export function nodeResultOf(ev: DbtLogEvent): NodeEventResult | undefined {
  if (!RESULT_EVENTS.has(ev.info.name)) return undefined;
  const ni = ev.data.node_info;
  if (!ni?.unique_id) return undefined;
  let st = String(ni.node_status ?? '').toLowerCase();
  if (ev.info.name === 'SkippingDetails') st = 'skipped';
  if (!isFinalStatus(st)) return undefined;
  const seconds = typeof ev.data.execution_time === 'number' ? ev.data.execution_time : undefined;
  return { uid: ni.unique_id, status: st, seconds, message: ev.info.msg };
}
