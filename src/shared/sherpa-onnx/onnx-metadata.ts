/**
 * Reads an ONNX model's `metadata_props` (ModelProto field 14) without loading the model.
 *
 * sherpa-onnx ends the whole process (`exit(-1)`) when a model lacks a metadata key it needs,
 * so providers check the keys first and refuse with a ProviderError instead. Hand-written
 * (about 60 lines) because protobuf libraries decode a whole message from memory, and model
 * files are hundreds of MB: this walks the top-level fields with positional reads and skips
 * the graph by its length.
 */
import { open } from 'node:fs/promises';

const METADATA_FIELD = 14;

function readVarint(buf: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const byte = buf[i] ?? 0;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}

/** Decodes one StringStringEntryProto (key = 1, value = 2). */
function decodeEntry(buf: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  let at = 0;
  const text = new TextDecoder();
  while (at < buf.length) {
    const tag = readVarint(buf, at);
    if (!tag) break;
    const wire = tag.value % 8;
    const field = Math.floor(tag.value / 8);
    if (wire !== 2) break;
    const len = readVarint(buf, tag.next);
    if (!len) break;
    const bytes = buf.subarray(len.next, len.next + len.value);
    if (field === 1) key = text.decode(bytes);
    else if (field === 2) value = text.decode(bytes);
    at = len.next + len.value;
  }
  return [key, value];
}

/** The model's metadata; throws when the file cannot be read or is not a protobuf message. */
export async function readOnnxMetadata(path: string): Promise<Map<string, string>> {
  const metadata = new Map<string, string>();
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const head = new Uint8Array(24);
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await file.read(head, 0, head.length, pos);
      const view = head.subarray(0, bytesRead);
      const tag = readVarint(view, 0);
      if (!tag || tag.value === 0) throw new Error(`not an ONNX model (bad field tag at byte ${pos})`);
      const wire = tag.value % 8;
      const field = Math.floor(tag.value / 8);
      if (wire === 0) {
        const v = readVarint(view, tag.next);
        if (!v) throw new Error(`not an ONNX model (bad varint at byte ${pos})`);
        pos += v.next;
      } else if (wire === 1) {
        pos += tag.next + 8;
      } else if (wire === 5) {
        pos += tag.next + 4;
      } else if (wire === 2) {
        const len = readVarint(view, tag.next);
        if (!len || pos + len.next + len.value > size)
          throw new Error(`not an ONNX model (bad length at byte ${pos})`);
        if (field === METADATA_FIELD) {
          const entry = new Uint8Array(len.value);
          await file.read(entry, 0, len.value, pos + len.next);
          const [key, value] = decodeEntry(entry);
          metadata.set(key, value);
        }
        pos += len.next + len.value;
      } else {
        throw new Error(`not an ONNX model (wire type ${wire} at byte ${pos})`);
      }
    }
  } finally {
    await file.close();
  }
  return metadata;
}

/** Keys from `required` that `metadata` lacks. */
export function missingKeys(metadata: Map<string, string>, required: readonly string[]): string[] {
  return required.filter((k) => !metadata.has(k));
}
