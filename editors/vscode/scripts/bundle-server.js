// Copies the release server binary into bin/ so the .vsix carries it.
const fs = require('fs');
const path = require('path');
const exe = process.platform === 'win32' ? 'catalogue-lsp.exe' : 'catalogue-lsp';
const src = process.env.CATALOGUE_LSP_BIN || path.join(__dirname, '..', '..', '..', 'target', 'release', exe);
if (!fs.existsSync(src)) {
  console.error(`no server binary at ${src}: run \`cargo build --release\` first (or set CATALOGUE_LSP_BIN)`);
  process.exit(1);
}
const dst = path.join(__dirname, '..', 'bin', exe);
fs.mkdirSync(path.dirname(dst), { recursive: true });
fs.copyFileSync(src, dst);
fs.chmodSync(dst, 0o755);
console.log(`bundled ${src} -> ${dst}`);
