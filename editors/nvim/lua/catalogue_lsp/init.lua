local M = {}

--- The configured binary, as given and as found on PATH.
function M.binary()
  local bin = vim.g.catalogue_lsp_path or 'catalogue-lsp'
  return bin, vim.fn.exepath(bin)
end

--- The rule pack the binary embeds (or the one in settings), from `catalogue-lsp rules --format json`.
---@return table|nil pack, string|nil error
function M.rule_pack()
  local bin, path = M.binary()
  if path == '' then
    return nil, ('`%s` not found: install it (cargo install --path .) or set vim.g.catalogue_lsp_path'):format(bin)
  end
  local cmd = { path, 'rules', '--format', 'json' }
  local cfg = vim.lsp.config.catalogue_lsp or {}
  local rules = (((cfg.settings or {}).catalogueLsp) or {}).rules
  if rules and rules ~= '' then
    vim.list_extend(cmd, { '--rules', rules })
  end
  local out = vim.system(cmd, { text = true }):wait()
  if out.code ~= 0 then
    return nil, vim.trim(out.stderr or 'failed')
  end
  local ok, doc = pcall(vim.json.decode, out.stdout)
  if not ok then
    return nil, 'unexpected output from `catalogue-lsp rules`'
  end
  return doc.rule_pack, nil
end

--- Handler for pulled diagnostics (`textDocument/diagnostic`): Neovim's own
--- (vim.lsp.diagnostic.on_diagnostic), except that it reads only the lines
--- the diagnostics are on. Neovim 0.11's reads every line of the buffer on
--- every publication to convert positions (890 000 lines in a
--- 100 000-product catalogue, after each keystroke); the diagnostics shown
--- are the same.
---@param err lsp.ResponseError?
---@param result lsp.DocumentDiagnosticReport?
---@param ctx lsp.HandlerContext
function M.on_diagnostic(err, result, ctx)
  local uri = ctx.params and ctx.params.textDocument and ctx.params.textDocument.uri
  local bufnr = uri and vim.uri_to_bufnr(uri)
  if err ~= nil or type(result) ~= 'table' or result.kind ~= 'full' or not bufnr or not vim.api.nvim_buf_is_loaded(bufnr) then
    -- Cancelled (asked again), unchanged, or a buffer not loaded: as Neovim does it.
    return vim.lsp.diagnostic.on_diagnostic(err, result, ctx)
  end
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local encoding = client and client.offset_encoding or 'utf-16'
  local lines = {}
  local function byte(pos)
    local text = lines[pos.line]
    if not text then
      text = vim.api.nvim_buf_get_lines(bufnr, pos.line, pos.line + 1, false)[1] or ''
      lines[pos.line] = text
    end
    return vim.str_byteindex(text, encoding, pos.character, false)
  end
  local items = {}
  for i, d in ipairs(result.items or {}) do
    local tags
    for _, tag in ipairs(d.tags or {}) do
      if tag == vim.lsp.protocol.DiagnosticTag.Unnecessary then
        tags = tags or {}
        tags.unnecessary = true
      elseif tag == vim.lsp.protocol.DiagnosticTag.Deprecated then
        tags = tags or {}
        tags.deprecated = true
      end
    end
    items[i] = {
      lnum = d.range.start.line,
      col = byte(d.range.start),
      end_lnum = d.range['end'].line,
      end_col = byte(d.range['end']),
      severity = d.severity,
      message = type(d.message) == 'string' and d.message or (d.message or {}).value,
      source = d.source,
      code = d.code,
      _tags = tags,
      user_data = { lsp = d },
    }
  end
  vim.diagnostic.set(vim.lsp.diagnostic.get_namespace(ctx.client_id, true), bufnr, items)
end

--- Underlines for the lines in view. Neovim's own underline handler draws
--- every diagnostic of the buffer on every publication (one `vim.hl.range`
--- and extmark each, then reads them all back to restore them after edits):
--- 39 of the 91 ms a keystroke's answer costs Neovim in a 10 000-product
--- catalogue. For this server's namespaces it is turned off and the same
--- underlines (same highlight groups and priorities, the user's
--- `underline` option and its severity filter) are drawn by a decoration
--- provider for the lines being redrawn only. The diagnostics themselves are
--- untouched: `vim.diagnostic.get`, the quickfix and location lists, signs,
--- floats and jumps see every one.
M.underline_ns = vim.api.nvim_create_namespace('catalogue_lsp_underline')

--- Diagnostic namespaces whose underlines this module draws.
local ours = {}
--- The user's own per-namespace `underline` option, kept when it is replaced.
local user_ns_underline = {}
--- shown[bufnr][namespace] = { rows = { [row] = { diagnostic, ... } }, long = { ... }, prio = fun(severity) }
local shown = {}
--- moved[bufnr] = { { first, last_old, last_new }, ... }: the line changes since the last publication.
local moved = {}
--- Buffers whose line changes are followed (nvim_buf_attach, once per buffer).
local attached = {}
--- Diagnostics spanning more rows than this are kept in a list checked per row, not indexed per row.
local MAX_INDEXED_SPAN = 64

local underline_hl = {
  [vim.diagnostic.severity.ERROR] = 'DiagnosticUnderlineError',
  [vim.diagnostic.severity.WARN] = 'DiagnosticUnderlineWarn',
  [vim.diagnostic.severity.INFO] = 'DiagnosticUnderlineInfo',
  [vim.diagnostic.severity.HINT] = 'DiagnosticUnderlineHint',
}

--- The highlight group Neovim's underline handler would use for `d`.
---@param d vim.Diagnostic
---@return string
function M.underline_group(d)
  local group = underline_hl[d.severity] or underline_hl[vim.diagnostic.severity.ERROR]
  if d._tags then
    if d._tags.unnecessary then
      group = 'DiagnosticUnnecessary'
    end
    if d._tags.deprecated then
      group = 'DiagnosticDeprecated'
    end
  end
  return group
end

--- The extmark priority Neovim gives an underline of `severity` (severity_sort honoured).
local function priority_fn(opts)
  local base = vim.hl.priorities.diagnostics
  local sort = opts and opts.severity_sort
  if sort then
    if type(sort) == 'table' and sort.reverse then
      return function(sev) return base + (sev - vim.diagnostic.severity.ERROR) end
    end
    return function(sev) return base + (vim.diagnostic.severity.HINT - sev) end
  end
  return function() return base end
end

local function redraw(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) and #vim.fn.win_findbuf(bufnr) > 0 then
    pcall(vim.api.nvim__redraw, { buf = bufnr, valid = false })
  end
end

--- A diagnostic handler (vim.diagnostic.handlers), enabled only for this
--- server's namespaces: indexes the diagnostics M.show hands it (already
--- filtered by the severity of the user's `underline` option) by row.
local handler = {
  show = function(namespace, bufnr, diagnostics, opts)
    if not ours[namespace] then
      return
    end
    local rows, long = {}, {}
    for _, d in ipairs(diagnostics) do
      local first, last = d.lnum, d.end_lnum or d.lnum
      if last - first > MAX_INDEXED_SPAN then
        long[#long + 1] = d
      else
        for r = first, last do
          local list = rows[r]
          if list then
            list[#list + 1] = d
          else
            rows[r] = { d }
          end
        end
      end
    end
    if not attached[bufnr] then
      attached[bufnr] = true
      -- Lines added or removed before the next publication move the
      -- underlines below them, as Neovim's extmarks would (see row_before).
      vim.api.nvim_buf_attach(bufnr, false, {
        on_lines = function(_, _, _, first, last_old, last_new)
          if shown[bufnr] and last_old ~= last_new then
            local ops = moved[bufnr] or {}
            moved[bufnr] = ops
            ops[#ops + 1] = { first, last_old, last_new }
          end
        end,
        on_detach = function()
          attached[bufnr], shown[bufnr], moved[bufnr] = nil, nil, nil
        end,
      })
    end
    shown[bufnr] = shown[bufnr] or {}
    shown[bufnr][namespace] = { rows = rows, long = long, prio = priority_fn(opts) }
    moved[bufnr] = nil
    redraw(bufnr)
  end,
  hide = function(namespace, bufnr)
    local by_ns = shown[bufnr]
    if by_ns and by_ns[namespace] then
      by_ns[namespace] = nil
      if next(by_ns) == nil then
        shown[bufnr], moved[bufnr] = nil, nil
      end
      redraw(bufnr)
    end
  end,
}

--- The row `row` of `bufnr` had when the diagnostics were published, or nil
--- for a line added since.
local function row_before(bufnr, row)
  local ops = moved[bufnr]
  if not ops then
    return row
  end
  for k = #ops, 1, -1 do
    local first, last_old, last_new = ops[k][1], ops[k][2], ops[k][3]
    if row >= last_new then
      row = row - (last_new - last_old)
    elseif row >= first and row >= last_old then
      return nil
    end
  end
  return row
end

--- Draws the part of `d` on `row` (`at` on screen) as an ephemeral highlight.
local set_extmark = vim.api.nvim_buf_set_extmark
local function draw(bufnr, at, row, d, prio)
  local start_col = row == d.lnum and d.col or 0
  local opts = {
    hl_group = M.underline_group(d),
    priority = prio(d.severity),
    ephemeral = true,
    strict = false,
  }
  if row == (d.end_lnum or d.lnum) then
    opts.end_row, opts.end_col = at, d.end_col or d.col
    if opts.end_col <= start_col then
      return -- empty range: Neovim's handler draws nothing either
    end
  else
    opts.end_row, opts.end_col = at + 1, 0 -- to the end of the line, as vim.hl.range does
  end
  if M._trace then
    table.insert(M._trace, { bufnr, at, start_col, opts.end_row, opts.end_col, opts.hl_group })
  end
  pcall(set_extmark, bufnr, M.underline_ns, at, start_col, opts)
end

vim.api.nvim_set_decoration_provider(M.underline_ns, {
  on_win = function(_, _, bufnr)
    return shown[bufnr] ~= nil
  end,
  on_line = function(_, _, bufnr, at)
    local by_ns = shown[bufnr]
    local row = by_ns and row_before(bufnr, at)
    if not row then
      return
    end
    for _, s in pairs(by_ns) do
      local list = s.rows[row]
      if list then
        for _, d in ipairs(list) do
          draw(bufnr, at, row, d, s.prio)
        end
      end
      for _, d in ipairs(s.long) do
        if d.lnum <= row and row <= d.end_lnum then
          draw(bufnr, at, row, d, s.prio)
        end
      end
    end
  end,
})

vim.diagnostic.handlers.catalogue_lsp_underline = handler

--- The user's `underline` option for `namespace` (their per-namespace one,
--- else the global one; a function is called), for this module's handler.
local function user_underline(namespace, bufnr)
  local u = user_ns_underline[namespace]
  if u == nil then
    u = vim.diagnostic.config().underline
  end
  if type(u) == 'function' then
    u = u(namespace, bufnr)
  end
  return u
end

--- Draws the underlines of `namespace` for the lines in view only (see
--- M.underline_ns). Set vim.g.catalogue_lsp_viewport_underline = false to
--- keep Neovim's own underline handler.
---@param namespace integer
function M.underline_in_view(namespace)
  if ours[namespace] or vim.g.catalogue_lsp_viewport_underline == false then
    return
  end
  ours[namespace] = true
  local ns_opts = vim.diagnostic.config(nil, namespace) or {}
  user_ns_underline[namespace] = ns_opts.underline
  vim.diagnostic.config({ underline = false, catalogue_lsp_underline = user_underline }, namespace)
end

--- Set to a table, the underlines drawn are appended to it as { bufnr, row,
--- col, end_row, end_col, hl_group } (for tests).
M._trace = nil

--- The underlines this module drew on `row` of `bufnr` in the last redraw
--- would be: the diagnostics it holds for that row (for tests and :checkhealth).
---@return vim.Diagnostic[]
function M.underlined_at(bufnr, row)
  local out = {}
  for _, s in pairs(shown[bufnr] or {}) do
    vim.list_extend(out, s.rows[row] or {})
    for _, d in ipairs(s.long) do
      if d.lnum <= row and row <= d.end_lnum then
        out[#out + 1] = d
      end
    end
  end
  return out
end

--- The namespace of the verdict hints (virtual text after each `[[product]]` header).
M.namespace = vim.api.nvim_create_namespace('catalogue_lsp_verdicts')

--- Requests the verdict hints for the lines the buffer's windows show and
--- draws them. Neovim's own inlay hints ask for the whole buffer after every
--- change (100 000 hints in a 100 000-product catalogue, decoded on the main
--- loop); the server answers any range, so only what can be seen is asked.
---@param client vim.lsp.Client
---@param bufnr integer
function M.refresh_hints(client, bufnr)
  local first, last
  for _, win in ipairs(vim.fn.win_findbuf(bufnr)) do
    local a, b = vim.fn.line('w0', win), vim.fn.line('w$', win)
    first, last = math.min(first or a, a), math.max(last or b, b)
  end
  if not first then
    return
  end
  local tick = vim.b[bufnr].changedtick
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = { start = { line = first - 1, character = 0 }, ['end'] = { line = last, character = 0 } },
  }
  client:request('textDocument/inlayHint', params, function(err, result)
    -- A newer change asks again: an answer for older text is dropped.
    if err or not vim.api.nvim_buf_is_valid(bufnr) or vim.b[bufnr].changedtick ~= tick then
      return
    end
    vim.api.nvim_buf_clear_namespace(bufnr, M.namespace, 0, -1)
    for _, h in ipairs(result or {}) do
      local label = h.label
      if type(label) == 'table' then
        label = table.concat(vim.tbl_map(function(p) return p.value end, label))
      end
      local line = h.position.line
      local text = vim.api.nvim_buf_get_lines(bufnr, line, line + 1, false)[1] or ''
      local ok, col = pcall(vim.str_byteindex, text, client.offset_encoding, h.position.character, false)
      vim.api.nvim_buf_set_extmark(bufnr, M.namespace, line, ok and math.min(col, #text) or #text, {
        virt_text = { { ' ' .. label, 'LspInlayHint' } },
        virt_text_pos = 'inline',
        strict = false,
      })
    end
  end, bufnr)
end

--- The verdict hint drawn on `line` (0-based) of `bufnr`, if any.
---@return string|nil
function M.hint_at(bufnr, line)
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, M.namespace, { line, 0 }, { line, -1 }, { details = true })) do
    local vt = m[4].virt_text
    if vt and vt[1] then
      return vim.trim(vt[1][1])
    end
  end
end

--- Shows each product's verdict in a catalogue buffer (contract §11): an
--- inlay hint after each `[[product]]` header in view, asked again when
--- new diagnostics come and when the view scrolls, and code lenses, refreshed when the buffer is
--- entered, when the cursor rests and when insert mode ends (not on every
--- keystroke: the lenses of a large catalogue weigh a megabyte).
---@param client vim.lsp.Client
---@param bufnr integer
function M.show_verdicts(client, bufnr)
  if client:supports_method('textDocument/inlayHint', bufnr) then
    local group = vim.api.nvim_create_augroup('catalogue_lsp_hints_' .. bufnr, { clear = true })
    -- Asked again when the analysis changed (its diagnostics came), so the
    -- hints are those of the text the server analysed.
    -- A command, not a Lua callback: Neovim converts the event's data (every
    -- diagnostic of the publication) into a Lua table for each Lua callback,
    -- ~9 ms per publication at 10 000 products; a command gets none.
    vim.api.nvim_create_autocmd('DiagnosticChanged', {
      group = group,
      buffer = bufnr,
      command = ('lua require("catalogue_lsp")._diagnostics_changed(%d, %d)'):format(client.id, bufnr),
    })
    vim.api.nvim_create_autocmd({ 'BufEnter', 'WinScrolled', 'WinResized' }, {
      group = group,
      buffer = bufnr,
      callback = function()
        M.refresh_hints(client, bufnr)
      end,
    })
    M.refresh_hints(client, bufnr)
  end
  if client:supports_method('textDocument/codeLens', bufnr) then
    vim.lsp.codelens.refresh({ bufnr = bufnr })
    local group = vim.api.nvim_create_augroup('catalogue_lsp_codelens_' .. bufnr, { clear = true })
    vim.api.nvim_create_autocmd({ 'BufEnter', 'CursorHold', 'InsertLeave' }, {
      group = group,
      buffer = bufnr,
      callback = function()
        vim.lsp.codelens.refresh({ bufnr = bufnr })
      end,
    })
  end
end

--- DiagnosticChanged in a buffer showing verdicts: asks its hints again.
function M._diagnostics_changed(client_id, bufnr)
  local client = vim.lsp.get_client_by_id(client_id)
  if client and vim.api.nvim_buf_is_valid(bufnr) then
    M.refresh_hints(client, bufnr)
  end
end

--- Calls show_verdicts whenever the catalogue_lsp client attaches to a
--- buffer (an LspAttach autocommand: a user's own on_attach stays theirs).
--- Set vim.g.catalogue_lsp_verdicts = false to keep them hidden.
function M.setup_attach()
  local group = vim.api.nvim_create_augroup('catalogue_lsp_attach', { clear = true })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if not client or client.name ~= 'catalogue_lsp' then
        return
      end
      -- Underlines drawn for the lines in view (pulled and pushed namespaces).
      M.underline_in_view(vim.lsp.diagnostic.get_namespace(client.id, true))
      M.underline_in_view(vim.lsp.diagnostic.get_namespace(client.id, false))
      if vim.g.catalogue_lsp_verdicts ~= false then
        M.show_verdicts(client, ev.buf)
      end
    end,
  })
end

--- Lines describing the set-up, for :CatalogueLspInfo.
function M.info()
  local bin, path = M.binary()
  local lines = { ('binary: %s (%s)'):format(bin, path ~= '' and path or 'not found') }
  local pack, err = M.rule_pack()
  if pack then
    table.insert(lines, ('rule pack: %s %s, reviewed through %s, sha256 %s'):format(pack.id, pack.version, pack.reviewed_through, pack.sha256))
  else
    table.insert(lines, 'rule pack: ' .. err)
  end
  for _, c in ipairs(vim.lsp.get_clients({ name = 'catalogue_lsp' })) do
    table.insert(lines, ('client %d: position encoding %s, root %s'):format(c.id, c.offset_encoding, c.root_dir or '-'))
  end
  return lines
end

return M
