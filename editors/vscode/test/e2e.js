// End-to-end test in real VS Code (code-server) driven by headless Chromium.
// Asserts what a person sees: the error squiggle and Problems entry for a
// controlled product without a licence, the verdict's code lens, the hover naming the control code
// and its source, that the quick fix adds the licence and clears the error,
// that a CSV catalogue gets its error in the real editor, that its problem
// is listed once after its tab closes, after it changes while closed and
// after it is opened again, and that a
// licence's code lens shows its use (used / limit, share, exports), and that
// after a long jump in a 600-product file the lenses there show.
// Env: PORT, FOLDER (workspace), E2E_ARTIFACTS (screenshots), CHROMIUM.
const { chromium } = require('playwright-core');
const path = require('path');
const fs = require('fs');

const port = process.env.PORT;
const folder = process.env.FOLDER;
const artifacts = process.env.E2E_ARTIFACTS || path.join(__dirname, '..', '.e2e-artifacts');
fs.mkdirSync(artifacts, { recursive: true });

let failures = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures++;
}

// Quick open (Ctrl+P) of a workspace file: wait until the file is the focused
// result before Enter, then until its tab is active; retry if a key was lost
// while the workbench was still starting.
async function openFile(page, name) {
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press('Control+P');
    const input = await page.waitForSelector('.quick-input-widget input', { timeout: 30000 }).catch(() => null);
    if (input) {
      await page.keyboard.type(name);
      const listed = await page
        .waitForFunction(
          (name) => document.querySelector('.quick-input-widget .monaco-list-row.focused')?.textContent.includes(name),
          name,
          { timeout: 30000 },
        )
        .then(() => true)
        .catch(() => false);
      await page.keyboard.press(listed ? 'Enter' : 'Escape');
    }
    const opened = await page
      .waitForFunction((name) => document.querySelector('.tab.active')?.textContent.includes(name), name, { timeout: 30000 })
      .then(() => true)
      .catch(() => false);
    if (opened) return true;
    console.log(`note: quick open of ${name} did not open it (attempt ${attempt + 1}), retrying`);
    await page.keyboard.press('Escape');
  }
  return false;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  try {
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
    await page.waitForTimeout(3000);
    check(await openFile(page, 'e2e.catalogue.toml'), 'quick open opens e2e.catalogue.toml');
    await page.waitForSelector('.monaco-editor .view-lines', { timeout: 30000 });

    const squiggle = await page.waitForSelector('.squiggly-error', { timeout: 90000 }).catch(() => null);
    check(squiggle !== null, 'error squiggle shown for the controlled product without a licence');

    // Each verdict above its product as a code lens (contract §11), the marks off.
    const lensText = () =>
      [...document.querySelectorAll('.codelens-decoration')].map((e) => e.textContent).join('\n');
    const lens = await page
      .waitForFunction((want) => {
        const t = [...document.querySelectorAll('.codelens-decoration')].map((e) => e.textContent).join('\n');
        return t.includes(want) ? t : false;
      }, 'controlled 1C905.a.4 · no licence', { timeout: 60000 })
      .then((h) => h.jsonValue())
      .catch(() => page.evaluate(lensText));
    check(lens.includes('controlled 1C905.a.4 · no licence'), `code lens shows the verdict above the product (got ${JSON.stringify(lens)})`);
    await page.screenshot({ path: path.join(artifacts, 'vscode-codelens.png') });

    await page.keyboard.press('Control+Shift+M');
    const row = await page.waitForSelector('.markers-panel .monaco-list-row', { timeout: 30000 }).catch(() => null);
    const problems = row ? await page.locator('.markers-panel').innerText() : '';
    check(/missing-licence/.test(problems), 'Problems panel lists missing-licence');
    await page.screenshot({ path: path.join(artifacts, 'vscode-diagnostics.png') });

    if (squiggle) {
      // The panel re-rendered the editor: find the squiggle again.
      const box = await (await page.waitForSelector('.squiggly-error', { timeout: 30000 })).boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const hover = await page.waitForSelector('.monaco-hover:not(.hidden)', { timeout: 30000 }).catch(() => null);
      await page.waitForTimeout(1500);
      const text = hover ? await page.locator('.monaco-hover').allInnerTexts().then((t) => t.join('\n')) : '';
      check(text.includes('1C905.a.4'), 'hover names the control code 1C905.a.4');
      check(text.includes('Announcement No. 18'), 'hover names its source (Announcement No. 18 of 2025)');
      check(text.includes('Evaluated as of 2026-06-01'), "hover shows the server's explanation (verdict, trace, evaluation date)");
      // The diagnostic's code as a link to its source (codeDescription, contract §7),
      // as the extension's own conversion of the pulled report hands it to VS Code.
      const links = await page.$$eval('.monaco-hover a.code-link', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
      const link = links.find(([code]) => code === 'missing-licence');
      check(link && /^https?:\/\//.test(link[1]), `hover shows missing-licence as a link to its source (got ${JSON.stringify(links)})`);
      await page.screenshot({ path: path.join(artifacts, 'vscode-hover.png') });
      await page.keyboard.press('Escape');

      // Quick fix on the squiggle: Ctrl+. then the licence that covers the export.
      await page.mouse.click(box.x + 3, box.y + box.height / 2);
      await page.keyboard.press('Control+.');
      const item = await page.waitForSelector('text=Use licence GL-2026-0042', { timeout: 30000 }).catch(() => null);
      check(item !== null, 'quick fix "Use licence GL-2026-0042" offered');
      await page.screenshot({ path: path.join(artifacts, 'vscode-quickfix.png') });
      if (item) {
        await item.click();
        const cleared = await page
          .waitForFunction(() => document.querySelectorAll('.squiggly-error').length === 0, null, { timeout: 60000 })
          .then(() => true)
          .catch(() => false);
        check(cleared, 'the error squiggle is gone after the quick fix');
        const content = (await page.locator('.editor-instance .monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
        check(content.includes('licence = "GL-2026-0042"'), 'the licence line was inserted');
        const named = await page
          .waitForFunction(() => [...document.querySelectorAll('.codelens-decoration')].some((e) => e.textContent.includes('licence GL-2026-0042')), null, { timeout: 60000 })
          .then(() => true)
          .catch(() => false);
        check(named, 'the code lens names the licence after the quick fix');
        await page.screenshot({ path: path.join(artifacts, 'vscode-fixed.png') });
      }
    }

    // A CSV catalogue (docs/format.md §10): the unknown licence in its cell is an error.
    check(await openFile(page, 'parts.catalogue.csv'), 'quick open opens parts.catalogue.csv');
    const csvSquiggle = await page
      .waitForFunction(() => document.querySelector('.tab.active')?.textContent.includes('parts.catalogue.csv') && document.querySelector('.editor-instance .squiggly-error'), null, { timeout: 90000 })
      .then(() => true)
      .catch(() => false);
    check(csvSquiggle, 'error squiggle shown in the CSV catalogue');
    await page.keyboard.press('Control+Shift+M');
    const csvProblems = await page
      .waitForFunction(() => {
        const t = document.querySelector('.markers-panel')?.innerText || '';
        return /unknown-licence/.test(t) && /GL-2026-0042/.test(t) ? t : false;
      }, null, { timeout: 60000 })
      .then((h) => h.jsonValue())
      .catch(() => '');
    check(/unknown-licence/.test(csvProblems), 'Problems panel lists unknown-licence for the CSV cell, suggesting GL-2026-0042');
    await page.screenshot({ path: path.join(artifacts, 'vscode-csv.png') });

    // Closing the CSV's tab: its problems stay listed, once. (The extension
    // holds the diagnostics of files open in tabs itself, in slices of lines,
    // and vscode-languageclient those of the others: neither may drop them
    // or show them twice.)
    const csvRows = () => [...document.querySelectorAll('.markers-panel .monaco-list-row')].filter((r) => /unknown-licence/.test(r.textContent)).length;
    const rowsOpen = await page.evaluate(csvRows);
    const close = await page.$('.tab.active .tab-actions .action-label');
    if (close) await close.click();
    const closed = await page
      .waitForFunction(() => ![...document.querySelectorAll('.tab')].some((t) => t.textContent.includes('parts.catalogue.csv')), null, { timeout: 30000 })
      .then(() => true)
      .catch(() => false);
    // A few workspace pulls (every 2 s after the one before) to come and go.
    await page.waitForTimeout(7000);
    const rowsClosed = await page.evaluate(csvRows);
    check(closed && rowsOpen >= 1 && rowsClosed === rowsOpen, `after closing the CSV's tab its unknown-licence problem is still listed once (rows: ${rowsOpen} open, ${rowsClosed} closed)`);

    // Its diagnostics change while no tab shows it (the severity setting
    // makes unknown-licence a warning): the next workspace report goes to the
    // extension's slices, which hold the file, and not to the client's
    // collection beside them. Listed once, as a warning; and so again once
    // the file is opened again.
    const csvSeverities = () =>
      [...document.querySelectorAll('.markers-panel .monaco-list-row')]
        .filter((r) => /unknown-licence/.test(r.textContent))
        .map((r) => (r.querySelector('.codicon-warning') ? 'warning' : r.querySelector('.codicon-error') ? 'error' : 'other'));
    const settingsDir = path.join(folder, '.vscode');
    fs.mkdirSync(settingsDir, { recursive: true });
    fs.writeFileSync(path.join(settingsDir, 'settings.json'), JSON.stringify({ 'catalogueLsp.severity': { 'unknown-licence': 'warning' } }));
    const onceAsWarning = async (what) => {
      const became = await page
        .waitForFunction((f) => {
          const s = eval(f)();
          return s.length === 1 && s[0] === 'warning';
        }, csvSeverities.toString(), { timeout: 60000 })
        .then(() => true)
        .catch(() => false);
      // A few workspace pulls more (every 2 s): nothing comes back.
      await page.waitForTimeout(7000);
      const rows = await page.evaluate((f) => eval(f)(), csvSeverities.toString());
      check(became && rows.length === 1 && rows[0] === 'warning', `${what}: unknown-licence listed once, as a warning (rows: ${JSON.stringify(rows)})`);
    };
    await onceAsWarning("after the severity setting changes while the CSV's tab is closed");
    await page.screenshot({ path: path.join(artifacts, 'vscode-closed-setting.png') });
    check(await openFile(page, 'parts.catalogue.csv'), 'quick open opens parts.catalogue.csv again');
    const warned = await page
      .waitForFunction(() => document.querySelector('.tab.active')?.textContent.includes('parts.catalogue.csv') && document.querySelector('.editor-instance .squiggly-warning') && !document.querySelector('.editor-instance .squiggly-error'), null, { timeout: 60000 })
      .then(() => true)
      .catch(() => false);
    check(warned, 'the CSV opened again shows a warning squiggle, no error');
    await onceAsWarning('after the CSV is opened again');
    fs.writeFileSync(path.join(settingsDir, 'settings.json'), '{}');

    // A licence's use as its code lens (docs/format.md §3 limits, §4a): the
    // limits fixture's 100 kg licence, used by the product (30 kg) and one
    // shipment (45 kg).
    check(await openFile(page, 'limits.catalogue.toml'), 'quick open opens limits.catalogue.toml');
    const want = '75 of 100 kg used (75 %), 25 kg left · 2 exports · expires 2026-12-31';
    // The lens's text and the first source line below it, once the lens shows.
    const use = await page
      .waitForFunction((want) => {
        if (!document.querySelector('.tab.active')?.textContent.includes('limits.catalogue.toml')) return false;
        const editor = document.querySelector('.editor-instance .monaco-editor');
        const lens = [...(editor?.querySelectorAll('.codelens-decoration') || [])].find((e) => e.textContent.includes(want));
        if (!lens) return false;
        const bottom = lens.getBoundingClientRect().bottom;
        const below = [...editor.querySelectorAll('.view-line')]
          .map((l) => ({ top: l.getBoundingClientRect().top, text: l.textContent.replace(/\u00a0/g, ' ') }))
          .filter((l) => l.top >= bottom - 1)
          .sort((a, b) => a.top - b.top)[0];
        window.__licenceUse = { lens: lens.textContent, below: below ? below.text : null };
        // The lens is laid out after its text arrives: wait for it to sit above its line.
        return below && below.text === '[[licence]]' ? window.__licenceUse : false;
      }, want, { timeout: 90000 })
      .then((h) => h.jsonValue())
      .catch(() =>
        page.evaluate(() => window.__licenceUse || {
          lens: [...document.querySelectorAll('.codelens-decoration')].map((e) => e.textContent).join('\n'),
          below: null,
        }),
      );
    check(use.lens.includes(want), `a licence's code lens shows its use: used / limit, share, exports (got ${JSON.stringify(use.lens)})`);
    check(use.below === '[[licence]]', `that code lens stands above the [[licence]] header (line below it: ${JSON.stringify(use.below)})`);
    await page.screenshot({ path: path.join(artifacts, 'vscode-licence-use.png') });

    // Lenses near the view only (catalogue/codeLens): after a jump far past
    // the lines whose lenses were asked for at first, the lenses of the
    // lines now in view appear, each above its product's header.
    check(await openFile(page, 'scroll.catalogue.toml'), 'quick open opens scroll.catalogue.toml');
    await page.waitForFunction(() => document.querySelector('.codelens-decoration')?.textContent.includes('not-controlled'), null, { timeout: 90000 }).catch(() => null);
    const line = 2500;
    await page.keyboard.press('Control+G');
    await page.waitForSelector('.quick-input-widget input', { timeout: 30000 });
    await page.keyboard.type(String(line));
    await page.keyboard.press('Enter');
    const far = await page
      .waitForFunction((line) => {
        const editor = document.querySelector('.editor-instance .monaco-editor');
        if (!editor) return false;
        const inView = (e) => {
          const r = e.getBoundingClientRect();
          return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
        };
        const numbers = [...editor.querySelectorAll('.line-numbers')].filter(inView).map((e) => Number(e.textContent));
        if (!numbers.some((n) => n >= line - 5 && n <= line + 5)) return false;
        const lens = [...editor.querySelectorAll('.codelens-decoration')].filter(inView).find((e) => e.textContent.includes('not-controlled'));
        if (!lens) return false;
        const bottom = lens.getBoundingClientRect().bottom;
        const below = [...editor.querySelectorAll('.view-line')]
          .map((l) => ({ top: l.getBoundingClientRect().top, text: l.textContent.replace(/\u00a0/g, ' ') }))
          .filter((l) => l.top >= bottom - 1)
          .sort((a, b) => a.top - b.top)[0];
        // (the header's line ends with its inlay hint)
        return below && below.text.startsWith('[[product]]') ? { lens: lens.textContent, lines: [Math.min(...numbers), Math.max(...numbers)] } : false;
      }, line, { timeout: 60000 })
      .then((h) => h.jsonValue())
      .catch(() => null);
    check(far !== null, `after a jump to line ${line} of 3 000, the code lenses there show (${JSON.stringify(far)})`);
    await page.screenshot({ path: path.join(artifacts, 'vscode-lenses-after-jump.png') });

    // The server gone (its path set to a file that does not exist: the
    // extension stops the client and cannot start it again): no problem of
    // the server's stays listed, neither the client's nor the slices'.
    const catalogueRows = () =>
      [...document.querySelectorAll('.markers-panel .monaco-list-row')].filter((r) => /catalogue-lsp|licence/.test(r.textContent)).length;
    if (!(await page.$('.markers-panel'))) await page.keyboard.press('Control+Shift+M');
    const rowsBefore = await page
      .waitForFunction((f) => eval(f)() || false, catalogueRows.toString(), { timeout: 30000 })
      .then((h) => h.jsonValue())
      .catch(() => 0);
    fs.writeFileSync(path.join(settingsDir, 'settings.json'), JSON.stringify({ 'catalogueLsp.server.path': path.join(folder, 'no-such-catalogue-lsp') }));
    const gone = await page
      .waitForFunction((f) => eval(f)() === 0, catalogueRows.toString(), { timeout: 60000 })
      .then(() => true)
      .catch(() => false);
    await page.waitForTimeout(3000);
    const rowsAfter = await page.evaluate((f) => eval(f)(), catalogueRows.toString());
    check(rowsBefore > 0 && gone && rowsAfter === 0, `with the server not found, no catalogue problem stays listed (rows: ${rowsBefore} before, ${rowsAfter} after)`);
    await page.screenshot({ path: path.join(artifacts, 'vscode-server-gone.png') });
  } catch (e) {
    failures++;
    console.log(`FAIL ${e}`);
    await page.screenshot({ path: path.join(artifacts, 'vscode-failure.png') }).catch(() => {});
  }
  await browser.close();
  console.log(failures === 0 ? 'vscode e2e: all passed' : `vscode e2e: ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
})();
