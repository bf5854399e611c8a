-- bench/request_get_n.lua — like request_get.lua (GET /v1/requests/{id} at random over the
-- ids in a file), but each wrk thread stops after COUNT responses: a fixed amount of work,
-- for counting what deskd does per request (context switches, futex calls), not for speed.
--
--   wrk -t2 -c64 -d600s ... -s bench/request_get_n.lua URL -- TOKEN IDS_FILE COUNT_PER_THREAD
local hdrs
local ids = {}
local threads = 0
local limit
local seen = 0

setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

init = function(args)
  local token = args[1] or error("usage: -- TOKEN IDS_FILE COUNT")
  local file = args[2] or error("usage: -- TOKEN IDS_FILE COUNT")
  limit = tonumber(args[3] or error("usage: -- TOKEN IDS_FILE COUNT"))
  hdrs = { ["Authorization"] = "Bearer " .. token }
  for line in io.lines(file) do
    if #line == 36 then ids[#ids + 1] = "/v1/requests/" .. line end
  end
  if #ids == 0 then error("no ids in " .. file) end
  math.randomseed(os.time() * 100 + (tid or 0))
end

request = function()
  return wrk.format("GET", ids[math.random(1, #ids)], hdrs)
end

response = function(status, headers, body)
  seen = seen + 1
  if seen >= limit then wrk.thread:stop() end
end
