/** A zod validation's issues as messages naming their fields, bounded. */
import type * as z from 'zod';

/** Issues reported at most: the rest are counted (the host bounds what it publishes anyway). */
const MAX_ISSUES = 50;

/** One message per issue, each naming the field: `files[0].path: Invalid input: expected string...`. */
export function issueMessages(error: z.ZodError): string[] {
  const { issues } = error;
  const messages = issues.slice(0, MAX_ISSUES).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  if (issues.length > MAX_ISSUES) messages.push(`… and ${issues.length - MAX_ISSUES} more issues`);
  return messages;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(body)';
  return path
    .map((key, index) => {
      if (typeof key === 'number') return `[${key}]`;
      const name = String(key);
      return index === 0 ? name : `.${name}`;
    })
    .join('');
}
