-- One fixed request for wrk, described by the environment so one script serves every benchmark:
-- WRK_METHOD (GET, OPTIONS, POST...), WRK_HEADERS ("Name: value" lines), WRK_BODY.
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
