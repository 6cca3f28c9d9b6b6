-- Editor-level benchmark in real Neovim (headless) with the project's own config:
--   nvim --headless --clean -l editors/nvim/test/bench.lua BIN REPO FILE [EDITS]
-- Opens FILE (a catalogue alone in its folder) and times, as a user feels it:
--   open → first diagnostics: `:edit` to the first DiagnosticChanged of the buffer;
--   keystroke → diagnostics: `nvim_buf_set_text` (one character typed into a
--   product's name, then deleted again) to the next DiagnosticChanged.
-- The edits are made in normal mode, so each publication is also drawn (signs,
-- underlines) before DiagnosticChanged fires; while typing in insert mode
-- Neovim defers drawing to InsertLeave (update_in_insert = false, its
-- default), so a keystroke there costs less than this figure.
-- Text changes are sent without debounce (flags.debounce_text_changes = 0), so the
-- figure is the editor and the server, not a timer. Inlay hints and code lenses
-- stay on, as the config enables them. Environment: BENCH_NO_VERDICTS=1 turns
-- them off, BENCH_NEOVIM_HANDLER=1 uses Neovim's own handler for pulled
-- diagnostics instead of the config's (to see what each costs).
local bin, repo, file, edits = arg[1], arg[2], arg[3], tonumber(arg[4] or '100')
assert(bin and repo and file, 'usage: bench.lua BIN REPO FILE [EDITS]')

local function say(line)
  io.stdout:write(line .. '\n')
  io.stdout:flush()
end

vim.opt.rtp:prepend(repo .. '/editors/nvim')
vim.g.catalogue_lsp_path = bin
if os.getenv('BENCH_NO_VERDICTS') then
  vim.g.catalogue_lsp_verdicts = false -- inlay hints and code lenses off, to see their share
end
local overrides = { flags = { debounce_text_changes = 0 } }
if os.getenv('BENCH_NEOVIM_HANDLER') then
  -- Neovim's own handler for pulled diagnostics instead of the config's, to see its share.
  overrides.handlers = { ['textDocument/diagnostic'] = vim.lsp.diagnostic.on_diagnostic }
end
vim.lsp.config('catalogue_lsp', overrides)
vim.lsp.enable('catalogue_lsp')

-- Counted by a command, not a Lua callback: Neovim converts the event's data
-- (every diagnostic) into a Lua table for each Lua callback (~9 ms at 10 000
-- products), which would add the listener's own cost to the figure.
vim.g.catalogue_bench_changed = 0
vim.api.nvim_create_autocmd('DiagnosticChanged', {
  buffer = vim.fn.bufadd(vim.fn.fnamemodify(file, ':p')),
  command = 'let g:catalogue_bench_changed += 1',
})
local function changed()
  return vim.g.catalogue_bench_changed
end

local function ms(since)
  return (vim.uv.hrtime() - since) / 1e6
end

local t0 = vim.uv.hrtime()
vim.cmd.edit(file)
local buf = vim.api.nvim_get_current_buf()
if not vim.wait(600000, function() return changed() > 0 end, 1) then
  say('no diagnostics after 10 minutes')
  os.exit(1)
end
local first = ms(t0)
local count = #vim.diagnostic.get(buf)

-- One character into the name of a product in the middle of the file, then out again.
local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
local row
for i = math.floor(#lines / 2), #lines do
  if lines[i]:match('^name = "') then
    row = i - 1
    break
  end
end
assert(row, 'no product name line in the second half of the file')

local times = {}
for i = 1, edits do
  local before = changed()
  local t = vim.uv.hrtime()
  if i % 2 == 1 then
    vim.api.nvim_buf_set_text(buf, row, 8, row, 8, { 'x' })
  else
    vim.api.nvim_buf_set_text(buf, row, 8, row, 9, { '' })
  end
  if not vim.wait(600000, function() return changed() > before end, 1) then
    say('no diagnostics after edit ' .. i)
    os.exit(1)
  end
  times[#times + 1] = ms(t)
end
table.sort(times)
local function pct(p)
  return times[math.floor((#times - 1) * p + 0.5) + 1]
end
-- What the publication carries: diagnostics by severity, and the products
-- that need action (a line with an error or a warning: the generator puts a
-- product's problems on its header).
local sev = vim.diagnostic.severity
local by, acting = { 0, 0, 0, 0 }, {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  by[d.severity] = by[d.severity] + 1
  if d.severity <= sev.WARN then
    acting[d.lnum] = true
  end
end
say(('file: %s (%d lines), %d diagnostics (%d errors, %d warnings, %d information, %d hints); %d products need action'):format(
  file, #lines, count, by[1], by[2], by[3], by[4], vim.tbl_count(acting)))
say(('open → first diagnostics: %.0f ms'):format(first))
say(('keystroke → DiagnosticChanged (%d edits): p50 %.1f ms, p95 %.1f ms'):format(#times, pct(0.5), pct(0.95)))
for _, c in ipairs(vim.lsp.get_clients({ bufnr = buf })) do
  c:stop(true)
end
os.exit(0)
