/** Object keys from a recording's `key_template`. */
export interface KeyParts {
  readonly tenant_id: string;
  readonly recording_id: string;
  /** `YYYY-MM-DD` of the recording's creation. */
  readonly date: string;
}

export function objectKey(template: string, parts: KeyParts, name: string): string {
  return template.replace(/\{(\w+)\}/g, (_, p: string) => (p === 'name' ? name : (parts as unknown as Record<string, string>)[p] ?? ''));
}

/**
 * The static prefix under which every object of the recording lives: the template up to
 * `{name}` with the other placeholders filled in. It contains the recording id because the
 * request schema requires `{recording_id}` before `{name}`.
 */
export function recordingPrefix(template: string, parts: KeyParts): string {
  const upToName = template.slice(0, template.indexOf('{name}'));
  return objectKey(upToName, parts, '');
}
