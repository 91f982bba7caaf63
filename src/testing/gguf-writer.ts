import { writeFile } from 'node:fs/promises';

/**
 * Writes a tiny, random-weight GGUF (v3) language model in the `llama` architecture, so the
 * `local` LLM provider can be tested without downloading a model. The output is gibberish,
 * but it loads in llama.cpp, tokenizes, streams, and follows grammars like any real model.
 *
 * Hand-written because no installed library writes GGUF (node-llama-cpp only reads it); the
 * byte layout follows llama.cpp's `docs/gguf.md`: header (magic, version, counts), metadata
 * key/values, tensor infos, padding to `general.alignment`, then the tensor data, each
 * tensor at an aligned offset.
 *
 * Vocabulary (SentencePiece-style, `tokenizer.ggml.model = "llama"`): `<unk>`, `<s>`, `</s>`,
 * the 256 byte-fallback tokens `<0x00>`…`<0xFF>`, every printable ASCII character (space as
 * `▁`), and a few short words with their prefixes (so the tokenizer's merges reach them).
 * The output rows of the special and byte tokens are zero, so generation favours readable
 * characters and rarely ends on its own (tests can rely on `maxTokens` ending a reply).
 */
export interface TinyGgufOptions {
  /** Seed of the weights' pseudo-random generator. */
  seed?: number;
  embeddingLength?: number;
  blockCount?: number;
  feedForwardLength?: number;
  headCount?: number;
  headCountKv?: number;
  /** Trained context length written into the metadata. */
  contextLength?: number;
  /** Standard deviation of the random weights (the output layer uses it too). */
  weightStd?: number;
  /**
   * A piece added to the vocabulary that the model then picks whenever it may (e.g. a chat
   * template's tool-call prefix, to test a provider's function-calling path). Empty: none.
   */
  favouredToken?: string;
}

export const defaultTinyGgufOptions = {
  seed: 1,
  embeddingLength: 64,
  blockCount: 2,
  feedForwardLength: 128,
  headCount: 4,
  headCountKv: 2,
  contextLength: 2048,
  weightStd: 0.2,
  favouredToken: '',
} as const satisfies Required<TinyGgufOptions>;

const WORDS = ['the', 'hello', 'yes', 'no', 'call', 'book', 'time', 'day', 'you', 'and', 'to', 'is'];

/** llama.cpp's `llama_token_type`. */
const TokenType = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

interface Vocab {
  tokens: string[];
  scores: number[];
  types: number[];
}

export function tinyVocab(extra: readonly string[] = []): Vocab {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TokenType.unknown, TokenType.control, TokenType.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.byte);
  }
  const pieces = new Set<string>();
  for (let c = 0x20; c < 0x7f; c++) pieces.add(c === 0x20 ? '\u2581' : String.fromCharCode(c));
  for (const word of WORDS) {
    const piece = `\u2581${word}`;
    for (let end = 2; end <= piece.length; end++) pieces.add(piece.slice(0, end));
  }
  for (const piece of extra) pieces.add(piece);
  for (const piece of pieces) {
    tokens.push(piece);
    types.push(TokenType.normal);
  }
  // SentencePiece merges prefer higher scores: longer pieces score higher.
  const scores = tokens.map((t, i) => (types[i] === TokenType.normal ? -100 + [...t].length : 0));
  return { tokens, scores, types };
}

/** Deterministic uniform generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

enum ValueType {
  uint32 = 4,
  int32 = 5,
  float32 = 6,
  bool = 7,
  string = 8,
  array = 9,
}

type MetadataValue =
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'strings'; value: string[] }
  | { type: 'f32s'; value: number[] }
  | { type: 'i32s'; value: number[] };

interface Tensor {
  name: string;
  /** GGUF order: the first dimension is the contiguous one. */
  dims: number[];
  data: Float32Array;
}

/** Little-endian byte sink that grows as needed. */
class ByteWriter {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const next = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + n));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
  u32(v: number): void {
    this.reserve(4);
    this.buffer.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.buffer.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number): void {
    this.reserve(8);
    this.buffer.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.reserve(4);
    this.buffer.writeFloatLE(v, this.length);
    this.length += 4;
  }
  u8(v: number): void {
    this.reserve(1);
    this.buffer.writeUInt8(v, this.length);
    this.length += 1;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buffer.set(b, this.length);
    this.length += b.length;
  }
  string(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    while (this.length % alignment !== 0) this.u8(0);
  }
  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function writeValue(w: ByteWriter, v: MetadataValue): void {
  switch (v.type) {
    case 'u32':
      w.u32(ValueType.uint32);
      w.u32(v.value);
      return;
    case 'f32':
      w.u32(ValueType.float32);
      w.f32(v.value);
      return;
    case 'bool':
      w.u32(ValueType.bool);
      w.u8(v.value ? 1 : 0);
      return;
    case 'string':
      w.u32(ValueType.string);
      w.string(v.value);
      return;
    case 'strings':
      w.u32(ValueType.array);
      w.u32(ValueType.string);
      w.u64(v.value.length);
      for (const s of v.value) w.string(s);
      return;
    case 'f32s':
      w.u32(ValueType.array);
      w.u32(ValueType.float32);
      w.u64(v.value.length);
      for (const x of v.value) w.f32(x);
      return;
    case 'i32s':
      w.u32(ValueType.array);
      w.u32(ValueType.int32);
      w.u64(v.value.length);
      for (const x of v.value) w.i32(x);
      return;
  }
}

const ALIGNMENT = 32;
const GGML_TYPE_F32 = 0;

/** Builds the GGUF file's bytes. */
export function buildTinyGguf(options: TinyGgufOptions = {}): Buffer {
  const o = { ...defaultTinyGgufOptions, ...options };
  const vocab = tinyVocab(o.favouredToken ? [o.favouredToken] : []);
  const nVocab = vocab.tokens.length;
  const nEmbd = o.embeddingLength;
  const headDim = nEmbd / o.headCount;
  if (!Number.isInteger(headDim) || o.headCount % o.headCountKv !== 0)
    throw new Error('embeddingLength must divide by headCount, and headCount by headCountKv');
  const nEmbdKv = headDim * o.headCountKv;
  const next = random(o.seed);
  const uniform = (n: number, std: number): Float32Array => {
    const a = std * Math.sqrt(3);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (next() * 2 - 1) * a;
    return data;
  };
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);

  const output = uniform(nEmbd * nVocab, o.weightStd);
  for (let t = 0; t < nVocab; t++) {
    if (vocab.types[t] !== TokenType.normal) output.fill(0, t * nEmbd, (t + 1) * nEmbd);
  }
  const embeddings = uniform(nEmbd * nVocab, 1);
  if (o.favouredToken) {
    // Every embedding gets a large constant in dimension 0, which survives the (small, random)
    // layers and the final norm; the favoured token's output row weighs that dimension
    // heavily, so its logit towers over the others at every position.
    for (let t = 0; t < nVocab; t++) embeddings[t * nEmbd] = 30;
    output[vocab.tokens.indexOf(o.favouredToken) * nEmbd] = 3;
  }
  const tensors: Tensor[] = [{ name: 'token_embd.weight', dims: [nEmbd, nVocab], data: embeddings }];
  for (let b = 0; b < o.blockCount; b++) {
    const p = `blk.${b}.`;
    tensors.push(
      { name: `${p}attn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) },
      { name: `${p}attn_q.weight`, dims: [nEmbd, nEmbd], data: uniform(nEmbd * nEmbd, o.weightStd) },
      { name: `${p}attn_k.weight`, dims: [nEmbd, nEmbdKv], data: uniform(nEmbd * nEmbdKv, o.weightStd) },
      { name: `${p}attn_v.weight`, dims: [nEmbd, nEmbdKv], data: uniform(nEmbd * nEmbdKv, o.weightStd) },
      { name: `${p}attn_output.weight`, dims: [nEmbd, nEmbd], data: uniform(nEmbd * nEmbd, o.weightStd) },
      { name: `${p}ffn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) },
      {
        name: `${p}ffn_gate.weight`,
        dims: [nEmbd, o.feedForwardLength],
        data: uniform(nEmbd * o.feedForwardLength, o.weightStd),
      },
      {
        name: `${p}ffn_up.weight`,
        dims: [nEmbd, o.feedForwardLength],
        data: uniform(nEmbd * o.feedForwardLength, o.weightStd),
      },
      {
        name: `${p}ffn_down.weight`,
        dims: [o.feedForwardLength, nEmbd],
        data: uniform(o.feedForwardLength * nEmbd, o.weightStd),
      },
    );
  }
  tensors.push(
    { name: 'output_norm.weight', dims: [nEmbd], data: ones(nEmbd) },
    { name: 'output.weight', dims: [nEmbd, nVocab], data: output },
  );

  const metadata: [string, MetadataValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: 'parley-tiny-random' }],
    ['general.alignment', { type: 'u32', value: ALIGNMENT }],
    ['llama.context_length', { type: 'u32', value: o.contextLength }],
    ['llama.embedding_length', { type: 'u32', value: nEmbd }],
    ['llama.block_count', { type: 'u32', value: o.blockCount }],
    ['llama.feed_forward_length', { type: 'u32', value: o.feedForwardLength }],
    ['llama.attention.head_count', { type: 'u32', value: o.headCount }],
    ['llama.attention.head_count_kv', { type: 'u32', value: o.headCountKv }],
    ['llama.rope.dimension_count', { type: 'u32', value: headDim }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
    ['llama.vocab_size', { type: 'u32', value: nVocab }],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'strings', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'f32s', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'i32s', value: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
  ];

  const w = new ByteWriter();
  w.bytes(Buffer.from('GGUF', 'ascii'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(metadata.length);
  for (const [key, value] of metadata) {
    w.string(key);
    writeValue(w, value);
  }
  let offset = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    offset += Math.ceil(t.data.byteLength / ALIGNMENT) * ALIGNMENT;
  }
  w.padTo(ALIGNMENT);
  for (const t of tensors) {
    w.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.padTo(ALIGNMENT);
  }
  return w.result();
}

/** Writes the model to `path`; returns its size in bytes. */
export async function writeTinyGguf(path: string, options: TinyGgufOptions = {}): Promise<number> {
  const bytes = buildTinyGguf(options);
  await writeFile(path, bytes);
  return bytes.length;
}
