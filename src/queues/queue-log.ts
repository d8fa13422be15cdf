import type { z } from 'zod';

/** Why a queue message failed its schema: each issue's field path and message (what the dead-letter queue and the log keep). */
export function issuesReason(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
}

/** One queue consumer's structured log lines (JSON, naming the queue). */
export function queueLog(queue: string): (level: 'error' | 'warn', fields: Record<string, unknown>) => void {
  return (level, fields) => console[level](JSON.stringify({ level, queue, ...fields }));
}
