import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';

/**
 * Parts of the R2 multipart upload: R2 wants every part but the last at least 5 MiB and all of them the
 * same size, so the stream is cut into parts of exactly this many bytes.
 */
const PART_BYTES = 8 * 1024 * 1024;
const encoder = new TextEncoder();

/**
 * A ZIP archive (fflate's streaming `Zip`) written straight into an R2 multipart upload: files are added
 * one after another, each in pieces, and the archive's bytes go up part by part, so no archive, however
 * large, has to fit in the isolate's memory.
 */
export class ArchiveWriter {
  private readonly zip: Zip;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private readonly parts: R2UploadedPart[] = [];
  private written = 0;
  private failure: Error | null = null;

  constructor(private readonly upload: R2MultipartUpload) {
    this.zip = new Zip((err, chunk) => {
      if (err) this.failure = err;
      else {
        this.chunks.push(chunk);
        this.buffered += chunk.length;
        this.written += chunk.length;
      }
    });
  }

  /** A text file from pieces (deflated). */
  async text(name: string, pieces: AsyncIterable<string> | Iterable<string>): Promise<void> {
    const file = new ZipDeflate(name, { level: 6 });
    this.zip.add(file);
    for await (const piece of pieces) {
      file.push(encoder.encode(piece));
      await this.flush();
    }
    file.push(new Uint8Array(0), true);
    await this.flush();
  }

  /** A JSON file holding one value. */
  json(name: string, value: unknown): Promise<void> {
    return this.text(name, [`${JSON.stringify(value, null, 2)}\n`]);
  }

  /** A JSON file holding an array, written a page at a time. */
  jsonArray(name: string, pages: AsyncIterable<unknown[]>): Promise<void> {
    return this.text(name, arrayPieces(pages));
  }

  /** A binary file from a stream, stored as it is (images are compressed already). */
  async bytes(name: string, stream: ReadableStream<Uint8Array>): Promise<void> {
    const file = new ZipPassThrough(name);
    this.zip.add(file);
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      file.push(value);
      await this.flush();
    }
    file.push(new Uint8Array(0), true);
    await this.flush();
  }

  /** Ends the archive and completes the upload; answers the archive's size in bytes. */
  async finish(): Promise<number> {
    this.zip.end();
    await this.flush(true);
    await this.upload.complete(this.parts);
    return this.written;
  }

  /** Uploads every whole part buffered (and, at the end, the rest). */
  private async flush(last = false): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.buffered >= PART_BYTES || (last && this.buffered > 0)) {
      const part = this.take(Math.min(PART_BYTES, this.buffered));
      this.parts.push(await this.upload.uploadPart(this.parts.length + 1, part));
    }
  }

  /** The first `size` buffered bytes, as one array. */
  private take(size: number): Uint8Array {
    const part = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[0]!;
      const used = Math.min(chunk.length, size - filled);
      part.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    this.buffered -= size;
    return part;
  }
}

async function* arrayPieces(pages: AsyncIterable<unknown[]>): AsyncIterable<string> {
  yield '[';
  let first = true;
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield `${first ? '\n' : ',\n'}${page.map((item) => JSON.stringify(item)).join(',\n')}`;
    first = false;
  }
  yield first ? ']\n' : '\n]\n';
}
