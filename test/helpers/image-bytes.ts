// Byte-level builders for hand-made image files (animations, metadata containers): tests' tools, not
// parsers the worker uses.
import { concatBytes } from '../../src/lib/encoding';

export const ascii = (text: string) => new TextEncoder().encode(text);

export const cat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

export const be32 = (n: number) => new Uint8Array([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
export const le32 = (n: number) => new Uint8Array([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24]);
export const le24 = (n: number) => new Uint8Array([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff]);

export function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A PNG chunk: length, type, data, CRC. */
export const pngChunk = (type: string, data: Uint8Array) => cat(be32(data.length), ascii(type), data, be32(crc32(cat(ascii(type), data))));
