-- bench/request_list.lua — GET over a fixed set of URLs, one picked at random per request.
-- The file has one line per URL: "TOKEN<TAB>PATH" (each line carries its own bearer token,
-- so one run can mix roles and scopes).
--
--   wrk -t2 -c16 -d10s --latency -s bench/request_list.lua URL -- URLS_FILE
local reqs = {}
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

init = function(args)
  local file = args[1] or error("usage: -- URLS_FILE")
  for line in io.lines(file) do
    local tok, path = line:match("^([^\t]+)\t(.+)$")
    if tok then
      reqs[#reqs + 1] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tok })
    end
  end
  if #reqs == 0 then error("no URLs in " .. file) end
  math.randomseed(os.time() * 100 + (tid or 0))
end

request = function()
  return reqs[math.random(1, #reqs)]
end
