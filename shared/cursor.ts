/**
 * Opaque page cursors: base64url JSON holding the last key of a page under a one-letter field.
 * They carry only that key; the tenant always comes from the caller.
 */
export function opaqueCursor(field: string) {
  return {
    encode: (key: string): string => Buffer.from(JSON.stringify({ [field]: key })).toString('base64url'),
    /** The key, or null when the cursor is not one this codec made. */
    decode(cursor: string): string | null {
      try {
        const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
        const key = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[field] : undefined;
        return typeof key === 'string' ? key : null;
      } catch {
        return null;
      }
    },
  };
}
