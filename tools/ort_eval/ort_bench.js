#!/usr/bin/env node
// Latency of one ONNX model under ONNX Runtime (CPU): the ONNX Runtime column of bench/run.sh.
//
//   node ort_bench.js MODEL.onnx --shape 1,3,224,224 [--input X.npy] [--threads N]
//        [--runs N] [--warmup N]
//
// Sequential execution, all graph optimizations, intra-op threads as given (the calling thread
// counts as one, as in Outpost). Batch 1, the same input every run: X.npy (float32) when
// given, otherwise seeded uniform noise in [-1, 1]. Prints one JSON line: load_ms (session
// creation: parse, optimize, prepare), median_ms, p90_ms.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function fail(msg) {
  process.stderr.write(`ort_bench: error: ${msg}\n`);
  process.exit(1);
}

// Float32 little-endian C-order .npy (what models/zoo writes).
function readNpyF32(path) {
  const raw = fs.readFileSync(path);
  if (raw.toString('latin1', 1, 6) !== 'NUMPY') fail(`${path}: not a .npy file`);
  const major = raw[6];
  const headerLen = major === 1 ? raw.readUInt16LE(8) : raw.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = raw.toString('latin1', major === 1 ? 10 : 12, start);
  if (!header.includes("'<f4'") || header.includes("'fortran_order': True"))
    fail(`${path}: need float32 C-order data, header is ${header.trim()}`);
  const bytes = raw.subarray(start);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

function parseArgs(argv) {
  const opt = { threads: 1, runs: 50, warmup: 5 };
  const pos = [];
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--shape') opt.shape = argv[++i].split(',').map(Number);
    else if (a === '--input') opt.input = argv[++i];
    else if (a === '--threads') opt.threads = Number(argv[++i]);
    else if (a === '--runs') opt.runs = Number(argv[++i]);
    else if (a === '--warmup') opt.warmup = Number(argv[++i]);
    else pos.push(a);
  }
  if (pos.length !== 1 || !opt.shape || opt.shape.some((d) => !(d > 0)) || !(opt.runs >= 1))
    fail('usage: ort_bench.js MODEL.onnx --shape D0,D1,.. [--input X.npy] [--threads N] [--runs N] [--warmup N]');
  return { model: pos[0], ...opt };
}

function percentile(sorted, p) {  // nearest rank, as `outpost bench`
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const count = a.shape.reduce((x, y) => x * y, 1);
  let data;
  if (a.input) {
    data = readNpyF32(a.input);
    if (data.length !== count) fail(`${a.input}: ${data.length} values, shape needs ${count}`);
  } else {
    data = new Float32Array(count);
    let s = 1;
    for (let i = 0; i < count; ++i) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = (s / 4294967296) * 2 - 1;
    }
  }
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(a.model, {
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, a.shape) };
  const times = [];
  for (let r = 0; r < a.warmup + a.runs; ++r) {
    const s = process.hrtime.bigint();
    await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - s) / 1e6;
    if (r >= a.warmup) times.push(ms);
  }
  times.sort((x, y) => x - y);
  const n = times.length;
  const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  console.log(JSON.stringify({
    runtime: `onnxruntime-node ${require('onnxruntime-node/package.json').version}`,
    threads: a.threads, runs: n, load_ms: loadMs, median_ms: median, p90_ms: percentile(times, 90),
  }));
}

main().catch((e) => fail(e.message.split('\n')[0]));
