-- :checkhealth catalogue_lsp
local M = {}

function M.check()
  vim.health.start('catalogue-lsp')
  if vim.fn.has('nvim-0.11') == 0 then
    vim.health.error('Neovim 0.11 or later is needed for vim.lsp.config / vim.lsp.enable')
  else
    vim.health.ok('Neovim ' .. tostring(vim.version()))
  end
  local cl = require('catalogue_lsp')
  local bin, path = cl.binary()
  if path == '' then
    vim.health.error(('`%s` not found'):format(bin), { 'cargo install --path . (in the catalogue-lsp repository)', 'or set vim.g.catalogue_lsp_path' })
    return
  end
  vim.health.ok('binary: ' .. path)
  local pack, err = cl.rule_pack()
  if pack then
    vim.health.ok(('rule pack: %s %s (reviewed through %s)'):format(pack.id, pack.version, pack.reviewed_through))
  else
    vim.health.error('rule pack: ' .. err)
  end
  if not vim.lsp.is_enabled or not vim.lsp.is_enabled('catalogue_lsp') then
    vim.health.warn("not enabled: add vim.lsp.enable('catalogue_lsp') to your config")
  else
    vim.health.ok('enabled for *.catalogue.toml and catalogue.toml')
  end
end

return M
