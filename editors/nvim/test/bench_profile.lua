-- Where a keystroke's time goes in real Neovim (headless) with the project's config:
--   nvim --headless --clean -l editors/nvim/test/bench_profile.lua BIN REPO FILE [EDITS]
-- Edits as bench.lua does (normal mode, no debounce) and prints the p50 of:
--   edit → pulled answer handed to the handler (the server, the pipe, Neovim
--   decoding the JSON and whatever else its main loop had queued);
--   the handler (converting, then vim.diagnostic.set: cache, drawing, the
--   DiagnosticChanged autocommands), and inside it the drawing of signs and
--   underlines (each display handler's show, the config's underline handler
--   included); then, once, reading every line of the buffer (what Neovim's
--   own handler does per answer) and decoding the last answer's JSON.
-- NEOVIM_HANDLER=1 uses Neovim's own handler for pulled diagnostics.
local bin, repo, file, edits = arg[1], arg[2], arg[3], tonumber(arg[4] or '30')
assert(bin and repo and file, 'usage: bench_profile.lua BIN REPO FILE [EDITS]')
vim.opt.rtp:prepend(repo .. '/editors/nvim')
vim.g.catalogue_lsp_path = bin
local now = vim.uv.hrtime
local times = {}
local function add(k, ms)
  times[k] = times[k] or {}
  table.insert(times[k], ms)
end
local t_edit
local handler = os.getenv('NEOVIM_HANDLER') and vim.lsp.diagnostic.on_diagnostic
  or require('catalogue_lsp').on_diagnostic
vim.lsp.config('catalogue_lsp', {
  flags = { debounce_text_changes = 0 },
  handlers = {
    ['textDocument/diagnostic'] = function(err, result, ctx, cfg)
      local t = now()
      if t_edit then
        add('edit → answer in the handler', (t - t_edit) / 1e6)
      end
      local r = handler(err, result, ctx, cfg)
      add('handler', (now() - t) / 1e6)
      return r
    end,
  },
})
local set = vim.diagnostic.set
vim.diagnostic.set = function(...)
  local t = now()
  set(...)
  add('  vim.diagnostic.set', (now() - t) / 1e6)
end
local show = vim.diagnostic.show
vim.diagnostic.show = function(...)
  local t = now()
  show(...)
  add('    vim.diagnostic.show', (now() - t) / 1e6)
end
vim.lsp.enable('catalogue_lsp')
-- Each display handler's show (the config's underline handler registers on load).
require('catalogue_lsp')
local handler_names = {}
for name, h in pairs(vim.diagnostic.handlers) do
  if h.show then
    local show_h = h.show
    table.insert(handler_names, '      drawing ' .. name)
    h.show = function(...)
      local t = now()
      show_h(...)
      add('      drawing ' .. name, (now() - t) / 1e6)
    end
  end
end
table.sort(handler_names)
vim.g.catalogue_bench_changed = 0
-- A command, not a Lua callback (see bench.lua).
vim.api.nvim_create_autocmd("DiagnosticChanged", { command = "let g:catalogue_bench_changed += 1" })
local function changed()
  return vim.g.catalogue_bench_changed
end
vim.cmd.edit(file)
local buf = vim.api.nvim_get_current_buf()
assert(vim.wait(600000, function() return changed() > 0 end, 1), 'no diagnostics')
vim.wait(300)
times = {}
local count = vim.api.nvim_buf_line_count(buf)
local row = math.floor(count / 2)
while not (vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or 'name = "'):match('^name = "') do
  row = row + 1
end
for i = 1, edits do
  local before = changed()
  t_edit = now()
  if i % 2 == 1 then
    vim.api.nvim_buf_set_text(buf, row, 8, row, 8, { 'x' })
  else
    vim.api.nvim_buf_set_text(buf, row, 8, row, 9, { '' })
  end
  assert(vim.wait(600000, function() return changed() > before end, 1), 'no diagnostics after an edit')
  add('edit → DiagnosticChanged', (now() - t_edit) / 1e6)
  t_edit = nil
  vim.wait(20)
end
local t = now()
vim.api.nvim_buf_get_lines(buf, 0, -1, false)
add('reading every line of the buffer', (now() - t) / 1e6)
local items = vim.tbl_map(function(d) return d.user_data.lsp end, vim.diagnostic.get(buf))
local json = vim.json.encode({ jsonrpc = '2.0', id = 1, result = { kind = 'full', items = items } })
t = now()
vim.json.decode(json, { luanil = { object = true } })
add(('decoding the answer (%.1f MB)'):format(#json / 1e6), (now() - t) / 1e6)
local out = { ('%s: %d lines, %d diagnostics, %d edits'):format(file, count, #items, edits) }
local keys = { 'edit → DiagnosticChanged', 'edit → answer in the handler', 'handler', '  vim.diagnostic.set', '    vim.diagnostic.show' }
vim.list_extend(keys, handler_names)
table.insert(keys, 'reading every line of the buffer')
for _, k in ipairs(keys) do
  local v = times[k]
  if v then
    table.sort(v)
    table.insert(out, ('%-34s p50 %7.1f ms'):format(k, v[math.floor((#v + 1) / 2)]))
  end
end
for k, v in pairs(times) do
  if k:match('^decoding') then
    table.insert(out, ('%-34s %7.1f ms'):format(k, v[1]))
  end
end
io.stdout:write(table.concat(out, '\n') .. '\n')
for _, c in ipairs(vim.lsp.get_clients()) do
  c:stop(true)
end
os.exit(0)
