// essentia_referee.js - the essentia.js referee of bench_audio: tempo by
// RhythmExtractor2013 and key by KeyExtractor, both with essentia's defaults
// (multifeature beat tracker, 40..208 BPM; HPCP key with the default profile).
//
//   node bench/essentia_referee.js ESSENTIA_DIR FILE.f32...
//
// ESSENTIA_DIR is an installed essentia.js package (node_modules/essentia.js);
// each FILE is raw little-endian float32 mono at 44.1 kHz. Prints one line per
// file, in order:
//   ok INDEX BPM TONIC MINOR MS     TONIC 0 = C .. 11 = B, MINOR 0/1, MS compute time
//   error INDEX MESSAGE
// and "fatal MESSAGE" (exit status 1) when essentia.js cannot be loaded.
// A benchmark referee, not the product.
'use strict';

const fs = require('fs');
const path = require('path');

const TONICS = {
    'C': 0, 'B#': 0, 'C#': 1, 'Db': 1, 'D': 2, 'D#': 3, 'Eb': 3, 'E': 4, 'Fb': 4,
    'E#': 5, 'F': 5, 'F#': 6, 'Gb': 6, 'G': 7, 'G#': 8, 'Ab': 8, 'A': 9,
    'A#': 10, 'Bb': 10, 'B': 11, 'Cb': 11,
};

function readMono(file) {
    const buf = fs.readFileSync(file);
    if (buf.length === 0 || buf.length % 4 !== 0)
        throw new Error(`${file}: ${buf.length} bytes is not a float32 signal`);
    // A copy: the Buffer may sit unaligned in Node's shared pool.
    return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

function release(obj) {
    if (obj && typeof obj.delete === 'function')
        obj.delete();
}

function analyse(essentia, file) {
    const vec = essentia.arrayToVector(readMono(file));
    const t0 = process.hrtime.bigint();
    try {
        const rhythm = essentia.RhythmExtractor2013(vec);
        const key = essentia.KeyExtractor(vec);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const tonic = TONICS[key.key];
        for (const k of Object.keys(rhythm))
            release(rhythm[k]);
        if (tonic === undefined)
            throw new Error(`unknown key name "${key.key}"`);
        if (key.scale !== 'major' && key.scale !== 'minor')
            throw new Error(`unknown scale "${key.scale}"`);
        return { bpm: rhythm.bpm, tonic, minor: key.scale === 'minor' ? 1 : 0, ms };
    } finally {
        release(vec);
    }
}

function main(argv) {
    let essentia;
    try {
        const lib = require(path.resolve(argv[0]));
        essentia = new lib.Essentia(lib.EssentiaWASM);
    } catch (e) {
        console.log(`fatal cannot load essentia.js from ${argv[0]}: ${e.message}`);
        process.exit(1);
    }
    argv.slice(1).forEach((file, i) => {
        try {
            const r = analyse(essentia, file);
            console.log(`ok ${i} ${r.bpm.toFixed(3)} ${r.tonic} ${r.minor} ${r.ms.toFixed(1)}`);
        } catch (e) {
            console.log(`error ${i} ${String(e.message || e).replace(/\s+/g, ' ')}`);
        }
    });
    essentia.shutdown();
}

if (process.argv.length < 3) {
    console.log('fatal usage: essentia_referee.js ESSENTIA_DIR FILE.f32...');
    process.exit(1);
}
main(process.argv.slice(2));
