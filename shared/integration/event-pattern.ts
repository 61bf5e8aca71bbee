/**
 * EventBridge event patterns as plain JSON, and the small part of EventBridge that reads
 * them: a matcher for the pattern syntax `shared/topology.ts` uses and a `$.a.b` path
 * reader for the input paths of a target. CDK hands the same patterns and paths to the
 * real EventBridge; the local runtime evaluates them here.
 *
 * Supported (EventBridge semantics,
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html and
 * eb-create-pattern-operators.html):
 * - nested objects: every field of the pattern must match the event's field of that name;
 * - arrays of exact values (strings, numbers, booleans, null): the field matches when it
 *   equals any of them; when the event's field is an array, when any element does;
 * - `{ "prefix": "…" }`, `{ "suffix": "…" }` on string values;
 * - `{ "exists": true | false }` on leaf fields.
 * Anything else (`anything-but`, `numeric`, `wildcard`, `$or`, …) is refused by
 * `assertSupportedPattern` rather than silently matching differently from the cloud.
 */

export type PatternScalar = string | number | boolean | null;
export type PatternOperator = { readonly prefix: string } | { readonly suffix: string } | { readonly exists: boolean };
export type PatternMatcher = PatternScalar | PatternOperator;
export interface EventPattern {
  readonly [field: string]: readonly PatternMatcher[] | EventPattern;
}

export class UnsupportedPatternError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`event pattern at ${path || '(root)'}: ${detail}`);
    this.name = 'UnsupportedPatternError';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isScalar = (value: unknown): value is PatternScalar =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** Throws `UnsupportedPatternError` unless the pattern uses only the syntax above. */
export function assertSupportedPattern(pattern: unknown, path = ''): asserts pattern is EventPattern {
  if (!isRecord(pattern)) throw new UnsupportedPatternError(path, 'a pattern level must be an object');
  const fields = Object.entries(pattern);
  if (fields.length === 0) throw new UnsupportedPatternError(path, 'an empty object matches nothing useful');
  for (const [field, rule] of fields) {
    const at = path ? `${path}.${field}` : field;
    if (field.startsWith('$')) throw new UnsupportedPatternError(at, `${field} is not supported`);
    if (isRecord(rule)) {
      assertSupportedPattern(rule, at);
      continue;
    }
    if (!Array.isArray(rule) || rule.length === 0) throw new UnsupportedPatternError(at, 'a leaf must be a non-empty array');
    for (const matcher of rule as unknown[]) {
      if (isScalar(matcher)) continue;
      if (!isRecord(matcher)) throw new UnsupportedPatternError(at, `unsupported matcher ${JSON.stringify(matcher)}`);
      const keys = Object.keys(matcher);
      const [operator] = keys;
      const operand = operator === undefined ? undefined : matcher[operator];
      const ok =
        keys.length === 1 &&
        (((operator === 'prefix' || operator === 'suffix') && typeof operand === 'string') ||
          (operator === 'exists' && typeof operand === 'boolean'));
      if (!ok) throw new UnsupportedPatternError(at, `unsupported matcher ${JSON.stringify(matcher)}`);
    }
  }
}

/** Leaf values of an event field: a scalar, or the scalar elements of an array. */
function leafValues(value: unknown): PatternScalar[] | null {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.filter(isScalar);
  return isScalar(value) ? [value] : [];
}

function matchesLeaf(rule: readonly PatternMatcher[], value: unknown): boolean {
  const values = leafValues(value);
  return rule.some((matcher) => {
    if (isScalar(matcher)) return values !== null && values.some((v) => v === matcher);
    if ('exists' in matcher) {
      // `exists` applies to leaves: an object (or an array of objects only) is no leaf.
      const present = values !== null && values.length > 0;
      return matcher.exists ? present : values === null;
    }
    if (values === null) return false;
    if ('prefix' in matcher) return values.some((v) => typeof v === 'string' && v.startsWith(matcher.prefix));
    return values.some((v) => typeof v === 'string' && v.endsWith(matcher.suffix));
  });
}

/** Does `event` match `pattern`? Fields the pattern does not name are ignored. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  const object = isRecord(event) ? event : {};
  return Object.entries(pattern).every(([field, rule]) => {
    const value = Object.hasOwn(object, field) ? object[field] : undefined;
    if (Array.isArray(rule)) return matchesLeaf(rule as readonly PatternMatcher[], value);
    // A missing or non-object field is an empty level: only `exists: false` leaves match in it.
    return matchesPattern(rule as EventPattern, value);
  });
}

/**
 * Reads an EventBridge input path: `$`, `$.detail.object.key`, `$.detail-type`,
 * `$.detail['request-id']`, `$.resources[0]`. Undefined when any step is missing.
 */
export function readPath(event: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`input path must start with $: ${path}`);
  const step = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]/y;
  let value: unknown = event;
  let at = 1;
  while (at < path.length) {
    step.lastIndex = at;
    const match = step.exec(path);
    if (match === null) throw new Error(`unsupported input path ${path} at ${at}`);
    at = step.lastIndex;
    const [, name, index, quoted] = match;
    if (index !== undefined) {
      value = Array.isArray(value) ? value[Number(index)] : undefined;
    } else {
      const key = name ?? quoted ?? '';
      value = isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined;
    }
    if (value === undefined) return undefined;
  }
  return value;
}

/** Is this a path `readPath` understands? (Used to validate topology tables.) */
export function isInputPath(path: string): boolean {
  try {
    readPath({}, path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Environment variables from an event through a `{ NAME: '$.path' }` mapping, the way an
 * ECS target's container override fills them: strings as they are, other JSON values
 * serialized. A path the event lacks is reported in `missing` and left out of `env`.
 */
export function environmentFrom(
  mapping: Readonly<Record<string, string>>,
  event: unknown,
): { env: Record<string, string>; missing: string[] } {
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, path] of Object.entries(mapping)) {
    const value = readPath(event, path);
    if (value === undefined || value === null) missing.push(name);
    else env[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return { env, missing };
}
