import { env } from 'cloudflare:workers';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../src/modules/exports/archive-writer';

/** `n` bytes that do not compress (so the archive spans several 8 MiB parts). */
function noise(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(bytes.subarray(i, Math.min(n, i + 65_536)));
  return bytes;
}

const streamOf = (bytes: Uint8Array, chunk = 1_000_003) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += chunk) controller.enqueue(bytes.slice(i, i + chunk));
      controller.close();
    },
  });

describe('ArchiveWriter', () => {
  it('should stream an archive larger than one part into R2, byte for byte', async () => {
    const key = `exports/test/${crypto.randomUUID()}.zip`;
    const upload = await env.MEDIA.createMultipartUpload(key);
    const writer = new ArchiveWriter(upload);
    const big = noise(17 * 1024 * 1024);
    await writer.jsonArray('rows.json', (async function* () {
      for (let page = 0; page < 3; page++) yield Array.from({ length: 2 }, (_, i) => ({ page, i }));
      yield [];
    })());
    await writer.bytes('media/big.bin', streamOf(big));
    await writer.jsonArray('empty.json', (async function* () {})());
    const size = await writer.finish();
    const stored = await env.MEDIA.get(key);
    expect(stored?.size).toBe(size);
    const files = unzipSync(new Uint8Array(await stored!.arrayBuffer()));
    expect(JSON.parse(strFromU8(files['rows.json']!))).toEqual([0, 1, 2].flatMap((page) => [{ page, i: 0 }, { page, i: 1 }]));
    expect(JSON.parse(strFromU8(files['empty.json']!))).toEqual([]);
    expect(files['media/big.bin']!.length).toBe(big.length);
    const digest = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    expect(await digest(files['media/big.bin']!)).toEqual(await digest(big));
    await env.MEDIA.delete(key);
  });
});
