-- One request for wrk, described by the environment so one script serves every benchmark:
-- WRK_METHOD (GET, OPTIONS, POST...), WRK_HEADERS ("Name: value" lines), WRK_BODY, and
-- WRK_VARY=1 to add "n=<counter>" to the URL's query, so no two requests are the same.
wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY") or ""
if body ~= "" then
  wrk.body = body
end
for line in string.gmatch(os.getenv("WRK_HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end
if os.getenv("WRK_VARY") == "1" then
  local counter = 0
  local joiner = string.find(wrk.path, "?", 1, true) and "&n=" or "?n="
  request = function()
    counter = counter + 1
    return wrk.format(nil, wrk.path .. joiner .. counter)
  end
end
