-- :CatalogueLspInfo — which binary and rule pack the catalogue-lsp client uses.
if vim.g.loaded_catalogue_lsp then
  return
end
vim.g.loaded_catalogue_lsp = true

vim.api.nvim_create_user_command('CatalogueLspInfo', function()
  local lines = require('catalogue_lsp').info()
  vim.api.nvim_echo(vim.tbl_map(function(l) return { l .. '\n' } end, lines), false, {})
end, { desc = 'Show the catalogue-lsp binary, rule pack and attached clients' })
