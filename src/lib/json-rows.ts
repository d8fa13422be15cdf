/** JSON parameters stay well under D1's 2 MB value limit: long lists go in several statements. */
export const JSON_CHUNK_CHARS = 512 * 1024;

/**
 * Rows as JSON arrays of at most `maxChars` characters each, for `INSERT … SELECT … FROM json_each(?)`
 * statements: many rows per statement, in as few statements as D1's value limit allows.
 */
export function jsonChunks(rows: unknown[][], maxChars = JSON_CHUNK_CHARS): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (current.length > 0 && size + json.length + 1 > maxChars) {
      chunks.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(json);
    size += json.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(',')}]`);
  return chunks;
}
