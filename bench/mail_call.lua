-- bench/mail_call.lua — wrk script: POST /v1/mail/{id}/entries, a `call` entry (the desk
-- phoned the recipient about an uncollected item), as a logged-in desk user, each call on
-- one of the mail items listed (one id per line, chosen at random): every request locks its
-- item, extends that item's hash chain and stores the derived state in one transaction.
--
--   wrk ... -s bench/mail_call.lua URL -- TOKEN IDS_FILE
local hdrs
local paths = {}
local seq = 0
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

init = function(args)
  local token = args[1] or error("usage: -- TOKEN IDS_FILE")
  local file = args[2] or error("usage: -- TOKEN IDS_FILE")
  hdrs = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  for line in io.lines(file) do
    if #line == 36 then paths[#paths + 1] = "/v1/mail/" .. line .. "/entries" end
  end
  if #paths == 0 then error("no ids in " .. file) end
  math.randomseed(os.time() * 100 + (tid or 0))
end

request = function()
  seq = seq + 1
  local body = string.format(
    '{"action":"call","reached":false,"purpose":"电话通知取件，无人接听（%d-%d）"}', tid or 0, seq)
  return wrk.format("POST", paths[math.random(1, #paths)], hdrs, body)
end

response = function(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
