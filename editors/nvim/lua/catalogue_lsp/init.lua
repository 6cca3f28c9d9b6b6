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

--- Shows each product's verdict in a catalogue buffer (contract §11): inlay
--- hints after each `[[product]]` header, and code lenses, refreshed when
--- the buffer is entered, when the cursor rests and when insert mode ends
--- (not on every keystroke: the lenses of a large catalogue weigh a megabyte).
---@param client vim.lsp.Client
---@param bufnr integer
function M.show_verdicts(client, bufnr)
  if client:supports_method('textDocument/inlayHint', bufnr) then
    vim.lsp.inlay_hint.enable(true, { bufnr = bufnr })
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

--- Calls show_verdicts whenever the catalogue_lsp client attaches to a
--- buffer (an LspAttach autocommand: a user's own on_attach stays theirs).
--- Set vim.g.catalogue_lsp_verdicts = false to keep them hidden.
function M.setup_attach()
  local group = vim.api.nvim_create_augroup('catalogue_lsp_attach', { clear = true })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == 'catalogue_lsp' and vim.g.catalogue_lsp_verdicts ~= false then
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
