// How a message that failed its schema is described in a dead letter, a log line or a
// rejection: every issue as "path: problem", the message itself named by `root`.
import type { z } from 'zod';

export function describeIssues(error: z.ZodError, root = '(message)'): string {
  return error.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}
