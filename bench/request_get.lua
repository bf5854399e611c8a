-- bench/request_get.lua — wrk script: GET /v1/requests/{id} as a logged-in user, at
-- random over the ids listed (one per line) in a file.
--
--   wrk ... -s bench/request_get.lua URL -- TOKEN IDS_FILE
local hdrs
local ids = {}
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

init = function(args)
  local token = args[1] or error("usage: -- TOKEN IDS_FILE")
  local file = args[2] or error("usage: -- TOKEN IDS_FILE")
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
