// Benchmark relay (installed by scripts/bench.sh as the server's wrapper):
// runs the language server with its standard input and output passing
// through this process, which copies each direction to PREFIX-stdin.log and
// PREFIX-stdout.log and writes, for every chunk it passes on, the time it
// read it and the byte offset the chunk ends at to PREFIX-times.log
// ("i|o EPOCH_MS END_OFFSET"). bench.js reads the messages from the copies
// and times each one by the chunks it came in: when the server received the
// didChange and the diagnostic pull, and when it answered. Times are epoch
// milliseconds (performance.timeOrigin + performance.now()), comparable with
// the extension host's and the browser's.
//   node relay.js PREFIX SERVER [ARGS...]
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');

const [prefix, server, ...args] = process.argv.slice(2);
if (!prefix || !server) {
  process.stderr.write('usage: node relay.js PREFIX SERVER [ARGS...]\n');
  process.exit(2);
}
const now = () => performance.timeOrigin + performance.now();
const inLog = fs.openSync(`${prefix}-stdin.log`, 'w');
const outLog = fs.openSync(`${prefix}-stdout.log`, 'w');
const times = fs.openSync(`${prefix}-times.log`, 'w');
const child = spawn(server, args, { stdio: ['pipe', 'pipe', 'inherit'] });
let inBytes = 0;
let outBytes = 0;

process.stdin.on('data', (chunk) => {
  const t = now();
  child.stdin.write(chunk);
  inBytes += chunk.length;
  fs.writeSync(times, `i ${t.toFixed(3)} ${inBytes}\n`);
  fs.writeSync(inLog, chunk);
});
process.stdin.on('end', () => child.stdin.end());
child.stdin.on('error', () => {}); // the server exited: its exit ends this process
child.stdout.on('data', (chunk) => {
  const t = now();
  process.stdout.write(chunk);
  outBytes += chunk.length;
  fs.writeSync(times, `o ${t.toFixed(3)} ${outBytes}\n`);
  fs.writeSync(outLog, chunk);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
child.on('error', (e) => {
  process.stderr.write(`relay: cannot run ${server}: ${e.message}\n`);
  process.exit(1);
});
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(s, () => {
    child.kill(s);
    process.exit(1);
  });
}
