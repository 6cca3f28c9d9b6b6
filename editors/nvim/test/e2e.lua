-- End-to-end test in real Neovim: nvim --headless --clean -l editors/nvim/test/e2e.lua BIN REPO
-- Starts the real server through this plugin on a copy of the examples and
-- asserts diagnostics, each verdict as an inlay hint and a code lens, hover,
-- a quick fix, and the negotiated encoding.
local bin, repo = arg[1], arg[2]
assert(bin and repo, 'usage: e2e.lua BIN REPO')

local failures = 0
local function say(line)
  io.stdout:write(line .. '\n')
  io.stdout:flush()
end
local function check(cond, what)
  if cond then
    say('ok   ' .. what)
  else
    failures = failures + 1
    say('FAIL ' .. what)
  end
end

local dir = vim.fn.tempname()
vim.fn.mkdir(dir, 'p')
vim.fn.writefile(vim.fn.readfile(repo .. '/examples/licences.catalogue.toml'), dir .. '/licences.catalogue.toml')
vim.fn.writefile(vim.fn.readfile(repo .. '/examples/shipments.catalogue.toml'), dir .. '/shipments.catalogue.toml')
local fixture = {
  '# Catalogue 目录 — non-ASCII text before the products: 𝄞',
  '[catalogue]',
  'as_of = 2026-06-01',
  '',
  '[[product]]',
  'sku = "E2E-DY"',
  'name = "钕铁硼 磁体 𝄞"',
  'form = "magnet"',
  'composition = { Nd = 27.5, Dy = 2.5, Fe = 69, B = 1 }',
  'destination = "DE"',
  'end_user = "Example Motors GmbH"',
  '',
  '[[product]]',
  'sku = "E2E-BAD"',
  'name = "磁体𝄞" ; oops',
  'form = "motor"',
}
vim.fn.writefile(fixture, dir .. '/e2e.catalogue.toml')
vim.fn.writefile({ 'a = 1' }, dir .. '/other.toml')
-- A CSV catalogue (docs/format.md §10): a licence id with a typo in its cell.
vim.fn.writefile({
  'sku,form,composition,destination,end_user,licence',
  'E2E-CSV,magnet,"Nd=27.5; Dy=2.5; Fe=69; B=1",DE,Example Motors GmbH,GL-2026-0043',
}, dir .. '/e2e.catalogue.csv')
vim.fn.writefile({ 'a,b', '1,2' }, dir .. '/other.csv')

vim.opt.rtp:prepend(repo .. '/editors/nvim')
vim.g.catalogue_lsp_path = bin
vim.lsp.enable('catalogue_lsp')

-- A plain TOML file must not get the server.
vim.cmd.edit(dir .. '/other.toml')
vim.wait(500)
check(#vim.lsp.get_clients({ bufnr = 0, name = 'catalogue_lsp' }) == 0, 'does not attach to other TOML files')

vim.cmd.edit(dir .. '/e2e.catalogue.toml')
local buf = vim.api.nvim_get_current_buf()
check(vim.bo[buf].filetype == 'toml', 'catalogue file has filetype toml')
local attached = vim.wait(10000, function() return #vim.lsp.get_clients({ bufnr = buf, name = 'catalogue_lsp' }) > 0 end, 50)
check(attached, 'client attached')
local client = vim.lsp.get_clients({ bufnr = buf, name = 'catalogue_lsp' })[1]
if not client then
  os.exit(1)
end
check(client.offset_encoding == 'utf-8', 'negotiated position encoding utf-8 (got ' .. tostring(client.offset_encoding) .. ')')

local function diag(code)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == code then
      return d
    end
  end
end
vim.wait(15000, function() return diag('missing-licence') ~= nil end, 50)
local ml = diag('missing-licence')
check(ml ~= nil and ml.lnum == 4 and ml.col == 0 and ml.end_col == 11, 'missing-licence on the [[product]] header (line 5, col 1-12)')
check(ml ~= nil and ml.severity == vim.diagnostic.severity.ERROR, 'missing-licence is an error')
-- Underlines are drawn by the config's decoration provider for the lines in
-- view (Neovim's own underline handler is off for this server): after a
-- redraw the header's cells carry DiagnosticUnderlineError, and no
-- underline extmark is stored in the buffer.
-- The underlines the config's decoration provider draws for buffer `b` in a
-- full redraw, as "row col end_row end_col group" strings.
local function drawn(b)
  local M = require('catalogue_lsp')
  M._trace = {}
  vim.cmd('redraw!')
  local out = {}
  for _, t in ipairs(M._trace) do
    if t[1] == b then
      out[#out + 1] = table.concat({ t[2], t[3], t[4], t[5], t[6] }, ' ')
    end
  end
  M._trace = nil
  return out
end
do
  local header = ml or { lnum = 4, col = 0, end_col = 11 }
  local want = ('%d %d %d %d DiagnosticUnderlineError'):format(header.lnum, header.col, header.lnum, header.end_col)
  local function on_header()
    return vim.tbl_contains(drawn(buf), want)
  end
  check(on_header(), 'the missing-licence range gets a DiagnosticUnderlineError extmark in a redraw (got ' .. table.concat(drawn(buf), '; ') .. ')')
  local stored = 0
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, -1, 0, -1, { details = true, type = 'highlight' })) do
    if (m[4].hl_group or ''):match('^DiagnosticUnderline') then
      stored = stored + 1
    end
  end
  check(stored == 0, 'Neovim\'s own underline handler is off for this server (got ' .. stored .. ' stored underlines)')
  -- The user's `underline` option is honoured: off, a severity filter, on again.
  vim.diagnostic.config({ underline = false })
  check(#drawn(buf) == 0, 'underline = false draws no underline')
  vim.diagnostic.config({ underline = { severity = vim.diagnostic.severity.HINT } })
  check(not on_header(), 'underline = { severity = HINT } leaves the error without an underline')
  vim.diagnostic.config({ underline = true })
  check(on_header(), 'underline = true draws it again')
  -- Lines added above a diagnostic before the next publication move its
  -- underline with the text, as Neovim's extmarks would (a buffer of its own,
  -- diagnostics set directly: no server answer can come in between).
  vim.cmd('botright new')
  local sbuf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(sbuf, 0, -1, false, { 'zero', 'one', 'two two', 'three' })
  local sns = vim.api.nvim_create_namespace('e2e_underline')
  require('catalogue_lsp').underline_in_view(sns)
  -- Published three times, as a server does after each edit.
  for _ = 1, 3 do
    vim.diagnostic.set(sns, sbuf, { { lnum = 2, col = 0, end_lnum = 2, end_col = 3, severity = vim.diagnostic.severity.ERROR, message = 'e2e' } })
  end
  local got = table.concat(drawn(sbuf), '; ')
  check(got == '2 0 2 3 DiagnosticUnderlineError', 'a diagnostic set in another namespace given to the config is underlined on its row (got ' .. got .. ')')
  vim.api.nvim_buf_set_lines(sbuf, 0, 0, false, { 'added' })
  got = table.concat(drawn(sbuf), '; ')
  check(got == '3 0 3 3 DiagnosticUnderlineError', 'a line added above moves the underline down with its text (got ' .. got .. ')')
  vim.api.nvim_buf_set_lines(sbuf, 0, 2, false, {})
  got = table.concat(drawn(sbuf), '; ')
  check(got == '1 0 1 3 DiagnosticUnderlineError', 'lines deleted above move it up (got ' .. got .. ')')
  vim.cmd('bwipeout! ' .. sbuf)
  vim.api.nvim_set_current_buf(buf)
  -- Nothing is hidden: vim.diagnostic.get (quickfix, location list) has every diagnostic the server reported.
  local res = client:request_sync('textDocument/diagnostic', { textDocument = vim.lsp.util.make_text_document_params(buf) }, 5000, buf)
  local items = res and res.result and res.result.items or {}
  local ns = vim.lsp.diagnostic.get_namespace(client.id, true)
  local got = vim.diagnostic.get(buf, { namespace = ns })
  check(#items > 1 and #got == #items and #vim.diagnostic.toqflist(got) == #items,
    ('vim.diagnostic.get has every reported diagnostic (%d of %d)'):format(#got, #items))
end
check(diag('controlled') == nil, 'no controlled mark by default (the verdict is a hint and a lens)')

-- The config's handler for pulled diagnostics (it reads only the lines the
-- diagnostics are on) gives what Neovim's own handler gives for the same report.
check(client.handlers['textDocument/diagnostic'] ~= nil, 'the config handles pulled diagnostics')
do
  local raw = vim.tbl_map(function(d) return d.user_data.lsp end, vim.diagnostic.get(buf))
  local ctx = { client_id = client.id, method = 'textDocument/diagnostic', bufnr = buf,
    params = { textDocument = { uri = vim.uri_from_bufnr(buf) } } }
  local function shown()
    return vim.tbl_map(function(d)
      return { d.lnum, d.col, d.end_lnum, d.end_col, d.severity, d.message, d.source, d.code, vim.inspect(d._tags) }
    end, vim.diagnostic.get(buf))
  end
  vim.lsp.diagnostic.on_diagnostic(nil, { kind = 'full', items = raw }, ctx)
  local neovims = shown()
  require('catalogue_lsp').on_diagnostic(nil, { kind = 'full', items = raw }, ctx)
  check(#neovims > 0 and vim.deep_equal(neovims, shown()), 'the config\'s pulled diagnostics equal Neovim\'s conversion')
end

-- Each verdict inline (contract §11): an inlay hint after the header and a code lens.
-- The plugin asks for the hints of the lines in view (not Neovim's whole-buffer refresh).
local function hint_label(line)
  return require('catalogue_lsp').hint_at(buf, line)
end
vim.wait(15000, function() return hint_label(4) ~= nil end, 50)
local hint = hint_label(4)
check(hint == 'controlled 1C905.a.4 · no licence', 'inlay hint on the header shows the verdict (got ' .. tostring(hint) .. ')')
local function lens_title(line)
  for _, l in ipairs(vim.lsp.codelens.get(buf)) do
    if l.range.start.line == line and l.command then
      return l.command.title
    end
  end
end
-- Asked again every second: a first request may come before the analysis.
local asked = 0
vim.wait(15000, function()
  if vim.uv.now() - asked > 1000 then
    asked = vim.uv.now()
    vim.lsp.codelens.refresh({ bufnr = buf })
  end
  return lens_title(4) ~= nil
end, 50)
local lens = lens_title(4)
check(lens == 'controlled 1C905.a.4 · no licence', 'code lens on the header shows the verdict (got ' .. tostring(lens) .. ')')
local syn = diag('syntax-error')
-- `name = "磁体𝄞" ; oops`: the `;` is at byte 20 (UTF-16 column 14): round-trips only if the encoding is honoured.
check(syn ~= nil and syn.lnum == 14 and syn.col == 20, ('syntax error after non-ASCII text at byte column 20 (got %s:%s)'):format(syn and syn.lnum, syn and syn.col))

-- Hover on the product header.
local params = { textDocument = vim.lsp.util.make_text_document_params(buf), position = { line = 4, character = 3 } }
local res = client:request_sync('textDocument/hover', params, 5000, buf)
local hover = res and res.result and res.result.contents and res.result.contents.value or ''
check(hover:find('1C905.a.4', 1, true) ~= nil and hover:find('Announcement No. 18', 1, true) ~= nil, 'hover names the control code and its source')

-- Quick fix: use the licence that covers this export.
local ca = client:request_sync('textDocument/codeAction', {
  textDocument = vim.lsp.util.make_text_document_params(buf),
  range = { start = { line = ml.lnum, character = ml.col }, ['end'] = { line = ml.end_lnum, character = ml.end_col } },
  context = { diagnostics = { ml.user_data and ml.user_data.lsp or {} } },
}, 5000, buf)
local action
for _, a in ipairs(ca and ca.result or {}) do
  if a.title == 'Use licence GL-2026-0042' then
    action = a
  end
end
check(action ~= nil, 'quick fix "Use licence GL-2026-0042" offered')
if action then
  vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
  check(vim.api.nvim_buf_get_lines(buf, 11, 12, false)[1] == 'licence = "GL-2026-0042"', 'quick fix inserted the licence line after end_user')
  local cleared = vim.wait(15000, function() return diag('missing-licence') == nil end, 50)
  check(cleared, 'missing-licence cleared after the quick fix')
  -- The hints are asked again when new diagnostics come (a DiagnosticChanged command).
  local rehinted = vim.wait(15000, function() return hint_label(4) == 'controlled 1C905.a.4 · licence GL-2026-0042' end, 50)
  check(rehinted, 'the inlay hint names the licence after the quick fix (got ' .. tostring((hint_label(4))) .. ')')
  vim.lsp.codelens.refresh({ bufnr = buf })
  local named = vim.wait(15000, function() return lens_title(4) == 'controlled 1C905.a.4 · licence GL-2026-0042' end, 50)
  check(named, 'the code lens names the licence after the quick fix (got ' .. tostring(lens_title(4)) .. ')')
end

-- Typing after non-ASCII text (line 16 now): remove ` ; oops` to fix the syntax error.
vim.api.nvim_buf_set_text(buf, 15, 19, 15, 26, {})
local fixed = vim.wait(15000, function() return diag('syntax-error') == nil end, 50)
check(fixed, 'editing after non-ASCII text clears the syntax error: ' .. vim.api.nvim_buf_get_lines(buf, 15, 16, false)[1])

-- v2 §4a: a licence's code lens shows its use (the shipments example: licence
-- GL-2026-0300 at line 13, used by a product and four shipments).
vim.cmd.edit(dir .. '/shipments.catalogue.toml')
local sbuf = vim.api.nvim_get_current_buf()
vim.wait(10000, function() return #vim.lsp.get_clients({ bufnr = sbuf, name = 'catalogue_lsp' }) > 0 end, 50)
local function lens_in(b, line)
  for _, l in ipairs(vim.lsp.codelens.get(b)) do
    if l.range.start.line == line and l.command then
      return l.command.title
    end
  end
end
local last = 0
local use_shown = vim.wait(15000, function()
  if vim.uv.now() - last > 1000 then
    last = vim.uv.now()
    vim.lsp.codelens.refresh({ bufnr = sbuf })
  end
  local t = lens_in(sbuf, 12)
  return t ~= nil and t:find('1.05 of 1 t', 1, true) ~= nil
end, 50)
local use = lens_in(sbuf, 12)
check(use_shown and use:find('(105 %)', 1, true) ~= nil and use:find('5 exports', 1, true) ~= nil and use:find('expires 2026-09-30', 1, true) ~= nil,
  'a licence\'s code lens shows its use (got ' .. tostring(use) .. ')')
-- A CSV catalogue gets its diagnostics on the cell; a plain CSV file gets no server.
vim.cmd.edit(dir .. '/other.csv')
vim.wait(500)
check(#vim.lsp.get_clients({ bufnr = 0, name = 'catalogue_lsp' }) == 0, 'does not attach to other CSV files')
vim.cmd.edit(dir .. '/e2e.catalogue.csv')
local csv = vim.api.nvim_get_current_buf()
local csv_attached = vim.wait(10000, function() return #vim.lsp.get_clients({ bufnr = csv, name = 'catalogue_lsp' }) > 0 end, 50)
check(csv_attached, 'client attached to the CSV catalogue')
local function csv_diag(code)
  for _, d in ipairs(vim.diagnostic.get(csv)) do
    if d.code == code then
      return d
    end
  end
end
vim.wait(15000, function() return csv_diag('unknown-licence') ~= nil end, 50)
local ul = csv_diag('unknown-licence')
-- `GL-2026-0043` is the last cell of line 2, bytes 68-80.
check(ul ~= nil and ul.lnum == 1 and ul.col == 68 and ul.end_col == 80, ('unknown-licence on its CSV cell (got %s:%s-%s)'):format(ul and ul.lnum, ul and ul.col, ul and ul.end_col))
check(ul ~= nil and (ul.message or ''):find('GL-2026-0042', 1, true) ~= nil, 'the CSV diagnostic suggests GL-2026-0042')

vim.cmd('checkhealth catalogue_lsp')
local report = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
check(report:find('binary: ', 1, true) ~= nil and report:find('rule pack: cn-rare-earth-dual-use', 1, true) ~= nil, ':checkhealth catalogue_lsp reports binary and rule pack')

local info = require('catalogue_lsp').info()
check(info[2] and info[2]:find('cn-rare-earth-dual-use', 1, true) ~= nil, ':CatalogueLspInfo shows the rule pack')

say(failures == 0 and 'neovim e2e: all passed' or ('neovim e2e: %d failed'):format(failures))
vim.lsp.stop_client(client.id, true)
os.exit(failures == 0 and 0 or 1)
