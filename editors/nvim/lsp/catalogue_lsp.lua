-- catalogue-lsp for Neovim 0.11+: export-control diagnostics, hovers and quick
-- fixes for rare-earth product catalogues (*.catalogue.toml, catalogue.toml,
-- and CSV: *.catalogue.csv, *.licences.csv, *.shipments.csv).
--
-- Put this directory on 'runtimepath' and write:  vim.lsp.enable('catalogue_lsp')
-- Override anything with vim.lsp.config('catalogue_lsp', { ... }).

---@param name string
---@return boolean
local function is_catalogue(name)
  return name:match('%.catalogue%.toml$') ~= nil
    or vim.fs.basename(name) == 'catalogue.toml'
    or name:match('%.catalogue%.csv$') ~= nil
    or name:match('%.licences%.csv$') ~= nil
    or name:match('%.shipments%.csv$') ~= nil
end

-- Each product's verdict as an inlay hint and a code lens in catalogue
-- buffers (vim.g.catalogue_lsp_verdicts = false turns them off).
require('catalogue_lsp').setup_attach()

---@type vim.lsp.Config
return {
  -- The binary: g:catalogue_lsp_path, else `catalogue-lsp` on PATH.
  cmd = function(dispatchers)
    local bin = vim.g.catalogue_lsp_path or 'catalogue-lsp'
    return vim.lsp.rpc.start({ bin, 'serve' }, dispatchers)
  end,
  filetypes = { 'toml', 'csv' },
  -- Attach only to catalogue files, not to every TOML or CSV buffer (taplo may share the buffer).
  root_dir = function(bufnr, on_dir)
    local name = vim.api.nvim_buf_get_name(bufnr)
    if not is_catalogue(name) then
      return
    end
    on_dir(vim.fs.root(bufnr, { '.git', 'catalogue.toml' }) or vim.fs.dirname(name))
  end,
  -- Mirrored to the server as initializationOptions and workspace/didChangeConfiguration.
  -- asOf = 'YYYY-MM-DD', rules = 'path/to/pack.toml', severity = { ['missing-licence'] = 'warning' }
  -- (the `controlled` and `excluded` marks are off: severity = { controlled = 'information' } turns them on)
  settings = { catalogueLsp = {} },
  -- Pulled diagnostics converted without reading the whole buffer (see catalogue_lsp.on_diagnostic).
  handlers = {
    ['textDocument/diagnostic'] = function(...)
      return require('catalogue_lsp').on_diagnostic(...)
    end,
  },
  before_init = function(params, config)
    params.initializationOptions = (config.settings or {}).catalogueLsp or {}
  end,
}
