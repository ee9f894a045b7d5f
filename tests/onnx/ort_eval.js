#!/usr/bin/env node
// ort_eval.js — runs an ONNX model through ONNX Runtime (CPU) on raw float32 images, as the
// reference that DRMM Studio's ONNX import/export is checked against.
//
//   cd tests/onnx && npm ci --no-audit --no-fund      # once: installs onnxruntime-node 1.17.0
//   node tests/onnx/ort_eval.js model.onnx images.bin N C H W out.bin
//
// images.bin: N*C*H*W float32 little-endian, row-major (N×C×H×W). The images go to the model's
// first input; its first output is written to out.bin as N×K float32 little-endian, K being the
// product of the output's non-batch dimensions. Prints "N=<n> K=<k>". Exits 1 on any error.
'use strict';

const fs = require('fs');
const path = require('path');

// Large enough to amortise per-run overhead, small enough to keep memory modest for big models.
const DYNAMIC_CHUNK = 256;

function fail(msg) {
  process.stderr.write(`ort_eval: ${msg}\n`);
  process.exit(1);
}

function usage() {
  return 'usage: node ort_eval.js model.onnx images.bin N C H W out.bin';
}

function parsePositiveInt(name, s) {
  if (!/^[0-9]+$/.test(s)) fail(`${name} must be a positive integer, got '${s}'\n${usage()}`);
  const v = Number(s);
  if (!Number.isSafeInteger(v) || v <= 0) fail(`${name} must be a positive integer, got '${s}'\n${usage()}`);
  return v;
}

// --- Minimal protobuf reader -------------------------------------------------------------
// onnxruntime-node 1.17 exposes input/output names but not their shapes, and we need the input's
// batch dimension (fixed or symbolic) to choose the chunk size; so the few ModelProto fields
// that hold it are decoded here rather than pulling in a protobuf dependency.

function readVarint(buf, pos) {
  // Multiplication rather than shifts: JS shifts are 32-bit and dim_value is an int64.
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
  throw new Error('varint too long');
}

// Yields [fieldNumber, wireType, value] where value is a Number (varint) or a Buffer slice.
function* fields(buf) {
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      let v;
      [v, pos] = readVarint(buf, pos);
      yield [field, wire, v];
    } else if (wire === 1) {
      pos += 8;
      if (pos > buf.length) throw new Error('truncated fixed64');
    } else if (wire === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      if (pos + len > buf.length) throw new Error('truncated length-delimited field');
      yield [field, wire, buf.subarray(pos, pos + len)];
      pos += len;
    } else if (wire === 5) {
      pos += 4;
      if (pos > buf.length) throw new Error('truncated fixed32');
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

function firstSub(buf, fieldNo) {
  for (const [f, w, v] of fields(buf)) if (f === fieldNo && w === 2) return v;
  return null;
}

// ModelProto.graph=7; GraphProto.input=11; ValueInfoProto.name=1,type=2; TypeProto.tensor_type=1;
// Tensor.elem_type=1,shape=2; TensorShapeProto.dim=1; Dimension.dim_value=1,dim_param=2.
// Returns {elemType, dims: [number|string|null]} or null when the input or its shape is absent.
function inputInfo(modelBuf, inputName) {
  const graph = firstSub(modelBuf, 7);
  if (!graph) return null;
  for (const [f, w, vi] of fields(graph)) {
    if (f !== 11 || w !== 2) continue;
    const nameBuf = firstSub(vi, 1);
    if (!nameBuf || nameBuf.toString('utf8') !== inputName) continue;
    const type = firstSub(vi, 2);
    const tensor = type && firstSub(type, 1);
    if (!tensor) return null;
    let elemType = 0;
    let dims = null;
    for (const [tf, tw, tv] of fields(tensor)) {
      if (tf === 1 && tw === 0) elemType = tv;
      if (tf === 2 && tw === 2) {
        dims = [];
        for (const [sf, sw, dim] of fields(tv)) {
          if (sf !== 1 || sw !== 2) continue;
          let d = null; // neither value nor param: an unknown dimension
          for (const [df, dw, dv] of fields(dim)) {
            if (df === 1 && dw === 0) d = dv;
            if (df === 2 && dw === 2) d = dv.toString('utf8');
          }
          dims.push(d);
        }
      }
    }
    return { elemType, dims };
  }
  return null;
}

// -------------------------------------------------------------------------------------------

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 7) fail(`expected 7 arguments, got ${args.length}\n${usage()}`);
  const [modelPath, imagesPath, nS, cS, hS, wS, outPath] = args;
  const N = parsePositiveInt('N', nS);
  const C = parsePositiveInt('C', cS);
  const H = parsePositiveInt('H', hS);
  const W = parsePositiveInt('W', wS);
  const per = C * H * W;

  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    fail(`cannot load onnxruntime-node (run 'npm ci' in ${__dirname}): ${e.message}`);
  }

  let modelBuf;
  try {
    modelBuf = fs.readFileSync(modelPath);
  } catch (e) {
    fail(`cannot read model '${modelPath}': ${e.message}`);
  }
  let imagesBuf;
  try {
    imagesBuf = fs.readFileSync(imagesPath);
  } catch (e) {
    fail(`cannot read images '${imagesPath}': ${e.message}`);
  }
  const expectedBytes = N * per * 4;
  if (imagesBuf.length !== expectedBytes) {
    fail(`'${imagesPath}' has ${imagesBuf.length} bytes, but N*C*H*W*4 = ` +
         `${N}*${C}*${H}*${W}*4 = ${expectedBytes}`);
  }
  // Copy into an aligned buffer: a Buffer from readFileSync may sit at an offset that is not a
  // multiple of 4 inside its pool, which Float32Array cannot view; also forces little-endian.
  const images = new Float32Array(N * per);
  for (let i = 0; i < images.length; i++) images[i] = imagesBuf.readFloatLE(i * 4);

  let session;
  try {
    session = await ort.InferenceSession.create(modelBuf, { executionProviders: ['cpu'] });
  } catch (e) {
    fail(`ONNX Runtime cannot load '${modelPath}': ${e.message}`);
  }
  if (session.inputNames.length === 0) fail('model has no inputs');
  if (session.outputNames.length === 0) fail('model has no outputs');
  if (session.inputNames.length > 1) {
    fail(`model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); ` +
         'only single-input models are supported');
  }
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];

  let info = null;
  try {
    info = inputInfo(modelBuf, inputName);
  } catch (e) {
    fail(`cannot parse '${modelPath}' to read the input shape: ${e.message}`);
  }
  let chunk = DYNAMIC_CHUNK;
  let fixedBatch = false;
  if (info && info.dims) {
    if (info.elemType !== 1) fail(`input '${inputName}' has element type ${info.elemType}, not float32 (1)`);
    if (info.dims.length !== 4) {
      fail(`input '${inputName}' has rank ${info.dims.length} [${info.dims.join(', ')}], expected N×C×H×W`);
    }
    const want = [C, H, W];
    for (let i = 1; i < 4; i++) {
      const d = info.dims[i];
      if (typeof d === 'number' && d !== want[i - 1]) {
        fail(`input '${inputName}' has shape [${info.dims.join(', ')}], which does not match ` +
             `C×H×W = ${C}×${H}×${W}`);
      }
    }
    if (typeof info.dims[0] === 'number' && info.dims[0] > 0) {
      chunk = info.dims[0];
      fixedBatch = true;
    }
  }

  let out = null;
  let K = 0;
  for (let start = 0; start < N; start += chunk) {
    const n = Math.min(chunk, N - start);
    // A fixed batch dimension accepts only full batches: pad the last one with zeros and drop
    // the padded rows' outputs.
    const b = fixedBatch ? chunk : n;
    const data = new Float32Array(b * per);
    data.set(images.subarray(start * per, (start + n) * per));
    let result;
    try {
      result = await session.run({ [inputName]: new ort.Tensor('float32', data, [b, C, H, W]) });
    } catch (e) {
      fail(`inference failed on images ${start}..${start + n - 1}: ${e.message}`);
    }
    const t = result[outputName];
    if (t.type !== 'float32') fail(`output '${outputName}' has type ${t.type}, not float32`);
    if (t.dims.length < 1 || t.dims[0] !== b) {
      fail(`output '${outputName}' has shape [${t.dims.join(', ')}]; expected batch ${b} first`);
    }
    const k = t.dims.slice(1).reduce((a, x) => a * x, 1);
    if (out === null) {
      K = k;
      out = new Float32Array(N * K);
    } else if (k !== K) {
      fail(`output '${outputName}' changed size between batches (${K} then ${k})`);
    }
    out.set(t.data.subarray(0, n * K), start * K);
  }

  const outBuf = Buffer.alloc(out.length * 4);
  for (let i = 0; i < out.length; i++) outBuf.writeFloatLE(out[i], i * 4);
  try {
    fs.writeFileSync(outPath, outBuf);
  } catch (e) {
    fail(`cannot write '${outPath}': ${e.message}`);
  }
  console.log(`N=${N} K=${K} (model ${path.basename(modelPath)}, input '${inputName}', ` +
              `output '${outputName}', batch ${fixedBatch ? chunk + ' fixed' : 'dynamic, chunks of ' + chunk})`);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
