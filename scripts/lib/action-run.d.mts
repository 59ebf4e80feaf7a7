export const ROOT: string;
export const DBT_BIN: string;
export const DIST_BUNDLE: string;
export function parseOutputs(text: string): Record<string, string>;
export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  outputs: Record<string, string>;
  summary: string;
  dir: string;
  runnerTemp: string;
}
export function runAction(
  inputs: Record<string, string>,
  opts?: { bundle?: string; env?: Record<string, string>; cwd?: string; onStdout?: (s: string) => void; onSpawn?: (child: import('node:child_process').ChildProcess) => void; signalAfterMs?: number; signal?: string; runnerTemp?: string },
): Promise<ActionRun>;
export interface WorkflowAnnotation { level: string; message: string; file?: string; title?: string; line?: string }
export function annotations(stdout: string): WorkflowAnnotation[];
