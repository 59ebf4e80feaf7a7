// Every input name of action.yml, in one place.
export const Input = {
  Command: 'command',
  Select: 'select',
  Exclude: 'exclude',
  Selector: 'selector',
  Groups: 'groups',
  Chunks: 'chunks',
  Parallel: 'parallel',
  Threads: 'threads',
  MaxConnections: 'max-connections',
  ProjectDir: 'project-dir',
  ProfilesDir: 'profiles-dir',
  Target: 'target',
  Vars: 'vars',
  State: 'state',
  Defer: 'defer',
  Dbt: 'dbt',
  TimeoutMinutes: 'timeout-minutes',
  UploadArtifacts: 'upload-artifacts',
  IfNoNodes: 'if-no-nodes',
  WorkDir: 'work-dir',
  PlanOnly: 'plan-only',
  Timings: 'timings',
  Retries: 'retries',
  RetryOn: 'retry-on',
  FailFast: 'fail-fast',
  StaggerSeconds: 'stagger-seconds',
  MemoryLimit: 'memory-limit-percent',
  GithubToken: 'github-token',
  CheckName: 'check-name',
  PrComment: 'pr-comment',
  ArtifactName: 'artifact-name',
  Mode: 'mode',
  Shards: 'shards',
  Shard: 'shard',
  ShardPlan: 'shard-plan',
  RetentionDays: 'retention-days',
} as const;

export type InputName = (typeof Input)[keyof typeof Input];

export const COMMANDS = ['build', 'run', 'test', 'seed', 'snapshot'] as const;
export type DbtCommand = (typeof COMMANDS)[number];
