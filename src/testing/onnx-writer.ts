/**
 * Writes ONNX models (ModelProto, protobuf) for tests: tiny graphs that onnxruntime (through
 * sherpa-onnx) loads and runs, so the real model-loading and decoding code is exercised without
 * downloading any weights.
 *
 * Only the messages a small inference graph needs are declared, with the field numbers of the
 * official `onnx/onnx.proto` (IR version 8). Encoding is done by protobufjs; the declarations
 * are hand-written because no npm package ships ONNX's schema for protobufjs.
 */
import protobuf from 'protobufjs';

const onnxSchema = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
        StringStringEntryProto: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
          },
        },
        ValueInfoProto: {
          fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } },
        },
        TypeProto: {
          fields: { tensorType: { type: 'TypeProtoTensor', id: 1 } },
        },
        TypeProtoTensor: {
          fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'TensorShapeDimension', id: 1 } },
        },
        TensorShapeDimension: {
          fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } },
        },
      },
    },
  },
};

const ModelProto = protobuf.Root.fromJSON(onnxSchema).lookupType('onnx.ModelProto');

/** `TensorProto.DataType` values used here. */
export const OnnxType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
export type OnnxElemType = (typeof OnnxType)[keyof typeof OnnxType];

/** AttributeProto.AttributeType values. */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** A dimension: a fixed size or a symbolic name (dynamic axis). */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  elemType: OnnxElemType;
  shape: readonly OnnxDim[];
}

export interface OnnxTensor {
  name: string;
  elemType: OnnxElemType;
  dims: readonly number[];
  /** Values, row-major. */
  values: readonly number[] | Float32Array;
}

export type OnnxAttributeValue =
  | number
  | string
  | readonly number[]
  | OnnxTensor
  | { floats: readonly number[] };

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  /** Integers are written as INT, other numbers as FLOAT; use `{ floats }` for float lists. */
  attributes?: Record<string, OnnxAttributeValue>;
  /** Attribute names whose plain number must be written as FLOAT even when it is integral. */
  floatAttributes?: readonly string[];
}

export interface OnnxModel {
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  nodes: readonly OnnxNode[];
  initializers?: readonly OnnxTensor[];
  /** `metadata_props`: what sherpa-onnx reads to configure itself. */
  metadata?: Record<string, string | number>;
  /** Default opset 13. */
  opset?: number;
}

function valueInfo(v: OnnxValueInfo) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensor(t: OnnxTensor) {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.values.length) {
    throw new RangeError(
      `tensor ${t.name}: dims ${t.dims.join('x')} need ${count} values, got ${t.values.length}`,
    );
  }
  let raw: Uint8Array;
  if (t.elemType === OnnxType.FLOAT) {
    raw = new Uint8Array(Float32Array.from(t.values).buffer);
  } else if (t.elemType === OnnxType.INT32) {
    raw = new Uint8Array(Int32Array.from(t.values).buffer);
  } else {
    raw = new Uint8Array(BigInt64Array.from(Array.from(t.values, (v) => BigInt(v))).buffer);
  }
  return { name: t.name, dims: [...t.dims], dataType: t.elemType, rawData: raw };
}

function attribute(name: string, value: OnnxAttributeValue, asFloat: boolean) {
  if (typeof value === 'number') {
    return Number.isInteger(value) && !asFloat
      ? { name, type: AttrType.INT, i: value }
      : { name, type: AttrType.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: Buffer.from(value) };
  if ('floats' in value) return { name, type: AttrType.FLOATS, floats: [...value.floats] };
  if ('elemType' in value) return { name, type: AttrType.TENSOR, t: tensor(value) };
  return { name, type: AttrType.INTS, ints: [...value] };
}

/** Encodes a model as the bytes of an `.onnx` file. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const message = {
    irVersion: 8,
    producerName: 'parley-test',
    opsetImport: [{ domain: '', version: model.opset ?? 13 }],
    metadataProps: Object.entries(model.metadata ?? {}).map(([key, value]) => ({
      key,
      value: String(value),
    })),
    graph: {
      name: 'parley_test_graph',
      node: model.nodes.map((n, index) => ({
        name: `${n.opType.toLowerCase()}_${index}`,
        opType: n.opType,
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attributes ?? {}).map(([name, value]) =>
          attribute(name, value, n.floatAttributes?.includes(name) ?? false),
        ),
      })),
      initializer: (model.initializers ?? []).map(tensor),
      input: model.inputs.map(valueInfo),
      output: model.outputs.map(valueInfo),
    },
  };
  const error = ModelProto.verify(message);
  if (error) throw new Error(`invalid ONNX model: ${error}`);
  return ModelProto.encode(ModelProto.fromObject(message)).finish();
}
