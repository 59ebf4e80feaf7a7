// Annotations for the problem nodes, most important first (GitHub shows 10 errors and 10 warnings per step).
import { problems, type RunReport } from './model.js';

export interface Annotation {
  level: 'error' | 'warning';
  title: string;
  message: string;
  file?: string;
}

export function annotationsFor(r: RunReport): Annotation[] {
  return problems(r.nodes).map((n) => ({
    level: n.bucket === 'warned' ? 'warning' : 'error',
    title: `dbt ${n.resourceType} ${n.name}: ${n.status}`,
    message: (n.message ?? n.status).slice(0, 4000),
    file: n.file,
  }));
}
