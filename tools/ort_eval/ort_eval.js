#!/usr/bin/env node
// Accuracy of an ONNX classifier under ONNX Runtime (CPU) on IDX images (e.g. Fashion-MNIST):
// the peer that Outpost's int8 results are compared with on the same QDQ model.
//
//   node ort_eval.js MODEL.onnx IMAGES.idx[.gz] LABELS.idx[.gz] --mean M --std S
//        [--value-scale V] [--limit N]
//
// Preprocessing is the model's: x = (pixel * value_scale - mean) / std in float32, one image
// per run (the zoo models have a fixed batch of 1). Prints one JSON line.
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

function fail(msg) {
  process.stderr.write(`ort_eval: error: ${msg}\n`);
  process.exit(1);
}

function readIdx(path) {
  let raw = fs.readFileSync(path);
  if (path.endsWith('.gz')) raw = zlib.gunzipSync(raw);
  if (raw[0] !== 0 || raw[1] !== 0 || raw[2] !== 0x08) fail(`${path}: not an unsigned-byte IDX file`);
  const ndim = raw[3];
  const dims = [];
  for (let i = 0; i < ndim; ++i) dims.push(raw.readUInt32BE(4 + 4 * i));
  const data = raw.subarray(4 + 4 * ndim);
  if (data.length !== dims.reduce((a, b) => a * b, 1)) fail(`${path}: size does not match its dimensions`);
  return { dims, data };
}

function parseArgs(argv) {
  const pos = [];
  const opt = { valueScale: 1 / 255, limit: Infinity };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--mean') opt.mean = Number(argv[++i]);
    else if (a === '--std') opt.std = Number(argv[++i]);
    else if (a === '--value-scale') opt.valueScale = Number(argv[++i]);
    else if (a === '--limit') opt.limit = Number(argv[++i]);
    else pos.push(a);
  }
  if (pos.length !== 3 || !Number.isFinite(opt.mean) || !(opt.std > 0))
    fail('usage: ort_eval.js MODEL.onnx IMAGES LABELS --mean M --std S [--value-scale V] [--limit N]');
  return { model: pos[0], images: pos[1], labels: pos[2], ...opt };
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const images = readIdx(a.images);
  const labels = readIdx(a.labels);
  const [count, h, w] = images.dims;
  if (labels.dims[0] !== count) fail('images and labels differ in count');
  const n = Math.min(count, a.limit);
  const session = await ort.InferenceSession.create(a.model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  const pixels = new Float32Array(h * w);
  const scale = Math.fround(a.valueScale), mean = Math.fround(a.mean), std = Math.fround(a.std);
  let correct = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; ++i) {
    const img = images.data.subarray(i * h * w, (i + 1) * h * w);
    for (let k = 0; k < h * w; ++k) pixels[k] = Math.fround(Math.fround(Math.fround(img[k] * scale) - mean) / std);
    const result = await session.run({ [input]: new ort.Tensor('float32', pixels, [1, 1, h, w]) });
    const scores = result[output].data;
    let best = 0;
    for (let c = 1; c < scores.length; ++c) if (scores[c] > scores[best]) best = c;
    if (best === labels.data[i]) ++correct;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({
    model: a.model, runtime: `onnxruntime-node ${require('onnxruntime-node/package.json').version}`,
    images: n, correct, accuracy: correct / n, seconds: Math.round(seconds * 100) / 100,
  }));
}

main().catch((e) => fail(e.message));
