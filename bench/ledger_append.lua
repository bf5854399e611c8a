-- bench/ledger_append.lua — wrk script: POST /v1/keys/{id}/entries (a `note` entry, which
-- any staff member may append in any state) as a logged-in staff user, each call on one of
-- the key sets given (chosen at random), so every append extends that set's hash chain.
--
--   wrk ... -s bench/ledger_append.lua URL -- TOKEN ID1,ID2,...
local token, ids
local hdrs
local seq = 0
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

init = function(args)
  token = args[1] or error("usage: -- TOKEN ID1,ID2,...")
  ids = {}
  for id in string.gmatch(args[2] or "", "[^,]+") do
    ids[#ids + 1] = id
  end
  if #ids == 0 then error("no key set ids") end
  hdrs = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  math.randomseed(os.time() * 100 + (tid or 0))
end

request = function()
  seq = seq + 1
  local id = ids[math.random(1, #ids)]
  local body = string.format('{"action":"note","purpose":"bench note %d-%d"}', tid or 0, seq)
  return wrk.format("POST", "/v1/keys/" .. id .. "/entries", hdrs, body)
end

response = function(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
