import { concatBytes } from '../../lib/encoding';
import type { ImageType } from './media.service';

/**
 * Removes, from an encoded image, every container that can carry words instead of pixels, after the
 * Images binding re-encoded it: Kith's guarantee of no metadata must not rest on one encoder's defaults
 * (Cloudflare's keeps a JPEG's EXIF copyright tag unless told otherwise, and passes some animations
 * through untouched). Byte-level only, nothing is decoded:
 *
 * - JPEG: every APP1..APP15 segment (EXIF, XMP, ICC profile, Photoshop/IPTC, maker data) and every COM
 *   segment before the scan; APP0 (JFIF) and the coding segments stay, the scan is copied as it is;
 * - PNG: `tEXt`, `zTXt`, `iTXt`, `eXIf`, `tIME` and `iCCP` chunks;
 * - WebP: `EXIF`, `XMP ` and `ICCP` chunks, with their `VP8X` flags cleared and the RIFF size fixed.
 *
 * Colour profiles go too: the binding applies them to the pixels before it writes. Bytes it does not
 * understand (a truncated file) are answered as they came.
 */
export function withoutMetadataContainers(bytes: Uint8Array, type: ImageType): Uint8Array {
  if (type === 'image/jpeg') return jpeg(bytes);
  if (type === 'image/png') return png(bytes);
  if (type === 'image/webp') return webp(bytes);
  return bytes;
}

const ascii = (bytes: Uint8Array, from: number, length: number) => String.fromCharCode(...bytes.subarray(from, from + length));

function jpeg(bytes: Uint8Array): Uint8Array {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return bytes;
  const kept: Uint8Array[] = [bytes.subarray(0, 2)];
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return bytes;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // the scan (and everything after it) is pixels
    const end = at + 2 + ((bytes[at + 2]! << 8) | bytes[at + 3]!);
    if (end > bytes.length) return bytes;
    const words = (marker >= 0xe1 && marker <= 0xef) || marker === 0xfe;
    if (!words) kept.push(bytes.subarray(at, end));
    at = end;
  }
  kept.push(bytes.subarray(at));
  return concatBytes(kept);
}

const PNG_WORDS = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME', 'iCCP']);

function png(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  let at = 8;
  while (at + 12 <= bytes.length) {
    const end = at + 12 + view.getUint32(at);
    if (end > bytes.length) return bytes;
    if (!PNG_WORDS.has(ascii(bytes, at + 4, 4))) kept.push(bytes.subarray(at, end));
    at = end;
  }
  if (at !== bytes.length) return bytes;
  return concatBytes(kept);
}

const WEBP_WORDS: Record<string, number> = { EXIF: 0x08, 'XMP ': 0x04, ICCP: 0x20 };

function webp(bytes: Uint8Array): Uint8Array {
  if (ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WEBP') return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [];
  let dropped = 0;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at + 4, true);
    const end = at + 8 + length + (length % 2);
    if (end > bytes.length) return bytes;
    const flag = WEBP_WORDS[ascii(bytes, at, 4)];
    if (flag === undefined) kept.push(bytes.subarray(at, end).slice());
    else dropped |= flag;
    at = end;
  }
  if (dropped === 0) return bytes;
  const vp8x = kept.find((chunk) => ascii(chunk, 0, 4) === 'VP8X');
  if (vp8x) vp8x[8] = vp8x[8]! & ~dropped;
  const body = concatBytes(kept);
  const header = new Uint8Array(12);
  header.set(bytes.subarray(0, 12));
  new DataView(header.buffer).setUint32(4, 4 + body.byteLength, true);
  return concatBytes([header, body]);
}
