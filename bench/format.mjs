// Human-readable output of a benchmark run (the table and the target lines),
// kept apart from run.mjs so the runner reads as measure -> compare -> print.

const num = (x, digits = 0) =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(header, rows, alignLeft = [0]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (alignLeft.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One row per implementation: sign and verify side by side. */
export function resultsTable(report) {
  const header = ['implementation', 'sign ops/s', 'sign µs/op', '±rme', 'verify ops/s', 'verify µs/op', '±rme'];
  const rows = report.implementations.map(({ name, sign, verify }) => [
    name,
    num(sign.hz),
    num(sign.meanNs / 1e3, 2),
    `${num(sign.rmePct, 2)}%`,
    num(verify.hz),
    num(verify.meanNs / 1e3, 2),
    `${num(verify.rmePct, 2)}%`,
  ]);
  const r = report.rust;
  const us = (ns) => num(ns / 1e3, 2);
  rows.push(['raw Rust (cargo bench)', num(1e9 / r.rust_sign_ns), us(r.rust_sign_ns), 'n/a',
    num(1e9 / r.rust_verify_ns), us(r.rust_verify_ns), 'n/a']);
  const pv = r.rust_parse_verify_ns;
  rows.push(['raw Rust, parse key + sign/verify', num(1e9 / r.rust_parse_sign_ns), us(r.rust_parse_sign_ns), 'n/a',
    pv ? num(1e9 / pv) : '', pv ? us(pv) : '', pv ? 'n/a' : '']);
  if (r.k256_sign_ns && r.k256_verify_ns) {
    rows.push(['raw Rust, RustCrypto k256', num(1e9 / r.k256_sign_ns), us(r.k256_sign_ns), 'n/a',
      num(1e9 / r.k256_verify_ns), us(r.k256_verify_ns), 'n/a']);
  }
  return table(header, rows);
}

/** One line per comparison; targets get PASS/FAIL, the rest are informational. */
export function ratiosTable(ratios) {
  const header = ['comparison', 'ratio', 'target', 'verdict'];
  const rows = ratios.map((c) => [
    c.label,
    `${num(c.ratio, 2)}x`,
    c.target ?? '(info)',
    c.pass === undefined ? '' : (c.pass ? 'PASS' : 'FAIL') + (c.withinNoise ? ' (within ±rme: inconclusive)' : ''),
  ]);
  return table(header, rows);
}

export function header(report) {
  const m = report.machine;
  return [
    `Sentinel sign/verify benchmark — ${report.date}`,
    `mode: ${report.mode}  |  node ${m.node}  |  ${m.cpu} x${m.cores}  |  ${m.platform}`,
    `load average (1 min) at start ${m.loadavg1m.start}, at end ${m.loadavg1m.end} (anything near ${m.cores} means a contended machine)`,
    `inputs: one secret key, ${report.digestPoolSize} distinct digests cycled per call, 33-byte compressed public key`,
  ].join('\n');
}
