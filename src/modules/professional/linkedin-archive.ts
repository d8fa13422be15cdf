import { Unzip, UnzipInflate } from 'fflate';
import type { Context } from 'hono';
import { ApiError } from '../../lib/errors';
import { concatBytes } from '../../lib/encoding';
import type { AppEnv } from '../../lib/types';
import { readBounded, readMultipartFile } from '../media/media.service';

/**
 * Upload caps: the archive itself, what it unpacks to, and how many entries it may hold (the contract's);
 * then what is parsed, so no upload holds more in memory than a Worker has: the CSV files the import
 * reads, together (a whole profile is far smaller: PUT takes 1 MB), and the rows of each.
 */
export const IMPORT_LIMITS = { archiveBytes: 20 * 1024 * 1024, unpackedBytes: 100 * 1024 * 1024, entries: 1000, csvBytes: 5 * 1024 * 1024, csvRows: 10_000 } as const;
/** Compressed bytes handed to the inflater at a time: DEFLATE expands at most ~1,032×, so one step yields ≤ ~17 MB. */
const INFLATE_STEP = 16 * 1024;

const archiveTooLarge = () => new ApiError('payload_too_large', 'The upload is larger than 20 MB.', { errors: [{ field: 'file', message: 'is larger than 20 MB' }] });
const csvTooLarge = (path: string) => {
  const message = `${path.split('/').pop()}: the CSV files this import reads hold more than ${IMPORT_LIMITS.csvBytes / 1024 / 1024} MB`;
  return new ApiError('payload_too_large', `${message}.`, { errors: [{ field: 'file', message }] });
};
const notAnExport = () =>
  new ApiError('unsupported_media_type', 'Upload a LinkedIn data-export ZIP archive or one of its CSV files.', {
    errors: [{ field: 'file', message: 'is neither a ZIP archive nor a CSV file' }],
  });

/** One uploaded file: its name (a path inside the archive, or the uploaded file's name) and its bytes. */
export interface Upload {
  name: string;
  bytes: Uint8Array;
}

/**
 * Reads the upload: multipart/form-data with a `file` part, or the raw bytes (`application/zip`,
 * `text/csv`, `application/octet-stream`). Over 20 MB is refused while streaming, before any parsing.
 */
export async function readImportUpload(c: Context<AppEnv>): Promise<Upload> {
  const contentType = (c.req.header('Content-Type') ?? '').toLowerCase();
  const declared = Number(c.req.header('Content-Length'));
  if (contentType.startsWith('multipart/form-data')) {
    const file = await readMultipartFile(c, IMPORT_LIMITS.archiveBytes, archiveTooLarge);
    return { name: file.name || 'upload', bytes: new Uint8Array(await file.arrayBuffer()) };
  }
  if (/^(application\/(zip|x-zip-compressed|octet-stream)|text\/(csv|plain))/.test(contentType)) {
    if (declared > IMPORT_LIMITS.archiveBytes) throw archiveTooLarge();
    const bytes = await readBounded(c.req.raw.body, IMPORT_LIMITS.archiveBytes, archiveTooLarge);
    if (bytes.byteLength === 0) throw ApiError.field('file', 'is empty');
    return { name: contentType.startsWith('text/') ? 'upload.csv' : 'upload', bytes };
  }
  throw new ApiError('unsupported_media_type', 'Send multipart/form-data with a "file" part, or the raw bytes as application/zip or text/csv.');
}

const isZip = (bytes: Uint8Array) => bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05) && (bytes[3] === 0x04 || bytes[3] === 0x06);

/** Whether the bytes look like text (a CSV): no NUL bytes in the first 8 KB. */
const looksLikeText = (bytes: Uint8Array) => !bytes.subarray(0, 8192).includes(0);

/**
 * The files of an upload: the entries of a ZIP archive that `wanted` picks (inflated, every other entry
 * inflated only to be counted), or the upload itself when it is a CSV. The caps are checked while
 * inflating: the archive is fed to the inflater in small steps and each step's output counted, so a zip
 * bomb is refused (413) after at most one step past the cap, never after unpacking it; the files kept
 * (the CSVs to parse) may hold IMPORT_LIMITS.csvBytes together.
 */
export function unpackUpload(upload: Upload, wanted: (name: string) => boolean): { files: Upload[]; ignored: string[] } {
  if (!isZip(upload.bytes)) {
    if (!looksLikeText(upload.bytes)) throw notAnExport();
    if (upload.bytes.byteLength > IMPORT_LIMITS.csvBytes) throw csvTooLarge(upload.name);
    return { files: [upload], ignored: [] };
  }
  const files: Upload[] = [];
  const ignored: string[] = [];
  let entries = 0;
  let unpacked = 0;
  let kept = 0;
  let failure: ApiError | null = null;
  // Past the CSV cap nothing more is kept, but inflating goes on: a bomb is still named as one (100 MB).
  let oversized: ApiError | null = null;
  const unzip = new Unzip((file) => {
    entries += 1;
    if (entries > IMPORT_LIMITS.entries) {
      failure ??= new ApiError('payload_too_large', `The archive holds more than ${IMPORT_LIMITS.entries} entries.`, { errors: [{ field: 'file', message: `holds more than ${IMPORT_LIMITS.entries} entries` }] });
      return;
    }
    const keep = !file.name.endsWith('/') && wanted(file.name);
    if (!keep && !file.name.endsWith('/')) ignored.push(file.name);
    const chunks: Uint8Array[] = [];
    file.ondata = (err, data, final) => {
      if (failure) return;
      if (err) {
        failure = ApiError.field('file', `the archive entry ${file.name} could not be unpacked (${err.message})`);
        return;
      }
      unpacked += data.byteLength;
      if (unpacked > IMPORT_LIMITS.unpackedBytes) {
        failure = new ApiError('payload_too_large', 'The archive unpacks to more than 100 MB.', { errors: [{ field: 'file', message: 'unpacks to more than 100 MB' }] });
        file.terminate();
        return;
      }
      if (!keep || oversized) return;
      if ((kept += data.byteLength) > IMPORT_LIMITS.csvBytes) {
        oversized = csvTooLarge(file.name);
        files.length = 0;
        chunks.length = 0;
        return;
      }
      chunks.push(data);
      if (final) files.push({ name: file.name, bytes: concatBytes(chunks) });
    };
    try {
      file.start();
    } catch (err) {
      failure ??= ApiError.field('file', `the archive entry ${file.name} could not be unpacked (${(err as Error).message})`);
    }
  });
  unzip.register(UnzipInflate);
  try {
    for (let at = 0; at < upload.bytes.byteLength && !failure; at += INFLATE_STEP) {
      unzip.push(upload.bytes.subarray(at, at + INFLATE_STEP), at + INFLATE_STEP >= upload.bytes.byteLength);
    }
  } catch (err) {
    failure ??= ApiError.field('file', `the ZIP archive is damaged (${(err as Error).message})`);
  }
  if (failure) throw failure;
  if (oversized) throw oversized;
  return { files, ignored };
}

